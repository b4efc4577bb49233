#!/bin/sh
# build-clang: the tree builds warning-free with clang as well as gcc
# (-Werror: clang warns of things gcc does not, and the fuzzers compile
# parts of the tree with it). Into a scratch build directory.
. "$(dirname "$0")/lib/tap.sh"
need clang 'is the other compiler'

ok 'make CC=clang builds every tool without a warning' \
	sh -c "make -s -C '$TOP' -j2 CC=clang BUILD='$T/clang' >'$T/log' 2>&1 || { cat '$T/log' >&2; exit 1; }"
for t in oci-pull oci-unpack mkext4 vmboot vmexec netlinkctl; do
	ok "clang built $t" test -x "$T/clang/bin/$t"
done
done_testing
