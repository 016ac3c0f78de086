set(_dir ${CMAKE_CURRENT_LIST_DIR})
set(_public
    qs3credentials.h
    qs3remotestorage.h
)
target_sources(PowerSyncAttachments PRIVATE
    ${_dir}/qs3signer_p.h
    ${_dir}/qs3signer.cpp
    ${_dir}/qs3errors_p.h
    ${_dir}/qs3errors.cpp
    ${_dir}/qs3credentials.cpp
    ${_dir}/qs3remotestorage_p.h
    ${_dir}/qs3remotestorage.cpp
)
foreach(_h ${_public})
    target_sources(PowerSyncAttachments PRIVATE ${_dir}/${_h})
    list(APPEND PSA_PUBLIC_HEADERS ${_dir}/${_h})
endforeach()
