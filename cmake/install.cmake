# The installable package, included from the top-level CMakeLists.txt:
#   libmeshslice.so + libmeshslice.a   every layer up to store/, plus the C API (capi/)
#   include/meshslice/<layer>/*.h         MESHSLICE_PUBLIC_HEADERS below (consumers use -I include/meshslice,
#                                         so "store/mesh_slice.h" and "capi/meshslice.h" resolve)
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
# The installed headers, listed one by one: what applications include, and what those include
# (today MeshNode and StoreSyncAdapter show their members, so their helpers' headers come along;
# they are not API). Test doubles (base/fake_env.h, transport/memory_transport.h,
# transport/noise_vectors.h) and parsers only the library uses stay out. A public header that
# includes one not listed here fails scripts/consumer_test.sh (ctest package.consumer), which
# compiles every installed header against the install alone.
set(MESHSLICE_PUBLIC_HEADERS
  # what applications include (docs/EMBEDDING.md section 1)
  store/mesh_slice.h mesh/mesh_node.h store/synced_store.h store/syncable_store.h
  store/store_sync_adapter.h store/slice_table.h store/file_persistence.h store/json_codec.h
  store/listener_set.h mesh/identity.h mesh/mesh_secret.h mesh/device_id.h mesh/message_bus.h
  store/store_error.h mesh/peer_events.h base/status.h base/log.h base/bytes.h capi/meshslice.h
  # included by the above
  base/backoff.h base/env.h base/event_loop.h base/uv_handle.h
  mesh/dialer_set.h mesh/discovery.h mesh/envelope.h mesh/failure_log_limiter.h
  mesh/inbound_failures.h mesh/link_error.h mesh/mdns.h mesh/mdns_constants.h mesh/mesh_core.h
  mesh/peer_rate_limit.h mesh/peer_session.h mesh/protocol_constants.h mesh/static_discovery.h
  store/delta_bases.h store/device_slice.h store/held_incarnations.h store/remote_trees.h
  store/slice_delta.h store/slice_persistence.h store/slice_removal.h store/slice_tree.h
  store/store_contract.h store/sync_message.h store/version_clock.h
  transport/address.h transport/frame_decoder.h transport/link.h transport/multi_listen_transport.h
  transport/noise_cipher_state.h transport/noise_crypto.h transport/noise_handshake_state.h
  transport/noise_pattern.h transport/noise_symmetric_state.h transport/record_codec.h
  transport/secure_channel.h transport/tcp_link.h transport/tcp_transport.h)
foreach(header ${MESHSLICE_PUBLIC_HEADERS})
  get_filename_component(dir ${header} DIRECTORY)
  install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/${header} DESTINATION ${_meshslice_include}/${dir})
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
