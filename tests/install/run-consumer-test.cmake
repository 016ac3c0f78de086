# Runs in script mode (cmake -P): install, configure the consumer, build, run.
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)

function(step)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT result EQUAL 0)
        message(FATAL_ERROR "step failed (${result}): ${ARGN}\n${out}\n${err}")
    endif()
    message(STATUS "${out}")
endfunction()

step(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
if(NOT EXISTS ${prefix}/lib/cmake/PowerSyncAttachments/PowerSyncAttachmentsConfig.cmake
   AND NOT EXISTS ${prefix}/lib/x86_64-linux-gnu/cmake/PowerSyncAttachments/PowerSyncAttachmentsConfig.cmake)
    message(FATAL_ERROR "the package config was not installed under ${prefix}")
endif()
if(NOT DEFINED EXPECT_QML)
    set(EXPECT_QML ON)
endif()
step(${CMAKE_COMMAND} -S ${CONSUMER_SOURCE_DIR} -B ${WORK_DIR}/build -G ${GENERATOR}
     -DCMAKE_PREFIX_PATH=${prefix} -DPSA_EXPECT_QML=${EXPECT_QML})
step(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
step(${WORK_DIR}/build/consumer ${WORK_DIR})
