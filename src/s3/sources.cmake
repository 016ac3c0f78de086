# Filled in as this area's classes are added (same pattern as core/sources.cmake).
set(_dir ${CMAKE_CURRENT_LIST_DIR})
set(_public)
foreach(_h ${_public})
    target_sources(PowerSyncAttachments PRIVATE ${_dir}/${_h})
    list(APPEND PSA_PUBLIC_HEADERS ${_dir}/${_h})
endforeach()
