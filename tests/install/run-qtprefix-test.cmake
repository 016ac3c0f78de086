# Runs in script mode (cmake -P): configures the project (nothing is built)
# with Qt's own prefix as the install prefix, and checks that the QML module
# would be installed into Qt's QML directory and that the package would point
# there.
file(REMOVE_RECURSE ${WORK_DIR})
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR} -G ${GENERATOR}
        -DCMAKE_INSTALL_PREFIX=${QT_PREFIX}
        -DPSA_BUILD_TESTS=OFF -DPSA_BUILD_EXAMPLES=OFF -DPSA_BUILD_BENCHMARKS=OFF
        -DPSA_BUILD_SERVER=OFF -DPSA_BUILD_QML=ON
    RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT result EQUAL 0)
    message(FATAL_ERROR "configure failed (${result}):\n${out}\n${err}")
endif()
file(READ ${WORK_DIR}/qml/cmake_install.cmake install_script)
string(FIND "${install_script}" "set(CMAKE_INSTALL_PREFIX \"${QT_PREFIX}\")" prefix_at)
string(FIND "${install_script}" "\${CMAKE_INSTALL_PREFIX}/${QT_QML_DIR}/PowerSync/Attachments" at)
if(prefix_at LESS 0 OR at LESS 0)
    message(FATAL_ERROR "the QML module is not installed into ${QT_PREFIX}/${QT_QML_DIR}:\n${install_script}")
endif()
file(READ ${WORK_DIR}/PowerSyncAttachmentsConfig.cmake config)
string(FIND "${config}" "\${PACKAGE_PREFIX_DIR}/${QT_QML_DIR}\"" at)
if(at LESS 0)
    message(FATAL_ERROR "the package does not point to ${QT_QML_DIR}:\n${config}")
endif()
message(STATUS "QML module goes to ${QT_PREFIX}/${QT_QML_DIR}")
file(REMOVE_RECURSE ${WORK_DIR})
