# Configures one error case of the QemuDockerImages module and checks how
# it fails, the way CMake's own RunCMake tests do.  Run as
#
#   cmake -DCASE=<case> -DCASES_DIR=<dir> -DBUILD_DIR=<dir>
#         -DMODULES=<dir> -DHELPER=<file> -DENGINE=<file>
#         -DGENERATOR=<name> [-DMAKE_PROGRAM=<file>] -P RunCase.cmake
#
# <CASES_DIR>/<case>/ is the project.  <CASES_DIR>/<case>-stderr.txt is a
# regular expression that the configure's stderr must match, and the
# optional <case>-result.txt the exit code (1, a configure error, when it is
# missing).  CMake wraps a message's lines where it likes, and where
# depends on the length of the paths in it, so every run of white space of
# the stderr is made one space before it is matched.  The optional
# <case>-options.cmake is included before the configure: it may append to
# case_options, which come after the default options and so override them,
# and it may change the environment.

cmake_minimum_required(VERSION 3.20)

foreach(var CASE CASES_DIR BUILD_DIR MODULES HELPER ENGINE GENERATOR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "RunCase.cmake: -D${var}=... is required")
  endif()
endforeach()

set(case_source "${CASES_DIR}/${CASE}")
set(case_build "${BUILD_DIR}/${CASE}")
file(REMOVE_RECURSE "${case_build}")
file(MAKE_DIRECTORY "${case_build}")

set(expected_result 1)
if(EXISTS "${CASES_DIR}/${CASE}-result.txt")
  file(READ "${CASES_DIR}/${CASE}-result.txt" expected_result)
  string(STRIP "${expected_result}" expected_result)
endif()
file(READ "${CASES_DIR}/${CASE}-stderr.txt" expected_stderr)
string(REGEX REPLACE "\n+$" "" expected_stderr "${expected_stderr}")

set(make_program_option "")
if(MAKE_PROGRAM)
  set(make_program_option "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
set(case_options "")
if(EXISTS "${CASES_DIR}/${CASE}-options.cmake")
  include("${CASES_DIR}/${CASE}-options.cmake")
endif()

# The fake engine keeps its store and its log in the case's build folder;
# no case gets far enough to call it, but a case that did would show it.
set(engine_args "--state;${case_build}/engine.json")
string(APPEND engine_args ";--log;${case_build}/engine.log")
execute_process(
  COMMAND "${CMAKE_COMMAND}" -S "${case_source}" -B "${case_build}/build"
    -G "${GENERATOR}" ${make_program_option}
    "-DCMAKE_MODULE_PATH=${MODULES}"
    "-DQEMU_DOCKER_IMAGES_HELPER=${HELPER}"
    "-DQEMU_DOCKER_IMAGES_ENGINE=${ENGINE}"
    "-DQEMU_DOCKER_IMAGES_ENGINE_ARGS=${engine_args}"
    ${case_options}
  RESULT_VARIABLE actual_result
  OUTPUT_VARIABLE actual_stdout
  ERROR_VARIABLE actual_stderr)
string(REGEX REPLACE "[ \t\r\n]+" " " flat_stderr "${actual_stderr}")

set(failures "")
if(NOT actual_result STREQUAL expected_result)
  string(APPEND failures
    "exit code is '${actual_result}', expected '${expected_result}'\n")
endif()
if(NOT flat_stderr MATCHES "${expected_stderr}")
  string(APPEND failures "stderr does not match the expected regex\n")
endif()
if(failures)
  # Plain message() prints the text as it is, where FATAL_ERROR would
  # rewrap the stderr it quotes.
  message("case ${CASE} failed:\n${failures}"
    "expected stderr (regex, white space made single spaces):\n"
    "${expected_stderr}\n"
    "actual stderr:\n${actual_stderr}\n"
    "actual stdout:\n${actual_stdout}")
  message(FATAL_ERROR "case ${CASE} failed")
endif()
message(STATUS "case ${CASE}: exit code ${actual_result}, stderr matches")
