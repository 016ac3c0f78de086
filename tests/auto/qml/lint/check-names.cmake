# Runs qmllint on wrongnames.qml (cmake -P): it must warn, and every type it
# names must be a public name (AttachmentState, AttachmentError), never a
# class of the QML module's implementation (QQml...).
execute_process(COMMAND ${QMLLINT} -I ${IMPORT_DIR} ${FILE}
    RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(text "${out}${err}")
message(STATUS "${text}")
if(result EQUAL 0)
    message(FATAL_ERROR "qmllint accepted ${FILE}")
endif()
foreach(expected "\"AttachmentState\"" "\"AttachmentError\"")
    string(FIND "${text}" "${expected}" at)
    if(at EQUAL -1)
        message(FATAL_ERROR "qmllint did not name ${expected}")
    endif()
endforeach()
string(REGEX MATCH "QQml[A-Za-z]*" internal "${text}")
if(internal)
    message(FATAL_ERROR "qmllint named the internal type ${internal}")
endif()
