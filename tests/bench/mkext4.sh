#!/bin/sh
# mkext4 against mke2fs -d on the same content, side by side: a
# Debian-like tree (a slice of this machine's /usr, about 200 MB and 5000
# files) and 100,000 small files. Prints wall time, ratio and max RSS.
set -e
BIN=${CZ_BIN:-$(cd "$(dirname "$0")/../.." && pwd)/build/bin}
TIME=/usr/bin/time
[ -x $TIME ] || { echo "bench: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }
W=$(mktemp -d "${TMPDIR:-/tmp}/cz-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT

debian_like() {	# about 200 MB in about 5000 files, from /usr
	mkdir -p "$1"
	find /usr/lib/x86_64-linux-gnu /usr/bin /usr/share -type f -size -4M -printf '%s %p\n' 2>/dev/null |
	awk '{ t += $1; if (NR > 5000 || t > 200 * 1048576) exit; sub(/^[0-9]+ /, ""); print }' |
	while IFS= read -r f; do
		d=$1${f%/*}; [ -d "$d" ] || mkdir -p "$d"; cp -p "$f" "$d/"
	done
}
small_files() {
	python3 - "$1" <<'PY'
import os, sys
r = sys.argv[1]
for d in range(100):
    os.makedirs(os.path.join(r, 'd%02d' % d))
    for i in range(1000):
        with open(os.path.join(r, 'd%02d' % d, 'f%04d' % i), 'w') as f:
            f.write('x' * (i % 300))
PY
}
measure() {	# var, label, command...: prints seconds and KiB of max RSS
	var=$1 label=$2; shift 2
	sync
	$TIME -f '%e %M' -o "$W/t" "$@" || { echo "bench: $label failed" >&2; exit 1; }
	read -r secs rss < "$W/t"
	printf '  %-28s %7.2f s  %8d KiB max RSS\n' "$label" "$secs" "$rss"
	eval "$var=$secs"
}
run() {	# name, dir
	name=$1 dir=$2
	bytes=$(du -sb "$dir" | cut -f1); files=$(find "$dir" -type f | wc -l)
	size=$(( (bytes * 2 / 1048576 + 256) ))M
	(cd "$dir" && tar --format=pax -cf "$W/tree.tar" .)
	echo "$name: $((bytes / 1048576)) MB, $files files (image ${size} for mke2fs)"
	rm -f "$W/a.img"
	measure ref "mke2fs -d" sh -c 'exec mke2fs -q -F -t ext4 -N $(($4 + 20000)) -d "$1" "$2" "$3" >/dev/null' \
		sh "$dir" "$W/a.img" "$size" "$files"
	rm -f "$W/a.img"
	measure dirs "mkext4 DIR" "$BIN/mkext4" -o "$W/a.img" "$dir"
	e2fsck -fn "$W/a.img" >/dev/null 2>&1 || { echo "bench: e2fsck failed" >&2; exit 1; }
	rm -f "$W/a.img"
	measure tars "mkext4 <tar" sh -c '"$1" -o "$2" < "$3"' sh "$BIN/mkext4" "$W/a.img" "$W/tree.tar"
	awk -v a="$ref" -v d="$dirs" -v t="$tars" 'BEGIN {
		printf "  time ratio mkext4/mke2fs: DIR %.2f, tar %.2f\n", d / a, t / a }'
}
debian_like "$W/debian"
run 'Debian-like tree' "$W/debian"
rm -rf "$W/debian"
small_files "$W/small"
run '100,000 small files' "$W/small"
