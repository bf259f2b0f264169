# Finds the third-party libraries the helper is built from.  Each is looked
# up as a CMake config package first; Debian ships re2 and xxHash with only a
# pkg-config file, so those fall back to pkg-config and are wrapped in the
# same imported target names a config package would give.

include_guard(GLOBAL)

find_package(PkgConfig QUIET)

function(_qdi_find_with_pkg_config target module)
  if(TARGET ${target})
    return()
  endif()
  if(NOT PKG_CONFIG_FOUND)
    message(FATAL_ERROR
      "${target} has no CMake package here and pkg-config is missing; "
      "install pkg-config (apt-get install pkg-config)")
  endif()
  pkg_check_modules(_qdi_${module} REQUIRED IMPORTED_TARGET ${module})
  add_library(${target} INTERFACE IMPORTED)
  target_link_libraries(${target} INTERFACE PkgConfig::_qdi_${module})
endfunction()

find_package(re2 CONFIG QUIET)
_qdi_find_with_pkg_config(re2::re2 re2)

find_package(xxHash CONFIG QUIET)
_qdi_find_with_pkg_config(xxHash::xxhash libxxhash)

# The archives of the same two, for a helper linked statically (see
# helper/CMakeLists.txt); Debian's -dev packages ship them.
find_library(QDI_RE2_ARCHIVE NAMES libre2.a
  DOC "re2's static library, for a static qemu-docker-images")
find_library(QDI_XXHASH_ARCHIVE NAMES libxxhash.a
  DOC "xxHash's static library, for a static qemu-docker-images")

find_package(Threads REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(nlohmann_json CONFIG REQUIRED)

if(BUILD_TESTING)
  find_package(GTest CONFIG QUIET)
  if(NOT GTest_FOUND)
    find_package(GTest REQUIRED)
  endif()
endif()
