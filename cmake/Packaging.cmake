include(CMakePackageConfigHelpers)

set(PSA_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/PowerSyncAttachments)

install(EXPORT PowerSyncAttachmentsTargets
    NAMESPACE PowerSync::
    FILE PowerSyncAttachmentsTargets.cmake
    DESTINATION ${PSA_CMAKE_DIR})

configure_package_config_file(
    ${CMAKE_CURRENT_LIST_DIR}/PowerSyncAttachmentsConfig.cmake.in
    ${CMAKE_CURRENT_BINARY_DIR}/PowerSyncAttachmentsConfig.cmake
    INSTALL_DESTINATION ${PSA_CMAKE_DIR}
    PATH_VARS CMAKE_INSTALL_INCLUDEDIR)

write_basic_package_version_file(
    ${CMAKE_CURRENT_BINARY_DIR}/PowerSyncAttachmentsConfigVersion.cmake
    COMPATIBILITY SameMinorVersion)

install(FILES
    ${CMAKE_CURRENT_BINARY_DIR}/PowerSyncAttachmentsConfig.cmake
    ${CMAKE_CURRENT_BINARY_DIR}/PowerSyncAttachmentsConfigVersion.cmake
    DESTINATION ${PSA_CMAKE_DIR})
