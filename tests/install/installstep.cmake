# What the install checks share (script mode, cmake -P).

# step(<command> [<arg>...]): runs one step of a check; a failure stops the
# check with the command and its output, success prints that output.
function(step)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT result EQUAL 0)
        message(FATAL_ERROR "step failed (${result}): ${ARGN}\n${out}\n${err}")
    endif()
    message(STATUS "${out}${err}")
endfunction()

# Empties WORK_DIR and installs the build in BUILD_DIR into ${WORK_DIR}/prefix,
# which `prefix` names afterwards.
macro(install_into_scratch_prefix)
    file(REMOVE_RECURSE ${WORK_DIR})
    set(prefix ${WORK_DIR}/prefix)
    step(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
endmacro()
