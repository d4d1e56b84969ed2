# The installable package, included from the top-level CMakeLists.txt:
#   libmeshslice.so + libmeshslice.a   every layer up to store/, plus the C API (capi/)
#   include/meshslice/{base,transport,mesh,store,capi}/*.h   (consumers use -I include/meshslice,
#                                         so "mesh/mesh_node.h" and "capi/meshslice.h" resolve)
#   lib/cmake/meshslice/                  find_package(meshslice) -> meshslice::meshslice (shared),
#                                         meshslice::meshslice_static
#   lib/pkgconfig/meshslice.pc            pkg-config --cflags --libs meshslice (add --static)
# Both libraries are linked from the layers' object files: nothing is compiled twice, and the
# layer libraries (meshslice_base ...) keep their one-way link checks.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(MESHSLICE_PACKAGE_LAYERS base transport mesh store capi)
set(_meshslice_objects)
foreach(layer ${MESHSLICE_PACKAGE_LAYERS})
  list(APPEND _meshslice_objects $<TARGET_OBJECTS:meshslice_${layer}>)
endforeach()

set(_meshslice_include ${CMAKE_INSTALL_INCLUDEDIR}/meshslice)
foreach(variant shared static)
  string(TOUPPER ${variant} type)
  set(target meshslice_${variant}_lib)
  add_library(${target} ${type} ${_meshslice_objects})
  set_target_properties(${target} PROPERTIES OUTPUT_NAME meshslice LINKER_LANGUAGE CXX)
  target_include_directories(${target} INTERFACE
    $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}>
    $<INSTALL_INTERFACE:${_meshslice_include}>)
  target_compile_definitions(${target} INTERFACE MSGPACK_NO_BOOST)
  target_compile_features(${target} INTERFACE cxx_std_20)
  # Public headers include uv.h, sodium.h and msgpack.hpp, so these are public dependencies.
  target_link_libraries(${target} PUBLIC PkgConfig::LIBUV PkgConfig::SODIUM Threads::Threads msgpackc-cxx)
endforeach()
set_target_properties(meshslice_shared_lib PROPERTIES
  EXPORT_NAME meshslice VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR})
set_target_properties(meshslice_static_lib PROPERTIES EXPORT_NAME meshslice_static)
# In-tree users (examples) say what an installed consumer says.
add_library(meshslice::meshslice ALIAS meshslice_shared_lib)
add_library(meshslice::meshslice_static ALIAS meshslice_static_lib)

install(TARGETS meshslice_shared_lib meshslice_static_lib EXPORT meshsliceTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
foreach(layer ${MESHSLICE_PACKAGE_LAYERS})
  install(DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/${layer}/ DESTINATION ${_meshslice_include}/${layer}
    FILES_MATCHING PATTERN "*.h" PATTERN "capi_internal.h" EXCLUDE)
endforeach()

set(_meshslice_cmakedir ${CMAKE_INSTALL_LIBDIR}/cmake/meshslice)
install(EXPORT meshsliceTargets NAMESPACE meshslice:: DESTINATION ${_meshslice_cmakedir})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/meshslice-config.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/meshslice-config.cmake INSTALL_DESTINATION ${_meshslice_cmakedir})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/meshslice-config-version.cmake
  COMPATIBILITY SameMinorVersion)  # 0.x: a minor version may break the API
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/meshslice-config.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/meshslice-config-version.cmake
        DESTINATION ${_meshslice_cmakedir})

file(RELATIVE_PATH MESHSLICE_PC_TO_PREFIX ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" MESHSLICE_PC_TO_PREFIX "${MESHSLICE_PC_TO_PREFIX}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/meshslice.pc.in ${CMAKE_CURRENT_BINARY_DIR}/meshslice.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/meshslice.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
