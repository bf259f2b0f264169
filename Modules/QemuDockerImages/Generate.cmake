# Private part of QemuDockerImages: finds the helper and the engine, reads
# the image graph with one helper process, and makes the custom commands
# and targets.  Nothing here is meant to be called by users.

include_guard(GLOBAL)

include("${CMAKE_CURRENT_LIST_DIR}/Features.cmake")
include("${CMAKE_CURRENT_LIST_DIR}/Tests.cmake")

# The helper run at configure time.  A helper that is a target of this very
# project does not exist yet, so a copy is built once, beside the build.
function(_qdi_configure_helper out_var)
  if(QEMU_DOCKER_IMAGES_HELPER)
    if(NOT EXISTS "${QEMU_DOCKER_IMAGES_HELPER}")
      message(FATAL_ERROR
        "QemuDockerImages: QEMU_DOCKER_IMAGES_HELPER is "
        "'${QEMU_DOCKER_IMAGES_HELPER}', which does not exist; build or "
        "install qemu-docker-images, or empty the option to find it "
        "automatically")
    endif()
    set(${out_var} "${QEMU_DOCKER_IMAGES_HELPER}" PARENT_SCOPE)
    return()
  endif()
  if(TARGET QemuDockerImages::qemu-docker-images)
    get_target_property(imported QemuDockerImages::qemu-docker-images
      IMPORTED)
    if(imported)
      _qdi_imported_location(location)
      set(${out_var} "${location}" PARENT_SCOPE)
      return()
    endif()
  endif()
  if(NOT TARGET qemu-docker-images)
    message(FATAL_ERROR
      "QemuDockerImages: the qemu-docker-images helper is missing; use "
      "find_package(QemuDockerImages) or set QEMU_DOCKER_IMAGES_HELPER to "
      "its path")
  endif()
  _qdi_build_configure_helper(helper)
  set(${out_var} "${helper}" PARENT_SCOPE)
endfunction()

function(_qdi_imported_location out_var)
  set(target QemuDockerImages::qemu-docker-images)
  get_target_property(location ${target} IMPORTED_LOCATION)
  if(NOT location)
    get_target_property(configs ${target} IMPORTED_CONFIGURATIONS)
    list(GET configs 0 config)
    get_target_property(location ${target} IMPORTED_LOCATION_${config})
  endif()
  set(${out_var} "${location}" PARENT_SCOPE)
endfunction()

function(_qdi_build_configure_helper out_var)
  get_filename_component(source "${_QEMU_DOCKER_IMAGES_MODULE_DIR}/.."
    ABSOLUTE)
  set(build "${CMAKE_BINARY_DIR}/_qemu_docker_images_helper")
  message(STATUS "QemuDockerImages: building the helper for configure time")
  execute_process(
    COMMAND "${CMAKE_COMMAND}" -S "${source}" -B "${build}"
      -G "${CMAKE_GENERATOR}" -DBUILD_TESTING=OFF
      -DCMAKE_BUILD_TYPE=Release
    RESULT_VARIABLE configured OUTPUT_QUIET ERROR_VARIABLE errors)
  if(configured EQUAL 0)
    execute_process(
      COMMAND "${CMAKE_COMMAND}" --build "${build}"
        --target qemu-docker-images
      RESULT_VARIABLE built OUTPUT_VARIABLE errors ERROR_VARIABLE errors)
  endif()
  if(NOT configured EQUAL 0 OR NOT built EQUAL 0)
    message(FATAL_ERROR
      "QemuDockerImages: building the helper in ${build} failed:\n${errors}")
  endif()
  set(${out_var} "${build}/helper/qemu-docker-images" PARENT_SCOPE)
endfunction()

# The helper in build-time commands, and what those commands depend on.
function(_qdi_build_helper out_command out_depends configure_helper)
  if(TARGET qemu-docker-images AND NOT QEMU_DOCKER_IMAGES_HELPER)
    get_target_property(imported qemu-docker-images IMPORTED)
    if(NOT imported)
      set(${out_command} "$<TARGET_FILE:qemu-docker-images>" PARENT_SCOPE)
      set(${out_depends} qemu-docker-images PARENT_SCOPE)
      return()
    endif()
  endif()
  set(${out_command} "${configure_helper}" PARENT_SCOPE)
  set(${out_depends} "${configure_helper}" PARENT_SCOPE)
endfunction()

# "auto" takes a Docker daemon that answers, else Podman.
function(_qdi_resolve_engine out_var)
  set(engine "${QEMU_DOCKER_IMAGES_ENGINE}")
  if(engine STREQUAL "auto")
    find_program(_QDI_DOCKER docker)
    if(_QDI_DOCKER)
      execute_process(COMMAND "${_QDI_DOCKER}" info
        RESULT_VARIABLE answered OUTPUT_QUIET ERROR_QUIET TIMEOUT 30)
      if(answered EQUAL 0)
        set(${out_var} "${_QDI_DOCKER}" PARENT_SCOPE)
        return()
      endif()
    endif()
    find_program(_QDI_PODMAN podman)
    if(_QDI_PODMAN)
      set(${out_var} "${_QDI_PODMAN}" PARENT_SCOPE)
      return()
    endif()
    message(FATAL_ERROR
      "QemuDockerImages: no container engine: 'docker info' does not "
      "answer and podman is not installed; start Docker, install podman, "
      "or set QEMU_DOCKER_IMAGES_ENGINE")
  endif()
  if(engine STREQUAL "docker" OR engine STREQUAL "podman")
    find_program(_QDI_ENGINE_${engine} ${engine})
    if(NOT _QDI_ENGINE_${engine})
      message(FATAL_ERROR
        "QemuDockerImages: QEMU_DOCKER_IMAGES_ENGINE is '${engine}', but "
        "'${engine}' is not installed; install it or choose another engine")
    endif()
    set(${out_var} "${_QDI_ENGINE_${engine}}" PARENT_SCOPE)
    return()
  endif()
  if(NOT EXISTS "${engine}")
    message(FATAL_ERROR
      "QemuDockerImages: QEMU_DOCKER_IMAGES_ENGINE is '${engine}', which is "
      "neither auto, docker, podman nor an existing command")
  endif()
  set(${out_var} "${engine}" PARENT_SCOPE)
endfunction()

# Options that say how each image is read; every image's own options are
# passed, since any of them may be a base of the image at hand.  A
# "virtual" image's are not: see _qdi_own_settings_args.
function(_qdi_settings_args out_var)
  get_property(images GLOBAL PROPERTY _QDI_IMAGES)
  _qdi_search_dir_args(args)
  foreach(image IN LISTS images)
    _qdi_image_settings_args(${image} image_args)
    set_property(GLOBAL PROPERTY _QDI_${image}_settings_args "${image_args}")
    _qdi_virtual_stem(${image} stem)
    if(NOT stem)
      list(APPEND args ${image_args})
    endif()
  endforeach()
  set(${out_var} "${args}" PARENT_SCOPE)
endfunction()

function(_qdi_search_dir_args out_var)
  get_property(dirs GLOBAL PROPERTY _QDI_SEARCH_DIRS)
  set(args "")
  foreach(dir IN LISTS dirs)
    list(APPEND args "--search-dir=${dir}")
  endforeach()
  set(${out_var} "${args}" PARENT_SCOPE)
endfunction()

# The name of the file of a "virtual" image, whose own name differs from
# it; empty for every other image.
function(_qdi_virtual_stem image out_var)
  get_property(dockerfile GLOBAL PROPERTY _QDI_${image}_dockerfile)
  get_filename_component(stem "${dockerfile}" NAME_WLE)
  if(stem STREQUAL image)
    set(stem "")
  endif()
  set(${out_var} "${stem}" PARENT_SCOPE)
endfunction()

# The helper knows images by their file's name, so the options of two
# images on one file (QEMU builds debian-toolchain.docker as
# debian-nios2-cross and as debian-microblaze-cross, each with its own
# build-toolchain.sh) would merge under that name.  A virtual image is
# never a base, so its options go to its own steps only, in place of those
# of the image named like its file.
function(_qdi_own_settings_args image settings_args out_var)
  _qdi_virtual_stem(${image} own_stem)
  if(NOT own_stem)
    set(${out_var} "${settings_args}" PARENT_SCOPE)
    return()
  endif()
  get_property(images GLOBAL PROPERTY _QDI_IMAGES)
  _qdi_search_dir_args(args)
  foreach(other IN LISTS images)
    _qdi_virtual_stem(${other} stem)
    if(NOT stem AND NOT other STREQUAL own_stem)
      get_property(image_args GLOBAL PROPERTY _QDI_${other}_settings_args)
      list(APPEND args ${image_args})
    endif()
  endforeach()
  get_property(image_args GLOBAL PROPERTY _QDI_${image}_settings_args)
  list(APPEND args ${image_args})
  set(${out_var} "${args}" PARENT_SCOPE)
endfunction()

function(_qdi_image_settings_args image out_var)
  get_property(dockerfile GLOBAL PROPERTY _QDI_${image}_dockerfile)
  get_filename_component(stem "${dockerfile}" NAME_WLE)
  set(args "")
  get_property(files GLOBAL PROPERTY _QDI_${image}_extra_files)
  foreach(file IN LISTS files)
    list(APPEND args --image-extra-file "${stem}" "${file}")
  endforeach()
  get_property(context GLOBAL PROPERTY _QDI_${image}_context)
  if(context)
    list(APPEND args --image-context "${stem}" "${context}")
  endif()
  get_property(build_args GLOBAL PROPERTY _QDI_${image}_build_args)
  foreach(build_arg IN LISTS build_args)
    list(APPEND args "--image-build-arg=${stem}:${build_arg}")
  endforeach()
  _qdi_feature_settings_args(${image} "${stem}" feature_args)
  list(APPEND args ${feature_args})
  set(${out_var} "${args}" PARENT_SCOPE)
endfunction()

function(_qdi_collect_search_dirs)
  get_property(dirs GLOBAL PROPERTY _QDI_DIRECTORIES)
  get_property(images GLOBAL PROPERTY _QDI_IMAGES)
  foreach(image IN LISTS images)
    get_property(dockerfile GLOBAL PROPERTY _QDI_${image}_dockerfile)
    get_filename_component(dir "${dockerfile}" DIRECTORY)
    list(APPEND dirs "${dir}")
  endforeach()
  list(REMOVE_DUPLICATES dirs)
  set_property(GLOBAL PROPERTY _QDI_SEARCH_DIRS "${dirs}")
endfunction()

# One helper process reads every Dockerfile and writes the graph as a
# CMake script, and the "edges" file: it changes only when an image or a
# local-base edge does, and CMake re-runs when it changes.
function(_qdi_read_graph helper state settings_args)
  _qdi_edges_args(edges_args)
  execute_process(
    COMMAND "${helper}" graph --bases-only --format cmake
      -o "${state}/graph.cmake" --edges-out "${state}/edges.txt"
      ${edges_args} ${settings_args}
    RESULT_VARIABLE result ERROR_VARIABLE errors)
  if(NOT result EQUAL 0)
    string(STRIP "${errors}" errors)
    if(NOT errors)
      set(errors "${helper}: ${result}")
    endif()
    message(FATAL_ERROR "QemuDockerImages: reading the Dockerfiles failed:\n"
      "${errors}\n"
      "The search folders are those given to QemuDockerImages_AddDirectory "
      "and the folders of the Dockerfiles given to QemuDockerImages_Add.")
  endif()
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
    "${state}/edges.txt")
endfunction()

# Pinned external bases are named in the build files, so then the edges
# file lists them too, and a changed external FROM line re-runs CMake.
function(_qdi_edges_args out_var)
  set(args "")
  if(QEMU_DOCKER_IMAGES_PIN_EXTERNAL_BASES)
    set(args --with-external)
  endif()
  set(${out_var} "${args}" PARENT_SCOPE)
endfunction()

function(_qdi_engine_args out_var engine)
  set(args "--engine=${engine}")
  foreach(arg IN LISTS QEMU_DOCKER_IMAGES_ENGINE_ARGS)
    list(APPEND args "--engine-arg=${arg}")
  endforeach()
  set(${out_var} "${args}" PARENT_SCOPE)
endfunction()

# Options that cannot work together are refused, or named, before any
# build file is written.
function(_qdi_check_options)
  if(NOT QEMU_DOCKER_IMAGES_BUILD_COMMAND)
    message(FATAL_ERROR
      "QemuDockerImages: QEMU_DOCKER_IMAGES_BUILD_COMMAND is empty; set it "
      "to 'build', or to the words of another builder such as "
      "buildx;build;--builder;NAME;--load")
  endif()
  if(NOT QEMU_DOCKER_IMAGES_REGISTRY AND (QEMU_DOCKER_IMAGES_REGISTRY_PUSH
      OR QEMU_DOCKER_IMAGES_REGISTRY_STRICT_PUSH))
    message(WARNING
      "QemuDockerImages: QEMU_DOCKER_IMAGES_REGISTRY_PUSH is ON but "
      "QEMU_DOCKER_IMAGES_REGISTRY is empty, so nothing is pushed; set the "
      "registry or switch pushing off")
  endif()
endfunction()

function(_qdi_generate)
  _qdi_check_options()
  _qdi_configure_helper(configure_helper)
  _qdi_build_helper(helper helper_depends "${configure_helper}")
  _qdi_resolve_engine(engine)
  _qdi_engine_args(engine_args "${engine}")
  _qdi_collect_search_dirs()
  _qdi_settings_args(settings_args)

  set(state "${CMAKE_CURRENT_BINARY_DIR}/qemu-docker-images")
  file(MAKE_DIRECTORY "${state}")
  _qdi_read_graph("${configure_helper}" "${state}" "${settings_args}")
  include("${state}/graph.cmake")
  _qdi_check_image_files()
  # Switching engines must re-run every image step: each then asks the
  # new engine for its image.
  file(CONFIGURE OUTPUT "${state}/engine.txt"
    CONTENT "${engine};${QEMU_DOCKER_IMAGES_ENGINE_ARGS}\n")

  _qdi_add_scan_target("${helper}" "${helper_depends}" "${state}"
    "${settings_args}")
  _qdi_add_base_identities("${helper}" "${state}" "${engine_args}")
  get_property(images GLOBAL PROPERTY _QDI_IMAGES)
  foreach(image IN LISTS images)
    _qdi_add_image_target(${image} "${helper}" "${helper_depends}"
      "${state}" "${settings_args}" "${engine_args}")
  endforeach()
  _qdi_add_group_targets("${helper}" "${state}" "${engine_args}")
  _qdi_add_graph_targets("${helper}" "${helper_depends}" "${state}"
    "${settings_args}")

  # What tests in images, added now or later, run with.
  set_property(GLOBAL PROPERTY _QDI_HELPER_COMMAND "${helper}")
  set_property(GLOBAL PROPERTY _QDI_ENGINE "${engine}")
  set_property(GLOBAL PROPERTY _QDI_ENGINE_ARGS "${engine_args}")
  set_property(GLOBAL PROPERTY _QDI_GENERATED TRUE)
  _qdi_add_recorded_tests()
endfunction()

# The helper finds the file of `FROM qemu/NAME` in the search folders,
# while the module builds the image NAME from the file it was added with.
# Were these two files, an image on NAME would be checksummed over one
# and built on the other, and an edit of the built one would not rebuild
# it.
function(_qdi_check_image_files)
  get_property(images GLOBAL PROPERTY _QDI_IMAGES)
  foreach(image IN LISTS images)
    set(found "${QDI_IMAGE_${image}_FILE}")
    get_property(dockerfile GLOBAL PROPERTY _QDI_${image}_dockerfile)
    if(NOT found OR found STREQUAL dockerfile)
      continue()
    endif()
    file(REAL_PATH "${found}" found_real)
    file(REAL_PATH "${dockerfile}" dockerfile_real)
    if(NOT found_real STREQUAL dockerfile_real)
      message(FATAL_ERROR
        "QemuDockerImages: image '${image}' is added from ${dockerfile}, "
        "but `FROM qemu/${image}` names ${found}, the ${image}.docker of "
        "the search folders; give the image another name, or rename or "
        "move one of the files")
    endif()
  endforeach()
endfunction()

# At build time the same scan keeps the edges file current.  With Ninja it
# runs before anything else, since CMake's re-run depends on its output.
# Make has no "restat", so there a marker that moves at every run is the
# step's output, or the scan would run in every build.
function(_qdi_add_scan_target helper helper_depends state settings_args)
  if(CMAKE_GENERATOR MATCHES "Ninja")
    set(scanned "${state}/edges.txt")
    set(marker_args "")
    set(byproducts "")
  else()
    set(scanned "${state}/scanned")
    set(marker_args --checked "${scanned}")
    set(byproducts "${state}/edges.txt")
  endif()
  _qdi_edges_args(edges_args)
  add_custom_command(OUTPUT "${scanned}"
    BYPRODUCTS ${byproducts}
    COMMAND "${helper}" graph --bases-only --format edges
      -o "${state}/edges.txt" ${marker_args} --depfile "${state}/edges.d"
      ${edges_args} ${settings_args}
    DEPENDS ${helper_depends}
    DEPFILE "${state}/edges.d"
    COMMENT "Reading the FROM lines of the Dockerfiles"
    VERBATIM)
  add_custom_target(docker-images-scan DEPENDS "${scanned}")
  set_property(GLOBAL PROPERTY _QDI_SCANNED "${scanned}")
endfunction()

# Remembered per image: an image's bases are asked for by its own step, by
# the pre scripts of every image above it and by the group targets.
function(_qdi_image_bases image out_var)
  get_property(known GLOBAL PROPERTY _QDI_${image}_bases SET)
  if(known)
    get_property(bases GLOBAL PROPERTY _QDI_${image}_bases)
    set(${out_var} "${bases}" PARENT_SCOPE)
    return()
  endif()
  get_property(dockerfile GLOBAL PROPERTY _QDI_${image}_dockerfile)
  get_filename_component(stem "${dockerfile}" NAME_WLE)
  set(bases "${QDI_IMAGE_${stem}_BASES}")
  foreach(base IN LISTS bases)
    get_property(added GLOBAL PROPERTY _QDI_${base}_dockerfile SET)
    if(NOT added)
      message(FATAL_ERROR
        "QemuDockerImages: image '${image}' stands on '${base}', which is "
        "not added; add its folder with QemuDockerImages_AddDirectory or "
        "the image with QemuDockerImages_Add")
    endif()
  endforeach()
  set_property(GLOBAL PROPERTY _QDI_${image}_bases "${bases}")
  set(${out_var} "${bases}" PARENT_SCOPE)
endfunction()

function(_qdi_add_image_target image helper helper_depends state
    settings_args engine_args)
  get_property(dockerfile GLOBAL PROPERTY _QDI_${image}_dockerfile)
  get_property(tag GLOBAL PROPERTY _QDI_${image}_tag)
  get_property(engine_flags GLOBAL PROPERTY _QDI_${image}_engine_flags)
  _qdi_image_bases(${image} bases)
  _qdi_own_settings_args(${image} "${settings_args}" settings_args)
  get_property(scanned GLOBAL PROPERTY _QDI_SCANNED)
  set(dir "${state}/${image}")
  file(MAKE_DIRECTORY "${dir}")
  string(REPLACE ";" "," expected "${bases}")
  if(NOT expected)
    set(expected "-")
  endif()

  # Ninja's "restat" sees that a step left the checksum as it was, and runs
  # nothing after it.  Make has none and writes no rule for a byproduct, so
  # there a marker that moves at every run is what the image step depends
  # on, and that step, finding the checksum it recorded, only moves its own
  # stamp so that Make sees it done.
  if(CMAKE_GENERATOR MATCHES "Ninja")
    set(done "${dir}/checksum")
    set(marker_args "")
    set(byproducts "${dir}/flat.docker")
    set(current_args "")
  else()
    set(done "${dir}/checked")
    set(marker_args --checked "${done}")
    set(byproducts "${dir}/checksum" "${dir}/flat.docker")
    set(current_args --touch-when-current)
  endif()
  get_filename_component(stem "${dockerfile}" NAME_WLE)
  _qdi_pin_args(${stem} "${state}" pin_args pin_files)
  set_property(GLOBAL PROPERTY _QDI_${image}_done "${done}")
  _qdi_pre_scripts(${image} pre_scripts)
  # Each base's step stands for the base and everything below it: this
  # step depends on the base's checksum stamp (with Make, its marker), not
  # on the base's files, so its depfile names only this image's own inputs
  # and a no-op build has fewer files to look at.
  set(base_done "")
  set(base_stamp_args "")
  foreach(base IN LISTS bases)
    if(CMAKE_GENERATOR MATCHES "Ninja")
      set(stamp "${state}/${base}/checksum")
    else()
      set(stamp "${state}/${base}/checked")
    endif()
    list(APPEND base_done "${stamp}")
    list(APPEND base_stamp_args "--base-stamp=${base}=${stamp}")
  endforeach()
  _qdi_depfile_args(${image} ${stem} "${dir}/deps.d" "${done}"
    depfile_args depfile_option)
  add_custom_command(OUTPUT "${done}"
    BYPRODUCTS ${byproducts}
    COMMAND "${helper}" flatten "${dockerfile}" -o "${dir}/flat.docker"
      --stamp "${dir}/checksum" ${marker_args} ${depfile_args}
      "--expect-bases=${expected}" ${base_stamp_args}
      ${settings_args} ${pin_args}
    DEPENDS "${dockerfile}" ${pre_scripts} "${scanned}" ${base_done}
      ${helper_depends} ${pin_files}
    ${depfile_option}
    COMMENT "Checking what image ${tag} is made of"
    VERBATIM)

  set(base_stamps "")
  foreach(base IN LISTS bases)
    list(APPEND base_stamps "${state}/${base}/image")
  endforeach()
  _qdi_build_flags(build_flags "${engine_flags}")
  _qdi_registry_args(${image} registry_args)
  add_custom_command(OUTPUT "${dir}/image"
    COMMAND "${helper}" build "${dockerfile}" --stamp "${dir}/checksum"
      --image-stamp "${dir}/image" --tag "${tag}"
      "--tag-prefix=${QEMU_DOCKER_IMAGES_TAG_PREFIX}" ${engine_args}
      ${build_flags} ${registry_args} ${current_args} ${settings_args}
    DEPENDS "${done}" "${state}/engine.txt" ${base_stamps}
      ${helper_depends}
    COMMENT "Making image ${tag} current"
    VERBATIM)

  add_custom_target(docker-${image} DEPENDS "${dir}/image")
  add_dependencies(docker-${image} docker-images-scan)
  foreach(base IN LISTS bases)
    add_dependencies(docker-${image} docker-${base})
  endforeach()
endfunction()

# Only the inputs found while flattening go in a depfile: the files that
# COPY, ADD and --mount take from the context, the libraries of staged
# executables, pinned bases' identities.  An image with none of these
# (most of a QEMU-like folder) has every input in DEPENDS already, and
# Ninja, which reads every depfile at every build, reads one file fewer.
# The scan notes whether a Dockerfile reads its context, so the first COPY
# added to one runs CMake again and brings its depfile.
function(_qdi_depfile_args image stem depfile target args_var option_var)
  get_property(extra_files GLOBAL PROPERTY _QDI_${image}_extra_files)
  get_property(context GLOBAL PROPERTY _QDI_${image}_context)
  get_property(executables GLOBAL PROPERTY _QDI_${image}_executables)
  if(QDI_IMAGE_${stem}_READS_CONTEXT OR extra_files OR context OR executables
      OR QEMU_DOCKER_IMAGES_PIN_EXTERNAL_BASES
      OR NOT DEFINED QDI_IMAGE_${stem}_READS_CONTEXT)
    set(${args_var} --depfile "${depfile}" --depfile-target "${target}"
      PARENT_SCOPE)
    set(${option_var} DEPFILE "${depfile}" PARENT_SCOPE)
  else()
    set(${args_var} "" PARENT_SCOPE)
    set(${option_var} "" PARENT_SCOPE)
  endif()
endfunction()

function(_qdi_build_flags out_var engine_flags)
  set(flags "")
  foreach(flag IN LISTS QEMU_DOCKER_IMAGES_BUILD_FLAGS engine_flags)
    list(APPEND flags "--build-flag=${flag}")
  endforeach()
  if(NOT QEMU_DOCKER_IMAGES_BUILD_COMMAND STREQUAL "build")
    foreach(word IN LISTS QEMU_DOCKER_IMAGES_BUILD_COMMAND)
      list(APPEND flags "--build-command=${word}")
    endforeach()
  endif()
  if(QEMU_DOCKER_IMAGES_FLATTENED_BUILD)
    list(APPEND flags --flattened)
  endif()
  if(QEMU_DOCKER_IMAGES_NOCACHE)
    list(APPEND flags --no-cache)
  endif()
  if(QEMU_DOCKER_IMAGES_VERBOSE)
    list(APPEND flags --verbose)
  endif()
  if(NOT QEMU_DOCKER_IMAGES_PASS_PROXY)
    list(APPEND flags --no-proxy-args)
  endif()
  set(${out_var} "${flags}" PARENT_SCOPE)
endfunction()

function(_qdi_add_group_targets helper state engine_args)
  get_property(images GLOBAL PROPERTY _QDI_IMAGES)
  add_custom_target(docker-images)
  set(check_args "")
  set(help "Images (docker-<name> builds one, docker-images all):\n")
  foreach(image IN LISTS images)
    add_dependencies(docker-images docker-${image})
    get_property(tag GLOBAL PROPERTY _QDI_${image}_tag)
    list(APPEND check_args "${state}/${image}/image=${tag}")
    _qdi_image_bases(${image} bases)
    string(REPLACE ";" " " bases "${bases}")
    if(NOT bases)
      set(bases "-")
    endif()
    string(APPEND help "  ${image}  tag ${tag}  local bases: ${bases}\n")
  endforeach()
  add_custom_target(docker-images-check
    COMMAND "${helper}" check ${engine_args} ${check_args}
    COMMENT "Checking the built images against the engine"
    VERBATIM)
  file(CONFIGURE OUTPUT "${state}/help.txt" CONTENT "${help}")
  add_custom_target(docker-images-help
    COMMAND "${CMAKE_COMMAND}" -E cat "${state}/help.txt"
    VERBATIM)
endfunction()

# The registry cache: the image step pulls REGISTRY/<prefix><name>:<checksum>
# before it builds, and pushes that after a build when asked.
function(_qdi_registry_args image out_var)
  set(args "")
  if(QEMU_DOCKER_IMAGES_REGISTRY)
    list(APPEND args "--registry=${QEMU_DOCKER_IMAGES_REGISTRY}"
      "--registry-repository=${QEMU_DOCKER_IMAGES_REGISTRY_PREFIX}${image}")
    foreach(flag IN LISTS QEMU_DOCKER_IMAGES_REGISTRY_FLAGS)
      list(APPEND args "--registry-flag=${flag}")
    endforeach()
    if(QEMU_DOCKER_IMAGES_REGISTRY_PUSH)
      list(APPEND args --push)
    endif()
    if(QEMU_DOCKER_IMAGES_REGISTRY_STRICT_PUSH)
      list(APPEND args --strict-push)
    endif()
  endif()
  set(${out_var} "${args}" PARENT_SCOPE)
endfunction()

# Pinned external bases.  Each external base has a file in the build
# folder holding its image ID, written only when the ID changes; the
# flatten steps of the images above it hash it and depend on it, so a
# no-op build asks no engine.  The file is made at the first build, and
# docker-images-check-bases refreshes every one of them.
function(_qdi_identity_file ref state out_var)
  string(MD5 hash "${ref}")
  string(SUBSTRING "${hash}" 0 8 hash)
  string(REGEX REPLACE "[^A-Za-z0-9._-]" "_" safe "${ref}")
  set(${out_var} "${state}/external/${safe}-${hash}.id" PARENT_SCOPE)
endfunction()

# The external bases of an image and of every local base below it.
function(_qdi_chain_externals stem out_var)
  set(externals ${QDI_IMAGE_${stem}_EXTERNAL})
  foreach(base IN LISTS QDI_IMAGE_${stem}_BASES)
    _qdi_chain_externals(${base} below)
    list(APPEND externals ${below})
  endforeach()
  list(REMOVE_DUPLICATES externals)
  set(${out_var} "${externals}" PARENT_SCOPE)
endfunction()

function(_qdi_pin_args stem state out_args out_files)
  set(args "")
  set(files "")
  if(QEMU_DOCKER_IMAGES_PIN_EXTERNAL_BASES)
    _qdi_chain_externals(${stem} externals)
    foreach(ref IN LISTS externals)
      _qdi_identity_file("${ref}" "${state}" file)
      list(APPEND args "--base-identity=${ref}=${file}")
      list(APPEND files "${file}")
    endforeach()
  endif()
  set(${out_args} "${args}" PARENT_SCOPE)
  set(${out_files} "${files}" PARENT_SCOPE)
endfunction()

function(_qdi_add_base_identities helper state engine_args)
  if(NOT QEMU_DOCKER_IMAGES_PIN_EXTERNAL_BASES)
    add_custom_target(docker-images-check-bases
      COMMAND "${CMAKE_COMMAND}" -E echo
        "QEMU_DOCKER_IMAGES_PIN_EXTERNAL_BASES is OFF, so no checksum"
        "covers an external base: nothing to check"
      VERBATIM)
    return()
  endif()
  set(externals "")
  get_property(images GLOBAL PROPERTY _QDI_IMAGES)
  foreach(image IN LISTS images)
    get_property(dockerfile GLOBAL PROPERTY _QDI_${image}_dockerfile)
    get_filename_component(stem "${dockerfile}" NAME_WLE)
    list(APPEND externals ${QDI_IMAGE_${stem}_EXTERNAL})
  endforeach()
  list(REMOVE_DUPLICATES externals)
  file(MAKE_DIRECTORY "${state}/external")
  set(pairs "")
  foreach(ref IN LISTS externals)
    _qdi_identity_file("${ref}" "${state}" file)
    list(APPEND pairs "${ref}=${file}")
    # Only a missing file runs this: the engine is asked once per base
    # at the first build, and again only by docker-images-check-bases.
    add_custom_command(OUTPUT "${file}"
      COMMAND "${helper}" identify ${engine_args} "${ref}=${file}"
      DEPENDS "${state}/engine.txt"
      COMMENT "Asking the engine which image ${ref} is"
      VERBATIM)
  endforeach()
  set(pull "")
  if(QEMU_DOCKER_IMAGES_CHECK_BASES_PULL)
    set(pull --pull)
  endif()
  if(pairs)
    set(command "${helper}" identify ${engine_args} ${pull} ${pairs})
  else()
    set(command "${CMAKE_COMMAND}" -E echo "No image has an external base")
  endif()
  add_custom_target(docker-images-check-bases
    COMMAND ${command}
    COMMENT "Asking the engine which image each external base is"
    VERBATIM)
endfunction()
