# What keeps the project's own build fast (never applied to consumers).
#
# 1. Precompiled Qt headers. Parsing Qt's headers is most of the time of a
#    library source file's compile: a precompiled set halves it. Only Qt's and
#    the standard library's headers are in the set, never the project's, so that
#    a project header missing an include still fails to compile in a consumer's
#    build (the install tests compile against the installed headers without it).
#    Off by default under ccache, which does not cache compiles that use a
#    precompiled header unless told to be sloppy about it.
# 2. Unity builds of the library (PSA_UNITY_BUILD, off by default: a
#    developer's build keeps one object per source, so that a debugger, a
#    warning and an incremental rebuild name and touch one file). The build
#    scripts and CI switch it on: the library's sources share their headers'
#    parse in a few large compiles, which costs about half the compile time.
# 3. Tests compiled at -O0 without debug information in optimized builds: the
#    library under test keeps the build type's flags, and the test code itself
#    (which waits on the library and its servers) compiles in about 70 % of
#    the time -O1 takes. Their precompiled set is a target of its own, compiled
#    with their flags: the compiler takes no set made at another -O level.
#    Under sanitizers the tests' own code is checked by all of them but
#    UndefinedBehaviorSanitizer, which doubles the compile time of code at
#    -O0: the library and the tests' support code keep every check.
# 4. gold links the project's own programs and libraries (PSA_FAST_LINKER) in
#    about a third of the time of the default linker: the build links some
#    seventy programs.

set(_psa_pch_default ON)
if(CMAKE_CXX_COMPILER_LAUNCHER MATCHES "ccache" OR CMAKE_CXX_COMPILER MATCHES "ccache")
    set(_psa_pch_default OFF)
endif()
option(PSA_PRECOMPILED_HEADERS "Precompile Qt's headers for the project's targets" ${_psa_pch_default})

set(PSA_PCH_CORE_HEADERS
    <memory> <functional> <optional> <algorithm> <utility>
    <QtCore/qobject.h> <QtCore/qstring.h> <QtCore/qstringlist.h> <QtCore/qbytearray.h>
    <QtCore/qlist.h> <QtCore/qhash.h> <QtCore/qset.h> <QtCore/qvariant.h>
    <QtCore/qmetatype.h> <QtCore/qmetaobject.h> <QtCore/qpointer.h> <QtCore/qshareddata.h>
    <QtCore/qdatetime.h> <QtCore/qelapsedtimer.h> <QtCore/qtimer.h> <QtCore/qurl.h>
    <QtCore/qiodevice.h> <QtCore/qfile.h> <QtCore/qfileinfo.h> <QtCore/qdir.h>
    <QtCore/qbuffer.h> <QtCore/qjsondocument.h> <QtCore/qjsonobject.h> <QtCore/qjsonarray.h>
    <QtCore/qloggingcategory.h> <QtCore/qdebug.h>
    <QtSql/qsqldatabase.h> <QtSql/qsqlquery.h> <QtSql/qsqlerror.h> <QtSql/qsqlrecord.h>
    <QtNetwork/qnetworkaccessmanager.h> <QtNetwork/qnetworkrequest.h>
    <QtNetwork/qnetworkreply.h>)

option(PSA_UNITY_BUILD "Compile the library's sources in a few combined batches" OFF)
# Sources per combined compile: the library's ~80 sources in batches that keep
# both cores busy to the end.
set(PSA_UNITY_BUILD_BATCH_SIZE 12 CACHE STRING "Library sources per unity batch")

# psa_unity_build(<target>): the target's sources compiled in batches when
# PSA_UNITY_BUILD is on.
function(psa_unity_build target)
    if(PSA_UNITY_BUILD)
        set_target_properties(${target} PROPERTIES
            UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE ${PSA_UNITY_BUILD_BATCH_SIZE})
    endif()
endfunction()

# The tests' set adds what most tests include (the tests' own targets add Qt
# Test's headers to it: psa_test_precompiled_set()).
set(PSA_PCH_TEST_HEADERS ${PSA_PCH_CORE_HEADERS}
    <QtCore/qtemporarydir.h> <QtCore/qcoreapplication.h> <QtCore/qregularexpression.h>
    <QtCore/qcryptographichash.h> <QtNetwork/qtcpsocket.h> <QtNetwork/qtcpserver.h>)

# The QML plugins' set (the library's QML module and the inspection example's)
# adds the QML engine's headers.
set(PSA_PCH_QML_HEADERS ${PSA_PCH_CORE_HEADERS}
    <QtQml/qqml.h> <QtQml/qqmlengine.h> <QtQml/qqmlparserstatus.h> <QtQml/qjsvalue.h>
    <QtQml/qjsengine.h>)

# The embedded server's set: Qt Core and Network only (it links no Qt SQL).
set(PSA_PCH_SERVER_HEADERS
    <memory> <functional> <optional> <algorithm> <utility>
    <QtCore/qobject.h> <QtCore/qstring.h> <QtCore/qbytearray.h> <QtCore/qlist.h>
    <QtCore/qhash.h> <QtCore/qdatetime.h> <QtCore/qtimer.h> <QtCore/qfile.h>
    <QtCore/qfileinfo.h> <QtCore/qdir.h> <QtCore/qloggingcategory.h>
    <QtNetwork/qtcpsocket.h> <QtNetwork/qtcpserver.h> <QtNetwork/qhostaddress.h>)

# psa_precompile(<target> CORE|TEST|QML|SERVER): `target` precompiles the set for itself.
function(psa_precompile target set)
    if(PSA_PRECOMPILED_HEADERS)
        target_precompile_headers(${target} PRIVATE ${PSA_PCH_${set}_HEADERS})
    endif()
endfunction()

# Qt Test's QT_TESTCASE_BUILDDIR and QT_TESTCASE_SOURCEDIR differ per
# directory, and the compiler uses a precompiled set only when both sides were
# compiled with the same macros: they are undefined for the tests and their
# support library (they serve QFINDTESTDATA only, which no test uses).
function(psa_undefine_testcase_paths target)
    target_compile_options(${target} PRIVATE -UQT_TESTCASE_BUILDDIR -UQT_TESTCASE_SOURCEDIR)
endfunction()

option(PSA_FAST_LINKER "Link the project's own targets with gold where the compiler can" ON)
if(PSA_FAST_LINKER)
    include(CheckLinkerFlag)
    check_linker_flag(CXX "-fuse-ld=gold" PSA_LINKER_GOLD)
    if(PSA_LINKER_GOLD)
        add_link_options(-fuse-ld=gold)
    endif()
endif()

# psa_test_target(<target> [PRECOMPILED_FROM <from>]): the compile options of a
# test's own code, and the precompiled set of `from` reused (a target compiled
# with the same options and macros: psa_test_precompiled_set()).
function(psa_test_target target)
    cmake_parse_arguments(ARG "" "PRECOMPILED_FROM" "" ${ARGN})
    psa_undefine_testcase_paths(${target})
    target_compile_options(${target} PRIVATE
        "$<$<CONFIG:RelWithDebInfo,Release,MinSizeRel>:-O0;-g0>")
    if(PSA_SANITIZE MATCHES "undefined")
        target_compile_options(${target} PRIVATE -fno-sanitize=undefined)
    endif()
    if(PSA_PRECOMPILED_HEADERS AND ARG_PRECOMPILED_FROM)
        target_precompile_headers(${target} REUSE_FROM ${ARG_PRECOMPILED_FROM})
    endif()
endfunction()

# psa_test_precompiled_set(<target> USING <library>): `target`, a library of
# no code that precompiles the tests' set and Qt Test's own headers with the
# tests' options and `library`'s usage requirements, for
# psa_test_target(PRECOMPILED_FROM). Qt Test's headers pick the application
# class of QTEST_MAIN by the Qt modules a test links: a test that links Qt GUI,
# QML or Quick cannot use this set (psa_add_test() leaves it out for them).
function(psa_test_precompiled_set target)
    cmake_parse_arguments(ARG "" "USING" "" ${ARGN})
    set(source ${CMAKE_CURRENT_BINARY_DIR}/${target}.cpp)
    if(NOT EXISTS ${source})
        file(WRITE ${source} "// The tests' precompiled headers are compiled for this file.\n")
    endif()
    add_library(${target} OBJECT ${source})
    set_target_properties(${target} PROPERTIES AUTOMOC OFF)
    target_link_libraries(${target} PRIVATE ${ARG_USING})
    psa_test_target(${target})
    if(PSA_PRECOMPILED_HEADERS)
        target_precompile_headers(${target} PRIVATE ${PSA_PCH_TEST_HEADERS}
            <QtTest/qtest.h> <QtTest/qsignalspy.h>)
    endif()
endfunction()
