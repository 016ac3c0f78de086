# libFuzzer targets, built by scripts/run-fuzzers.sh with clang, AddressSanitizer
# and UndefinedBehaviorSanitizer. Each target compiles the few sources it tests
# directly, so private helpers need no export.
add_custom_target(psa_fuzzers)

function(psa_add_fuzzer name)
    cmake_parse_arguments(ARG "" "" "SOURCES;LIBRARIES" ${ARGN})
    set(target fuzz_${name})
    add_executable(${target} ${ARG_SOURCES})
    set_target_properties(${target} PROPERTIES AUTOMOC OFF AUTORCC OFF AUTOUIC OFF)
    target_link_libraries(${target} PRIVATE ${ARG_LIBRARIES})
    target_include_directories(${target} PRIVATE
        ${PROJECT_SOURCE_DIR}/src/base ${PROJECT_SOURCE_DIR}/src/core ${PROJECT_SOURCE_DIR}/src/storage
        ${PROJECT_SOURCE_DIR}/src/http ${PROJECT_SOURCE_DIR}/src/s3
        # The generated export and version headers (cmake/PublicHeaders.cmake).
        ${PROJECT_BINARY_DIR}/include/PowerSyncAttachments)
    # The sources are compiled into the fuzzer itself, not imported from the library.
    target_compile_definitions(${target} PRIVATE POWERSYNC_ATTACHMENTS_BUILD)
    set(flags -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
    target_compile_options(${target} PRIVATE ${flags})
    target_link_options(${target} PRIVATE ${flags})
    add_dependencies(psa_fuzzers ${target})
endfunction()
