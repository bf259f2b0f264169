# Installs the helper, the module and a config package, so that another
# project's find_package(QemuDockerImages) gets the imported executable
# QemuDockerImages::qemu-docker-images and the module path.

include_guard(GLOBAL)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(_qdi_package_dir "${CMAKE_INSTALL_DATADIR}/cmake/QemuDockerImages")

install(TARGETS qemu-docker-images EXPORT QemuDockerImagesTargets
  RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
install(EXPORT QemuDockerImagesTargets NAMESPACE QemuDockerImages::
  DESTINATION "${_qdi_package_dir}")
install(FILES "${PROJECT_SOURCE_DIR}/Modules/QemuDockerImages.cmake"
  DESTINATION "${_qdi_package_dir}/Modules")
install(DIRECTORY "${PROJECT_SOURCE_DIR}/Modules/QemuDockerImages"
  DESTINATION "${_qdi_package_dir}/Modules")

configure_package_config_file(
  "${CMAKE_CURRENT_LIST_DIR}/QemuDockerImagesConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/QemuDockerImagesConfig.cmake"
  INSTALL_DESTINATION "${_qdi_package_dir}")
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/QemuDockerImagesConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES
  "${PROJECT_BINARY_DIR}/QemuDockerImagesConfig.cmake"
  "${PROJECT_BINARY_DIR}/QemuDockerImagesConfigVersion.cmake"
  DESTINATION "${_qdi_package_dir}")
