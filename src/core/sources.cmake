set(_dir ${CMAKE_CURRENT_LIST_DIR})
set(_public
    qpowersyncattachmentsglobal.h
    qattachmentstate.h
    qattachment.h
    qwatchedattachmentitem.h
    qattachmenterror.h
    qattachmenterrorhandler.h
    qattachmentqueuetable.h
    qattachmenttransaction.h
    qattachmentqueue.h
)
target_sources(PowerSyncAttachments PRIVATE
    ${_dir}/qattachmentstate.cpp
    ${_dir}/qattachment.cpp
    ${_dir}/qwatchedattachmentitem.cpp
    ${_dir}/qattachmenterror.cpp
    ${_dir}/qattachmenterrorhandler.cpp
    ${_dir}/qattachmentqueuetable.cpp
    ${_dir}/qattachmenttransaction.cpp
    ${_dir}/qattachmentqueue.cpp
    ${_dir}/qattachmentqueue_p.h
    ${_dir}/qattachmentqueueprivate.cpp
    ${_dir}/qattachmentreconciler.cpp
    ${_dir}/qattachmentscheduler.cpp
    ${_dir}/qattachmentnames_p.h
    ${_dir}/qattachmentnames.cpp
    ${_dir}/qattachmentlogging_p.h
    ${_dir}/qattachmentlogging.cpp
)
foreach(_h ${_public})
    target_sources(PowerSyncAttachments PRIVATE ${_dir}/${_h})
    list(APPEND PSA_PUBLIC_HEADERS ${_dir}/${_h})
endforeach()
