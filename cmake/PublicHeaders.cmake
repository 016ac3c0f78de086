# The public headers of a library as a Qt module presents them: a CamelCase
# header per class (QAttachmentQueue, forwarding to qattachmentqueue.h), and the
# generated export and version headers.
#
# psa_generate_public_headers(<target> DIRECTORY <dir> HEADERS <header>...)
#
# Writes into <dir> (added to the target's build-tree include path, with its
# parent, so that <QAttachmentQueue> and <PowerSyncAttachments/QAttachmentQueue>
# both resolve) one forwarding header for every class or namespace a public
# header declares with the export macro (`class POWERSYNC_ATTACHMENTS_EXPORT X`,
# `namespace QX {`), and sets <target>_GENERATED_HEADERS to the files to
# install beside the public headers, and the target property PSA_PUBLIC_CLASSES
# to the names of the classes. The headers are scanned again whenever one
# of them changes.
function(psa_generate_public_headers target)
    cmake_parse_arguments(ARG "" "DIRECTORY" "HEADERS" ${ARGN})
    set(dir ${ARG_DIRECTORY})
    file(MAKE_DIRECTORY ${dir})

    if(BUILD_SHARED_LIBS)
        set(POWERSYNC_ATTACHMENTS_STATIC OFF)
    else()
        set(POWERSYNC_ATTACHMENTS_STATIC ON)
    endif()
    math(EXPR PSA_VERSION_HEX
        "(${PROJECT_VERSION_MAJOR} << 16) | (${PROJECT_VERSION_MINOR} << 8) | ${PROJECT_VERSION_PATCH}"
        OUTPUT_FORMAT HEXADECIMAL)
    configure_file(${PROJECT_SOURCE_DIR}/cmake/qpowersyncattachmentsexports.h.in
        ${dir}/qpowersyncattachmentsexports.h @ONLY)
    configure_file(${PROJECT_SOURCE_DIR}/cmake/qpowersyncattachmentsversion.h.in
        ${dir}/qpowersyncattachmentsversion.h @ONLY)
    set(generated ${dir}/qpowersyncattachmentsexports.h ${dir}/qpowersyncattachmentsversion.h)

    set(names "")
    foreach(header ${ARG_HEADERS})
        get_filename_component(path ${header} ABSOLUTE)
        get_filename_component(file ${header} NAME)
        set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${path})
        file(STRINGS ${path} declarations
            REGEX "^(class POWERSYNC_ATTACHMENTS_EXPORT [A-Za-z0-9_]+|namespace Q[A-Za-z0-9_]+ {)")
        foreach(declaration ${declarations})
            string(REGEX REPLACE "^(class POWERSYNC_ATTACHMENTS_EXPORT|namespace) ([A-Za-z0-9_]+).*$"
                "\\2" name "${declaration}")
            if(name IN_LIST names)
                message(FATAL_ERROR "${name} is declared by two public headers")
            endif()
            list(APPEND names ${name})
            # Rewritten only when the content changes: no needless rebuilds.
            file(CONFIGURE OUTPUT ${dir}/${name} CONTENT "#include \"${file}\"\n")
            list(APPEND generated ${dir}/${name})
        endforeach()
    endforeach()

    # Forwarding headers of classes that no longer exist must not linger.
    file(GLOB existing RELATIVE ${dir} ${dir}/Q*)
    foreach(name ${existing})
        if(NOT name IN_LIST names)
            file(REMOVE ${dir}/${name})
        endif()
    endforeach()

    get_filename_component(parent ${dir} DIRECTORY)
    target_include_directories(${target} PUBLIC
        $<BUILD_INTERFACE:${dir}>
        $<BUILD_INTERFACE:${parent}>)
    set(${target}_GENERATED_HEADERS ${generated} PARENT_SCOPE)
    set_property(TARGET ${target} PROPERTY PSA_PUBLIC_CLASSES ${names})
endfunction()
