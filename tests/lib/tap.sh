# tap.sh: Test Anything Protocol helpers for the shell tests.
# Source it from a test; every test is runnable alone and through prove.
#   . "$(dirname "$0")/lib/tap.sh"
#   ok 'description' command args...   passes when the command exits 0
#   is "$got" "$want" 'description'     passes when the strings are equal
#   skip_all 'why'                      the whole test cannot run here
#   done_testing                        prints the plan and the exit status

TESTS_DIR=$(cd "$(dirname "$0")" && pwd)
# Tests in subdirectories (bench/, fuzz/) find tests/ above them.
[ -f "$TESTS_DIR/lib/tap.sh" ] || TESTS_DIR=$(cd "$TESTS_DIR/.." && pwd)
TOP=$(cd "$TESTS_DIR/.." && pwd)
BIN=${CZ_BIN:-$TOP/build/bin}
CZ_CACHE=${CZ_CACHE:-/var/cache/cz}
PATH=$BIN:$PATH
export TESTS_DIR TOP BIN CZ_CACHE PATH

_tap_n=0
_tap_failed=0

# A private scratch directory, removed with everything the test started.
T=$(mktemp -d "${TMPDIR:-/tmp}/cz-test.XXXXXX")
_tap_cleanups=
at_exit() { _tap_cleanups="$*
$_tap_cleanups"; }
_tap_exit() {
	_tap_rc=$?
	# A cleanup that fails (wait on a killed registry is 143) must not end
	# a `set -e` test here, before the others ran and with its status.
	set +e
	while IFS= read -r c; do
		[ -n "$c" ] && eval "$c" >/dev/null 2>&1
	done <<EOC
$_tap_cleanups
EOC
	rm -rf "$T"
	exit $_tap_rc
}
trap _tap_exit EXIT
trap 'exit 130' INT TERM

_tap_result() {	# status description
	_tap_n=$((_tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $_tap_n - $2"
	else
		echo "not ok $_tap_n - $2"
		_tap_failed=$((_tap_failed + 1))
	fi
}

diag() { printf '# %s\n' "$*" | sed '2,$s/^/# /'; }
# After a failure, the files' contents as diagnostics on stderr: prove
# shows a test's stderr, so they reach ./check's log (and CI's).
dump_if_failed() {
	[ $_tap_failed -eq 0 ] && return 0
	for _f; do diag "$_f:" "$(cat "$_f" 2>/dev/null)" >&2; done
}

# Helpers' variables are prefixed: a test's own $d or $out stays its own.
ok() {
	_tap_d=$1; shift
	_tap_out=$("$@" 2>&1); _tap_st=$?
	_tap_result $_tap_st "$_tap_d"
	[ $_tap_st -eq 0 ] || diag "command: $* (exit $_tap_st)" "$_tap_out"
	return $_tap_st
}

# Passes when the command fails with exactly the given exit status.
fails() {
	_tap_want=$1; _tap_d=$2; shift 2
	_tap_out=$("$@" 2>&1); _tap_st=$?
	[ $_tap_st -eq "$_tap_want" ]; _tap_r=$?
	_tap_result $_tap_r "$_tap_d"
	[ $_tap_r -eq 0 ] || diag "command: $* (exit $_tap_st, wanted $_tap_want)" "$_tap_out"
	return $_tap_r
}

is() {
	[ "$1" = "$2" ]; _tap_r=$?
	_tap_result $_tap_r "$3"
	[ $_tap_r -eq 0 ] || diag "got:  '$1'" "want: '$2'"
	return $_tap_r
}

like() {	# text pattern description: the text contains the fixed string
	case $1 in *"$2"*) _tap_r=0 ;; *) _tap_r=1 ;; esac
	_tap_result $_tap_r "$3"
	[ $_tap_r -eq 0 ] || diag "got:  '$1'" "want it to contain: '$2'"
	return $_tap_r
}

skip_all() { echo "1..0 # skipped: $*"; exit 0; }

# In CI a missing prerequisite is a failure, never a skip.
need() {	# command why
	command -v "$1" >/dev/null 2>&1 && return 0
	if [ -n "${CI:-}" ]; then
		echo "Bail out! $1 missing: $2"; exit 1
	fi
	skip_all "$1 missing: $2"
}

done_testing() {
	echo "1..$_tap_n"
	[ $_tap_failed -eq 0 ]
}
