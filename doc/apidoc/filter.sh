#!/bin/sh
# Doxygen input filter for the public headers: their documentation is written
# as plain // comments above (or beside) what they describe. Turns a comment
# line into a documentation comment, a trailing comment after "," or ";" into
# a member's trailing documentation, and escapes what Doxygen would read as
# commands or HTML (<id>, @scope, \n) so that the text shows as written.
exec sed -E \
    -e '/^[[:space:]]*\/\/( |$)/{
s/[\\@<>&]/\\&/g
s/^([[:space:]]*)\/\/( |$)/\1\/\/\/\2/
}' \
    -e '/[,;][[:space:]]+\/\/ /{
h
s/^.*[,;][[:space:]]+\/\/ //
s/[\\@<>&]/\\&/g
x
s/^(.*[,;])[[:space:]]+\/\/ .*$/\1 \/\/\/< /
G
s/\n//
}' \
    "$1"
