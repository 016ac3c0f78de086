# Runs in script mode (cmake -P): the shared library's dynamic symbol table
# holds no logging category (they are internal to the library) and exports
# every public class.
execute_process(COMMAND ${NM} -D -C --defined-only ${LIBRARY}
    RESULT_VARIABLE result OUTPUT_VARIABLE symbols ERROR_VARIABLE err)
if(NOT result EQUAL 0)
    message(FATAL_ERROR "nm failed (${result}): ${err}")
endif()
foreach(category lcQueue lcTransfer lcStorage lcHttp lcS3)
    string(REGEX MATCH "[^\n]*[ :]${category}\\(\\)[^\n]*" found "${symbols}")
    if(found)
        message(FATAL_ERROR "the logging category ${category} is exported: ${found}")
    endif()
endforeach()
foreach(class ${CLASSES})
    string(FIND "${symbols}" " ${class}::" at)
    if(at LESS 0)
        message(FATAL_ERROR "${class} exports nothing")
    endif()
endforeach()
message(STATUS "no logging category exported; every public class is")
