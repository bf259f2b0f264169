# Hide podman even where it is installed: PATH holds only an empty folder,
# and find_program skips the system prefixes (/usr/bin and the like).
list(APPEND case_options -DQEMU_DOCKER_IMAGES_ENGINE=podman
  -DCMAKE_FIND_USE_CMAKE_SYSTEM_PATH=OFF)
file(MAKE_DIRECTORY "${case_build}/empty-bin")
set(ENV{PATH} "${case_build}/empty-bin")
unset(ENV{CMAKE_PREFIX_PATH})
unset(ENV{CMAKE_PROGRAM_PATH})
