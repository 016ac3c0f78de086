set(_dir ${CMAKE_CURRENT_LIST_DIR})
set(_public
    qhttpremotestorage.h
    qpresignedrequest.h
    qpresignedremotestorage.h
)
target_sources(PowerSyncAttachments PRIVATE
    ${_dir}/qhttptransfer_p.h
    ${_dir}/qhttptransfer.cpp
    ${_dir}/qhttpwire_p.h
    ${_dir}/qhttpwire.cpp
    ${_dir}/qhttpoperation_p.h
    ${_dir}/qhttpoperation.cpp
    ${_dir}/qhttpremotestorage.cpp
    ${_dir}/qpresignedrequest.cpp
    ${_dir}/qpresignedremotestorage.cpp
)
foreach(_h ${_public})
    target_sources(PowerSyncAttachments PRIVATE ${_dir}/${_h})
    list(APPEND PSA_PUBLIC_HEADERS ${_dir}/${_h})
endforeach()
