# Private part of QemuDockerImages: the per-image features of QEMU's
# docker.py (the current user, executables with their libraries, NAME.pre
# scripts) and the pictures and listings of the image graph.

include_guard(GLOBAL)

# "NAME:UID" of the user to add: QEMU_DOCKER_IMAGES_CURRENT_USER, else the
# user running CMake.
function(_qdi_current_user out_var)
  get_property(user GLOBAL PROPERTY _QDI_CURRENT_USER)
  if(NOT user)
    set(user "${QEMU_DOCKER_IMAGES_CURRENT_USER}")
  endif()
  if(NOT user)
    execute_process(COMMAND id -un OUTPUT_VARIABLE name
      OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE name_result)
    execute_process(COMMAND id -u OUTPUT_VARIABLE uid
      OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE uid_result)
    if(NOT name_result EQUAL 0 OR NOT uid_result EQUAL 0)
      message(FATAL_ERROR
        "QemuDockerImages: cannot tell the current user ('id -un' and "
        "'id -u' failed); set QEMU_DOCKER_IMAGES_CURRENT_USER to NAME:UID")
    endif()
    set(user "${name}:${uid}")
  endif()
  if(NOT user MATCHES "^[A-Za-z0-9_][A-Za-z0-9._-]*:[0-9]+$")
    message(FATAL_ERROR
      "QemuDockerImages: QEMU_DOCKER_IMAGES_CURRENT_USER is '${user}', "
      "which is not NAME:UID; give a user name and a numeric uid")
  endif()
  set_property(GLOBAL PROPERTY _QDI_CURRENT_USER "${user}")
  set(${out_var} "${user}" PARENT_SCOPE)
endfunction()

function(_qdi_adds_user image out_var)
  get_property(mode GLOBAL PROPERTY _QDI_${image}_user)
  if("${mode}" STREQUAL "")
    set(mode "${QEMU_DOCKER_IMAGES_ADD_CURRENT_USER}")
  endif()
  set(${out_var} "${mode}" PARENT_SCOPE)
endfunction()

# The helper's options for these features of one image, whose file's name
# is `stem`.
function(_qdi_feature_settings_args image stem out_var)
  set(args "")
  get_property(executables GLOBAL PROPERTY _QDI_${image}_executables)
  foreach(executable IN LISTS executables)
    list(APPEND args --image-executable "${stem}" "${executable}")
  endforeach()
  _qdi_adds_user(${image} adds_user)
  if(adds_user)
    _qdi_current_user(user)
    list(APPEND args --image-add-user "${stem}" "${user}")
  endif()
  set(${out_var} "${args}" PARENT_SCOPE)
endfunction()

# The NAME.pre scripts of the image and of its local bases, transitively,
# that exist at configure time: a base's script is part of the image's
# checksum too.  A script added later changes the scan's output, which runs
# CMake again and so makes the script a dependency; edits of known
# scripts are in the depfile.
function(_qdi_pre_scripts image out_var)
  # Remembered per image, or a deep chain would be walked once per level.
  get_property(known GLOBAL PROPERTY _QDI_${image}_pre_scripts SET)
  if(known)
    get_property(scripts GLOBAL PROPERTY _QDI_${image}_pre_scripts)
    set(${out_var} "${scripts}" PARENT_SCOPE)
    return()
  endif()
  get_property(dockerfile GLOBAL PROPERTY _QDI_${image}_dockerfile)
  get_filename_component(dir "${dockerfile}" DIRECTORY)
  get_filename_component(stem "${dockerfile}" NAME_WLE)
  set(scripts "")
  if(EXISTS "${dir}/${stem}.pre")
    list(APPEND scripts "${dir}/${stem}.pre")
  endif()
  _qdi_image_bases(${image} bases)
  foreach(base IN LISTS bases)
    _qdi_pre_scripts(${base} base_scripts)
    list(APPEND scripts ${base_scripts})
  endforeach()
  list(REMOVE_DUPLICATES scripts)
  set_property(GLOBAL PROPERTY _QDI_${image}_pre_scripts "${scripts}")
  set(${out_var} "${scripts}" PARENT_SCOPE)
endfunction()

# docker-images-graph writes the graph with each image's state, as DOT and,
# where Graphviz is installed, SVG and PNG; docker-images-list prints it as
# a table.  Both first make every checksum current, or "stale" would be
# judged against checksums of older Dockerfiles.
function(_qdi_add_graph_targets helper helper_depends state settings_args)
  get_property(images GLOBAL PROPERTY _QDI_IMAGES)
  set(checked "")
  set(virtual_args "")
  foreach(image IN LISTS images)
    get_property(done GLOBAL PROPERTY _QDI_${image}_done)
    list(APPEND checked "${done}")
    _qdi_virtual_stem(${image} stem)
    if(stem)
      get_property(dockerfile GLOBAL PROPERTY _QDI_${image}_dockerfile)
      list(APPEND virtual_args --virtual-image ${image} "${dockerfile}")
    endif()
  endforeach()
  set(graph "${helper}" graph "--state-dir=${state}" ${settings_args}
    ${virtual_args})
  find_program(QEMU_DOCKER_IMAGES_DOT dot
    DOC "Graphviz's dot, which draws docker-images-graph as SVG and PNG")
  set(pictures "")
  set(written "${state}/images.dot")
  if(QEMU_DOCKER_IMAGES_DOT)
    string(APPEND written ", images.svg and images.png")
    set(pictures
      COMMAND "${QEMU_DOCKER_IMAGES_DOT}" -Tsvg -o "${state}/images.svg"
        "${state}/images.dot"
      COMMAND "${QEMU_DOCKER_IMAGES_DOT}" -Tpng -o "${state}/images.png"
        "${state}/images.dot")
  endif()
  add_custom_target(docker-images-graph
    COMMAND ${graph} --format dot -o "${state}/images.dot"
    ${pictures}
    COMMAND "${CMAKE_COMMAND}" -E echo "The image graph is in ${written}"
    DEPENDS ${checked} ${helper_depends}
    VERBATIM)
  add_custom_target(docker-images-list
    COMMAND ${graph} --format text
    DEPENDS ${checked} ${helper_depends}
    USES_TERMINAL VERBATIM)
endfunction()
