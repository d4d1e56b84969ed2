# Debian packages, built with `cpack -G DEB` from a configured build directory:
#   meshslice_<version>_<arch>.deb       the daemon and CLI, the systemd unit, the docs
#   libmeshslice-dev_<version>_<arch>.deb libmeshslice (shared + static), headers, CMake package,
#                                         pkg-config file
# Install prefix /usr (CPACK_PACKAGING_INSTALL_PREFIX), so the unit's ExecStart is /usr/bin/meshslice
# when the build was configured with -DCMAKE_INSTALL_PREFIX=/usr (scripts/package.sh does).
# Shared-library dependencies are computed by dpkg-shlibdeps.
set(CPACK_PACKAGE_NAME meshslice)
set(CPACK_PACKAGE_VENDOR "The meshslice authors")
set(CPACK_PACKAGE_CONTACT "The meshslice authors <meshslice@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Per-device state synced across a LAN mesh")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_COMPONENTS_ALL daemon dev)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_DAEMON_PACKAGE_NAME meshslice)
set(CPACK_DEBIAN_DAEMON_PACKAGE_SECTION net)
set(CPACK_DEBIAN_DAEMON_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/scripts/deb/postinst)
set(CPACK_DEBIAN_DEV_PACKAGE_NAME libmeshslice-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "libuv1-dev, libsodium-dev, libmsgpack-cxx-dev | libmsgpack-dev")
set(CPACK_COMPONENT_DAEMON_DESCRIPTION "meshslice daemon and CLI: per-device state synced across a LAN mesh")
set(CPACK_COMPONENT_DEV_DESCRIPTION "meshslice library for C and C++ applications (headers, shared and static)")
include(CPack)
