include(CMakePackageConfigHelpers)

set(PSA_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/PowerSyncAttachments)

# PowerSync::Attachments, and PowerSync::AttachmentsQml (the QML plugin) when
# the QML module is built.
install(EXPORT PowerSyncAttachmentsTargets
    NAMESPACE PowerSync::
    FILE PowerSyncAttachmentsTargets.cmake
    DESTINATION ${PSA_CMAKE_DIR})

set(PSA_PACKAGE_HAS_QML ${PSA_BUILD_QML})
if(BUILD_SHARED_LIBS)
    set(PSA_PACKAGE_STATIC OFF)
else()
    set(PSA_PACKAGE_STATIC ON)
endif()
configure_package_config_file(
    ${CMAKE_CURRENT_LIST_DIR}/PowerSyncAttachmentsConfig.cmake.in
    ${CMAKE_CURRENT_BINARY_DIR}/PowerSyncAttachmentsConfig.cmake
    INSTALL_DESTINATION ${PSA_CMAKE_DIR}
    PATH_VARS CMAKE_INSTALL_INCLUDEDIR PSA_INSTALL_QMLDIR)

write_basic_package_version_file(
    ${CMAKE_CURRENT_BINARY_DIR}/PowerSyncAttachmentsConfigVersion.cmake
    COMPATIBILITY SameMinorVersion)

install(FILES
    ${CMAKE_CURRENT_BINARY_DIR}/PowerSyncAttachmentsConfig.cmake
    ${CMAKE_CURRENT_BINARY_DIR}/PowerSyncAttachmentsConfigVersion.cmake
    DESTINATION ${PSA_CMAKE_DIR})
