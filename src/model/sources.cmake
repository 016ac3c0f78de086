set(_dir ${CMAKE_CURRENT_LIST_DIR})
set(_public
    qattachmentmodel.h
)
target_sources(PowerSyncAttachments PRIVATE
    ${_dir}/qattachmentmodel.cpp
)
foreach(_h ${_public})
    target_sources(PowerSyncAttachments PRIVATE ${_dir}/${_h})
    list(APPEND PSA_PUBLIC_HEADERS ${_dir}/${_h})
endforeach()
