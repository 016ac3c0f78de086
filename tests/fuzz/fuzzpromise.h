#ifndef FUZZPROMISE_H
#define FUZZPROMISE_H

#include <cstdio>
#include <cstdlib>

// A promise a fuzzed parser must keep: a broken one aborts, so that libFuzzer
// keeps the input that did it.
inline void check(bool condition, const char *what)
{
    if (!condition) {
        std::fprintf(stderr, "broken promise: %s\n", what);
        std::abort();
    }
}

#endif // FUZZPROMISE_H
