# Private part of QemuDockerImages: tests that run a command inside an
# image (QemuDockerImages_AddTest).  Each test requires a fixture whose
# setup test builds the image's target, so "ctest -R NAME" makes a stale
# image current first; and each test has a target
# docker-test-NAME+IMAGE that does the same from the build tool.

include_guard(GLOBAL)

# The tests are added once the images' targets exist, when the module
# generates them at the end of the images' directory; a test declared
# later, elsewhere, is added at once.
function(_qdi_record_test name)
  get_property(generated GLOBAL PROPERTY _QDI_GENERATED)
  if(generated)
    _qdi_add_test("${name}")
  else()
    set_property(GLOBAL APPEND PROPERTY _QDI_TESTS "${name}")
  endif()
endfunction()

function(_qdi_add_recorded_tests)
  get_property(tests GLOBAL PROPERTY _QDI_TESTS)
  foreach(test IN LISTS tests)
    _qdi_add_test("${test}")
  endforeach()
endfunction()

# Podman cannot start containers where it lacks rlimit rights, but
# buildah, which shares its store, can run a command with chroot
# isolation; "auto" takes buildah for Podman when it is installed.
function(_qdi_test_runner out_var)
  get_property(engine GLOBAL PROPERTY _QDI_ENGINE)
  set(runner "${QEMU_DOCKER_IMAGES_RUNNER}")
  if(runner STREQUAL "auto")
    set(runner engine)
    get_filename_component(engine_name "${engine}" NAME)
    if(engine_name STREQUAL "podman")
      find_program(_QDI_BUILDAH buildah)
      if(_QDI_BUILDAH)
        set(runner buildah)
      endif()
    endif()
  endif()
  if(NOT runner MATCHES "^(engine|buildah)$")
    message(FATAL_ERROR
      "QemuDockerImages: QEMU_DOCKER_IMAGES_RUNNER is '${runner}'; use "
      "auto, engine or buildah")
  endif()
  set(${out_var} "${runner}" PARENT_SCOPE)
endfunction()

# The helper's "run" options of one test, from its keywords.
function(_qdi_test_run_args name out_var)
  get_property(source GLOBAL PROPERTY _QDI_TEST_${name}_source_dir)
  get_property(binary GLOBAL PROPERTY _QDI_TEST_${name}_binary_dir)
  get_property(workdir GLOBAL PROPERTY _QDI_TEST_${name}_workdir)
  get_property(user GLOBAL PROPERTY _QDI_TEST_${name}_user)
  get_property(environment GLOBAL PROPERTY _QDI_TEST_${name}_environment)
  set(args "")
  if(source)
    list(APPEND args --mount-ro "${source}" "${source}")
  endif()
  if(binary)
    list(APPEND args --mount "${binary}" "${binary}")
  endif()
  if(workdir)
    list(APPEND args "--workdir=${workdir}")
  endif()
  if(user)
    list(APPEND args "--user=${user}")
  endif()
  foreach(variable IN LISTS environment)
    list(APPEND args "--env=${variable}")
  endforeach()
  set(${out_var} "${args}" PARENT_SCOPE)
endfunction()

# One setup test per image builds its target; the setup tests take turns,
# since two build tools must not run in one build folder at once.
function(_qdi_image_fixture image out_var)
  set(fixture "qemu-docker-images-${image}")
  get_property(made GLOBAL PROPERTY _QDI_FIXTURES)
  if(NOT image IN_LIST made)
    set_property(GLOBAL APPEND PROPERTY _QDI_FIXTURES "${image}")
    set(config "")
    if(CMAKE_CONFIGURATION_TYPES)
      set(config --config "$<CONFIG>")
    endif()
    add_test(NAME docker-${image}
      COMMAND "${CMAKE_COMMAND}" --build "${CMAKE_BINARY_DIR}"
        --target docker-${image} ${config})
    set_tests_properties(docker-${image} PROPERTIES
      FIXTURES_SETUP "${fixture}"
      RESOURCE_LOCK qemu-docker-images-build
      LABELS qemu-docker-images)
  endif()
  set(${out_var} "${fixture}" PARENT_SCOPE)
endfunction()

function(_qdi_add_test name)
  get_property(image GLOBAL PROPERTY _QDI_TEST_${name}_image)
  get_property(images GLOBAL PROPERTY _QDI_IMAGES)
  if(NOT image IN_LIST images)
    message(FATAL_ERROR
      "QemuDockerImages_AddTest(${name}): IMAGE '${image}' is not an added "
      "image; add it with QemuDockerImages_Add or "
      "QemuDockerImages_AddDirectory")
  endif()
  get_property(command GLOBAL PROPERTY _QDI_TEST_${name}_command)
  get_property(helper GLOBAL PROPERTY _QDI_HELPER_COMMAND)
  get_property(engine_args GLOBAL PROPERTY _QDI_ENGINE_ARGS)
  get_property(tag GLOBAL PROPERTY _QDI_${image}_tag)
  _qdi_test_runner(runner)
  _qdi_test_run_args("${name}" run_args)
  set(run "${helper}" run ${engine_args} "--runner=${runner}" ${run_args}
    -- "${tag}" ${command})

  add_test(NAME "${name}" COMMAND ${run})
  _qdi_image_fixture("${image}" fixture)
  set_tests_properties("${name}" PROPERTIES
    FIXTURES_REQUIRED "${fixture}" LABELS qemu-docker-images)

  add_custom_target("docker-test-${name}+${image}"
    COMMAND ${run}
    COMMENT "Running test ${name} in image ${tag}"
    USES_TERMINAL VERBATIM)
  add_dependencies("docker-test-${name}+${image}" docker-${image})
endfunction()
