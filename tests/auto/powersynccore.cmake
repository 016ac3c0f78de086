# The PowerSync core and an SQLite new enough for it, as the tests that load
# them find them (scripts/fetch-powersync.sh places them; it runs here too when
# the build tree has none yet). Sets, in the including directory:
#   _lib   the folder holding both (lib/ of PSA_POWERSYNC_DIR)
#   _core  the core's file name for this processor
#   PSA_POWERSYNC_FOUND  whether both are there
# and, when found, the imported library PowerSyncSQLite, which a test links so
# that QSQLITE's libsqlite3.so.0 resolves to it (same soname), as
# doc/powersync.md tells apps to do.
set(PSA_POWERSYNC_DIR "${CMAKE_BINARY_DIR}/powersync" CACHE PATH
    "Where scripts/fetch-powersync.sh placed the PowerSync core and libsqlite3 (in lib/)")
set(_lib "${PSA_POWERSYNC_DIR}/lib")
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64)$")
    set(_core libpowersync_x64.linux.so)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
    set(_core libpowersync_aarch64.linux.so)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^armv7")
    set(_core libpowersync_armv7.linux.so)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^riscv64")
    set(_core libpowersync_riscv64gc.linux.so)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^i.86$")
    set(_core libpowersync_x86.linux.so)
else()
    set(_core libpowersync_${CMAKE_SYSTEM_PROCESSOR}.linux.so)
endif()

if(NOT EXISTS "${_lib}/${_core}" OR NOT EXISTS "${_lib}/libsqlite3.so.0")
    execute_process(COMMAND "${PROJECT_SOURCE_DIR}/scripts/fetch-powersync.sh" "${PSA_POWERSYNC_DIR}"
        RESULT_VARIABLE _fetched)
endif()

set(PSA_POWERSYNC_FOUND OFF)
if(EXISTS "${_lib}/${_core}" AND EXISTS "${_lib}/libsqlite3.so.0")
    set(PSA_POWERSYNC_FOUND ON)
    if(NOT TARGET PowerSyncSQLite)
        add_library(PowerSyncSQLite SHARED IMPORTED GLOBAL)
        set_target_properties(PowerSyncSQLite PROPERTIES
            IMPORTED_LOCATION "${_lib}/libsqlite3.so.0"
            IMPORTED_SONAME libsqlite3.so.0)
    endif()
endif()
