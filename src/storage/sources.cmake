set(_dir ${CMAKE_CURRENT_LIST_DIR})
set(_public
    qattachmentlocalstorage.h
    qfilesystemattachmentstorage.h
    qmemoryattachmentstorage.h
    qattachmenttransfer.h
    qattachmentremotestorage.h
)
target_sources(PowerSyncAttachments PRIVATE
    ${_dir}/qattachmentlocalstorage.cpp
    ${_dir}/qfilesystemattachmentstorage.cpp
    ${_dir}/qmemoryattachmentstorage.cpp
    ${_dir}/qattachmenttransfer.cpp
    ${_dir}/qattachmentremotestorage.cpp
)
foreach(_h ${_public})
    target_sources(PowerSyncAttachments PRIVATE ${_dir}/${_h})
    list(APPEND PSA_PUBLIC_HEADERS ${_dir}/${_h})
endforeach()
