# libFuzzer targets, built by scripts/run-fuzzers.sh with clang, AddressSanitizer
# and UndefinedBehaviorSanitizer. Each target compiles the few sources it tests
# directly, so private helpers need no export.
add_custom_target(psa_fuzzers)

set(PSA_FUZZER_FLAGS -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)

# What every fuzzer and every set of sources fuzzers share compiles with.
function(_psa_fuzzer_compile_settings target)
    target_include_directories(${target} PRIVATE
        ${PROJECT_SOURCE_DIR}/src/base ${PROJECT_SOURCE_DIR}/src/core ${PROJECT_SOURCE_DIR}/src/storage
        ${PROJECT_SOURCE_DIR}/src/http ${PROJECT_SOURCE_DIR}/src/s3
        # The generated export and version headers (cmake/PublicHeaders.cmake).
        ${PROJECT_BINARY_DIR}/include/PowerSyncAttachments)
    # The sources are compiled into the fuzzer itself, not imported from the library.
    target_compile_definitions(${target} PRIVATE POWERSYNC_ATTACHMENTS_BUILD)
    target_compile_options(${target} PRIVATE ${PSA_FUZZER_FLAGS})
endfunction()

# psa_add_fuzzer_sources(<name> SOURCES ... LIBRARIES ...): library sources that
# several fuzzers compile, compiled once (an object library fuzzers link).
function(psa_add_fuzzer_sources name)
    cmake_parse_arguments(ARG "" "" "SOURCES;LIBRARIES" ${ARGN})
    add_library(${name} OBJECT ${ARG_SOURCES})
    set_target_properties(${name} PROPERTIES AUTOMOC OFF AUTORCC OFF AUTOUIC OFF)
    target_link_libraries(${name} PUBLIC ${ARG_LIBRARIES})
    _psa_fuzzer_compile_settings(${name})
endfunction()

function(psa_add_fuzzer name)
    cmake_parse_arguments(ARG "" "" "SOURCES;LIBRARIES" ${ARGN})
    set(target fuzz_${name})
    add_executable(${target} ${ARG_SOURCES})
    set_target_properties(${target} PROPERTIES AUTOMOC OFF AUTORCC OFF AUTOUIC OFF)
    target_link_libraries(${target} PRIVATE ${ARG_LIBRARIES})
    _psa_fuzzer_compile_settings(${target})
    target_link_options(${target} PRIVATE ${PSA_FUZZER_FLAGS})
    add_dependencies(psa_fuzzers ${target})
endfunction()
