// The moc of the HTTP suites' shared base class, compiled once for every test
// that derives from it.
#include "httpsuite.h"

#include "moc_httpsuite.cpp"
