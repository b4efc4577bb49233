#!/bin/sh
# pull-valgrind: oci-pull under valgrind (memcheck, leaks included) on a
# successful pull, a resumed pull, an auth flow and a failing one.
# tests/valgrind.supp holds what libcurl's TLS stack keeps for the process.
. "$(dirname "$0")/lib/tap.sh"
. "$TESTS_DIR/fixtures/registry.sh"
. "$TESTS_DIR/fixtures/images.sh"
. "$TESTS_DIR/fixtures/badregistry.sh"
need valgrind 'is the memory checker'
need skopeo 'pushes the test image'
case $BIN in */san/*) skip_all 'the ASan build cannot run under valgrind' ;; esac

VG="valgrind -q --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --suppressions=$TESTS_DIR/valgrind.supp"
registry_start || exit 1
registry_push busybox busybox:latest || exit 1
L=$(image_layout busybox)
badregistry_start "$L" --bearer anon || exit 1

ok 'pull: no memory errors or leaks' $VG "$BIN/oci-pull" -q --json -o "$T/s1" "$REGISTRY/busybox"
ok 'pull again (all present): clean' $VG "$BIN/oci-pull" -q -o "$T/s1" "$REGISTRY/busybox"
ok 'bearer auth, dropped connection resumed: clean' $VG "$BIN/oci-pull" -q -o "$T/s2" "$BAD/drop/img"
fails 1 'digest mismatch: exit 1, clean' $VG "$BIN/oci-pull" -q -o "$T/s3" "$BAD/corrupt/img"
fails 1 'malformed manifest: exit 1, clean' $VG "$BIN/oci-pull" -q -o "$T/s3" "$BAD/malformed/img"
fails 2 'bad reference: exit 2, clean' $VG "$BIN/oci-pull" -q -o "$T/s3" "Bad//ref"
done_testing
