# Builds a consumer project that takes QemuDockerImages one way, and checks
# that its images are built bases first and that a second build asks the
# engine nothing.  Run as
#
#   cmake -DMODE=<installed|add_subdirectory|fetchcontent>
#         -DSOURCE_DIR=<QemuDockerImages' source tree>
#         -DMAIN_BUILD_DIR=<its build tree, installed from for "installed">
#         -DWORK_DIR=<scratch folder, wiped first> -DENGINE=<fake engine>
#         -DNINJA=<ninja> -P RunUsage.cmake
#
# The consumer is the folder <MODE> beside this script; its images, in
# dockerfiles/, are base <- mid <- top.

cmake_minimum_required(VERSION 3.20)

foreach(var MODE SOURCE_DIR MAIN_BUILD_DIR WORK_DIR ENGINE NINJA)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "RunUsage.cmake: -D${var}=... is required")
  endif()
endforeach()

set(consumer "${CMAKE_CURRENT_LIST_DIR}/${MODE}")
set(build "${WORK_DIR}/build")
set(prefix "${WORK_DIR}/prefix")
set(engine_log "${WORK_DIR}/engine.log")
set(engine_state "${WORK_DIR}/engine.json")

# Runs a command, prints its output, and stops the test when it fails.
function(run step)
  string(TIMESTAMP start "%s")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result
    OUTPUT_VARIABLE output ERROR_VARIABLE output)
  string(TIMESTAMP end "%s")
  math(EXPR seconds "${end} - ${start}")
  message("---- ${step} (${seconds} s)\n${output}")
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "${step} failed: ${result}")
  endif()
endfunction()

# The tags the engine's log shows built, in order.
function(built_tags out_var)
  set(tags "")
  if(EXISTS "${engine_log}")
    file(STRINGS "${engine_log}" calls)
  else()
    set(calls "")
  endif()
  foreach(call IN LISTS calls)
    string(JSON command GET "${call}" 0)
    if(NOT command STREQUAL "build")
      continue()
    endif()
    string(JSON last LENGTH "${call}")
    math(EXPR last "${last} - 1")
    set(previous "")
    foreach(i RANGE 1 ${last})
      string(JSON word GET "${call}" ${i})
      if(previous STREQUAL "-t" OR previous STREQUAL "--tag")
        list(APPEND tags "${word}")
      endif()
      set(previous "${word}")
    endforeach()
  endforeach()
  set(${out_var} "${tags}" PARENT_SCOPE)
endfunction()

function(check_built_in_order)
  built_tags(tags)
  set(expected qemu/base qemu/mid qemu/top)
  list(TRANSFORM tags REPLACE ":latest$" "")
  if(NOT tags STREQUAL expected)
    message(FATAL_ERROR "the engine built '${tags}', expected "
      "'${expected}': each base once, before the image above it")
  endif()
endfunction()

function(check_helper_unset)
  file(STRINGS "${build}/CMakeCache.txt" helper
    REGEX "^QEMU_DOCKER_IMAGES_HELPER:")
  if(NOT helper MATCHES "^QEMU_DOCKER_IMAGES_HELPER:[A-Z]+=$")
    message(FATAL_ERROR "QEMU_DOCKER_IMAGES_HELPER is set: '${helper}'")
  endif()
endfunction()

# The helper the module ran at configure time, and then in the build.
function(check_helper_origin)
  if(MODE STREQUAL "installed")
    file(READ "${build}/build.ninja" rules)
    string(FIND "${rules}" "${prefix}/bin/qemu-docker-images" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "the build does not run the installed helper "
        "${prefix}/bin/qemu-docker-images")
    endif()
  else()
    set(copy "${build}/_qemu_docker_images_helper/helper/qemu-docker-images")
    if(NOT EXISTS "${copy}")
      message(FATAL_ERROR "the configure-time helper ${copy} is missing")
    endif()
  endif()
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

set(mode_options "")
if(MODE STREQUAL "installed")
  run("install" "${CMAKE_COMMAND}" --install "${MAIN_BUILD_DIR}"
    --prefix "${prefix}")
  list(APPEND mode_options "-DCMAKE_PREFIX_PATH=${prefix}")
elseif(MODE STREQUAL "add_subdirectory" OR MODE STREQUAL "fetchcontent")
  list(APPEND mode_options "-DQDI_SOURCE_DIR=${SOURCE_DIR}"
    -DBUILD_TESTING=OFF)
else()
  message(FATAL_ERROR "RunUsage.cmake: unknown MODE '${MODE}'")
endif()

# run() takes its command as a list, so the list value of ENGINE_ARGS has
# its semicolons escaped to stay one argument.
set(engine_args "--state\;${engine_state}\;--log\;${engine_log}")
run("configure" "${CMAKE_COMMAND}" -S "${consumer}" -B "${build}" -G Ninja
  "-DCMAKE_MAKE_PROGRAM=${NINJA}"
  "-DQEMU_DOCKER_IMAGES_ENGINE=${ENGINE}"
  "-DQEMU_DOCKER_IMAGES_ENGINE_ARGS=${engine_args}"
  ${mode_options})
check_helper_unset()
check_helper_origin()

run("first build" "${CMAKE_COMMAND}" --build "${build}"
  --target docker-images)
check_built_in_order()

file(READ "${engine_log}" calls_before)
run("second build" "${CMAKE_COMMAND}" --build "${build}"
  --target docker-images)
file(READ "${engine_log}" calls_after)
if(NOT calls_after STREQUAL calls_before)
  string(LENGTH "${calls_before}" skip)
  string(SUBSTRING "${calls_after}" ${skip} -1 new_calls)
  message(FATAL_ERROR "the second build called the engine:\n${new_calls}")
endif()
message(STATUS "${MODE}: bases built first, second build left the engine "
  "alone")
