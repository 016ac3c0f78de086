# Runs in script mode (cmake -P): install, configure the consumer, build, run.
include(${CMAKE_CURRENT_LIST_DIR}/installstep.cmake)
install_into_scratch_prefix()
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

# Without CMake: pkg-config's flags alone compile, link and run a program.
if(PKG_CONFIG AND CXX)
    file(GLOB_RECURSE pc_files ${prefix}/*/PowerSyncAttachments.pc)
    if(NOT pc_files)
        message(FATAL_ERROR "PowerSyncAttachments.pc was not installed under ${prefix}")
    endif()
    list(GET pc_files 0 pc_file)
    get_filename_component(pc_dir ${pc_file} DIRECTORY)
    get_filename_component(lib_dir ${pc_dir} DIRECTORY)
    set(ENV{PKG_CONFIG_PATH} "${pc_dir}")
    execute_process(COMMAND ${PKG_CONFIG} --cflags --libs PowerSyncAttachments
        RESULT_VARIABLE result OUTPUT_VARIABLE flags ERROR_VARIABLE err
        OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(NOT result EQUAL 0)
        message(FATAL_ERROR "pkg-config --cflags --libs PowerSyncAttachments failed: ${err}")
    endif()
    string(FIND "${flags}" "${prefix}" at)
    if(at EQUAL -1)
        message(FATAL_ERROR "pkg-config flags do not point into ${prefix}: ${flags}")
    endif()
    separate_arguments(flag_list UNIX_COMMAND "${flags}")
    step(${CXX} -std=c++17 -fPIC ${CONSUMER_SOURCE_DIR}/pkgconfig.cpp ${flag_list}
         -o ${WORK_DIR}/pkgconfig-consumer)
    step(${CMAKE_COMMAND} -E env LD_LIBRARY_PATH=${lib_dir} ${WORK_DIR}/pkgconfig-consumer)
endif()
