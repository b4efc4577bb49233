#!/bin/sh
# Hostile layers (containerd's breakout cases and more) are rejected or
# contained: in directory mode nothing outside the target is created,
# changed or followed; in tar mode no entry would land outside a root.
. "$(dirname "$0")/lib/tap.sh"
need python3 'builds the hostile layers'
need bsdtar 'extracts the tar stream'

python3 "$TESTS_DIR/fixtures/unpack-hostile.py" "$T/cases" || exit 1
# The cases aim at /etc: a tool that followed them would touch the host's.
mkdir "$T/w"
touch "$T/marker"
sleep 0.01

# Builds CASE's layout.
mk() {
	set -- "$1" "$T/cases/$1"
	ls_="$(ls "$2"/*.tar | sort)"
	args=
	for l in $ls_; do args="$args --layer $l:gzip"; done
	python3 "$TESTS_DIR/fixtures/unpack-mklayout.py" "$T/w/lay-$1" "t:$1" \
		$args >/dev/null
}

# The snapshot of everything under $T but the case's own targets.
# Targets live in $T/w; escaping one by ".." would land in $T/w or $T.
snap() {
	(cd "$T" && find . -path ./w -prune -o -newer marker -print | sort
	ls w | grep -Ev '^(err|lay|out|tar|x)-')
}
before=$(snap)

# run CASE EXPECT [checks...]: EXPECT is "reject" or "ok".
run() {
	c=$1 want=$2
	shift 2
	mk "$c"
	oci-unpack -i "$T/w/lay-$c" "t:$c" -C "$T/w/out-$c" 2>"$T/w/err-$c"
	st=$?
	if [ "$want" = reject ]; then
		is "$st" 1 "$c: directory mode rejects it ($(head -c 120 "$T/w/err-$c"))"
		fails 1 "$c: tar mode rejects it" \
			sh -c "oci-unpack -i '$T/w/lay-$c' 't:$c' > '$T/w/tar-$c'"
	else
		is "$st" 0 "$c: directory mode contains it"
		[ $st -eq 0 ] || diag "$(cat "$T/w/err-$c")"
		ok "$c: tar mode" sh -c \
			"oci-unpack -i '$T/w/lay-$c' 't:$c' > '$T/w/tar-$c'"
		ok "$c: tar stream stays inside a root" \
			python3 "$TESTS_DIR/lib/unpack-tree.py" check-tar "$T/w/tar-$c"
		mkdir -p "$T/w/x-$c"
		ok "$c: tar stream extracts" bsdtar -xpf "$T/w/tar-$c" -C "$T/w/x-$c"
		for chk in "$@"; do
			ok "$c: $chk (directory)" sh -c "cd '$T/w/out-$c' && $chk"
			ok "$c: $chk (extracted tar)" sh -c "cd '$T/w/x-$c' && $chk"
		done
	fi
}

run SymlinkAbsolute ok 'test -e etc/emptied' 'test -L localetc'
run SymlinkUpAndOut ok 'test -e etc/emptied'
run SymlinkParentDirectory ok 'test -e emptied'
run SymlinkEmptyTarget reject
run SymlinkDot reject
run SymlinkSlash reject
run SymlinkLoop reject
run DotDotPath reject
run DotDotDeep reject
run AbsolutePath ok 'test "$(cat etc/emptied)" = abs'
run HardlinkAbsolute ok 'test "$(cat localpasswd)" = inside' \
	'test "$(stat -c %i localpasswd)" = "$(stat -c %i etc/passwd)"'
run HardlinkDownAndOut reject
run HardlinkSymlinkParent ok \
	'test "$(stat -c %i lp)" = "$(stat -c %i etc/passwd)"'
run HardlinkMissing reject
run HardlinkDirectory reject
run WhiteoutRoot reject
run WhiteoutRootParent reject
run WhiteoutParent reject
run WhiteoutCurrentDirectory reject
run WhiteoutBare reject
run WhiteoutSymlink ok 'test ! -e localetc && ! test -L localetc' \
	'test "$(cat etc/passwd)" = inside'
run WhiteoutSymlinkPath ok 'test ! -e etc/whitedout' 'test -e etc/passwd'
run WhiteoutDirectoryName ok 'test "$(cat .wh.etc/somefile)" = non-empty'
run WhiteoutDeadSymlinkParent ok 'test -e etc/passwd' 'test -L localetc'
run WhiteoutRelativePath reject
run DirectoryOverrideSymlink ok 'test -d localetc && ! test -L localetc' \
	'test "$(stat -c %i localetc/localpasswd)" = "$(stat -c %i etc/passwd)"'
run SymlinkReplacesDirectory ok 'test -L d' 'test -e etc/emptied' \
	'test -e etc/passwd'
run SymlinkThenFileSameLayer ok 'test -L d' 'test -e etc/emptied'

is "$(find /etc -newer "$T/marker" -name 'emptied*' 2>/dev/null)" "" \
	"the host's /etc is untouched"
is "$(snap)" "$before" "nothing outside the targets changed"
done_testing
