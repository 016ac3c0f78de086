# Script mode (cmake -P): installs the build into a scratch prefix, then checks
# `import PowerSync.Attachments` from there alone with qmllint and qmltestrunner.
include(${CMAKE_CURRENT_LIST_DIR}/../../../install/installstep.cmake)
install_into_scratch_prefix()
set(qmldir ${prefix}/${QML_INSTALL_DIR})
foreach(file qmldir PowerSyncAttachmentsQml.qmltypes libPowerSyncAttachmentsQml.so
        AttachmentThumbnail.qml)
    if(NOT EXISTS ${qmldir}/PowerSync/Attachments/${file})
        message(FATAL_ERROR "${file} was not installed in ${qmldir}/PowerSync/Attachments")
    endif()
endforeach()
# The build tree must not be what makes it work.
set(ENV{QML_IMPORT_PATH} "")
set(ENV{QML2_IMPORT_PATH} "")
set(ENV{QT_QPA_PLATFORM} offscreen)
step(${QMLLINT} -I ${qmldir} ${TEST_FILE})
step(${QMLTESTRUNNER} -import ${qmldir} -input ${TEST_FILE})

# qmlls (the language server of Qt Creator and editors) completes the module's
# types from the install tree alone.
if(QMLLS AND PYTHON)
    step(${PYTHON} ${CMAKE_CURRENT_LIST_DIR}/qmlls-completion.py ${QMLLS} ${qmldir} ${WORK_DIR}/qmlls)
endif()
