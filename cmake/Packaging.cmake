include(CMakePackageConfigHelpers)

set(PSA_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/PowerSyncAttachments)

# PowerSync::Attachments, and PowerSync::AttachmentsQml (the QML plugin) when
# the QML module is built.
install(EXPORT PowerSyncAttachmentsTargets
    NAMESPACE PowerSync::
    FILE PowerSyncAttachmentsTargets.cmake
    DESTINATION ${PSA_CMAKE_DIR})

set(PSA_PACKAGE_HAS_QML ${PSA_BUILD_QML})
if(TARGET PowerSyncAttachmentsGui)
    set(PSA_PACKAGE_HAS_GUI ON)
else()
    set(PSA_PACKAGE_HAS_GUI OFF)
endif()
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

# pkg-config: ${libdir}/pkgconfig/PowerSyncAttachments.pc, for builds without
# CMake (`pkg-config --cflags --libs PowerSyncAttachments`).
file(RELATIVE_PATH PSA_PC_TO_PREFIX
    ${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" PSA_PC_TO_PREFIX "${PSA_PC_TO_PREFIX}")
set(PSA_PC_LIBS_PRIVATE "${CMAKE_DL_LIBS}")
if(PSA_PC_LIBS_PRIVATE)
    set(PSA_PC_LIBS_PRIVATE "-l${PSA_PC_LIBS_PRIVATE}")
endif()
configure_file(${CMAKE_CURRENT_LIST_DIR}/PowerSyncAttachments.pc.in
    ${CMAKE_CURRENT_BINARY_DIR}/PowerSyncAttachments.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/PowerSyncAttachments.pc
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
