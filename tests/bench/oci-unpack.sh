#!/bin/sh
# oci-unpack against umoci unpack --rootless and against zcat of the same
# layers, side by side on one Debian bookworm layout. Prints times and
# ratios; asserts nothing. BENCH_DIR picks the filesystem written to.
set -e
top=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${CZ_BIN:-$top/build/bin}
lay=$("$top/tests/fixtures/unpack-debian.sh")
w=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/cz-bench.XXXXXX")
trap 'rm -rf "$w"' EXIT
# Wall seconds of a command; its CPU seconds (user + system, children
# included) go to $w/cpu: on a shared machine they move less than wall.
t() { /usr/bin/time -o "$w/time" -f '%e %U %S' "$@" >/dev/null 2>&1
	read -r e u s < "$w/time"; echo "$u + $s" | bc > "$w/cpu"; echo "$e"; }
layers=$(python3 -c 'import json,sys
l=sys.argv[1]; i=json.load(open(l+"/index.json"))["manifests"][0]["digest"].split(":")[1]
m=json.load(open(l+"/blobs/sha256/"+i))
print(" ".join(l+"/blobs/sha256/"+x["digest"].split(":")[1] for x in m["layers"]))' "$lay")
cat $layers > /dev/null	# warm the page cache for every side alike
# Each side REPEAT times (default 3), interleaved, best run kept: the
# machine is shared. Outputs are removed only at the end, since freshly
# freed inodes slow down the next creations on a journal-less ext4.
min() { if [ -z "$1" ] || [ "$(echo "$2 < $1" | bc)" = 1 ]; then echo "$2"; else echo "$1"; fi; }
zc= um= od= ot= zcc= umc= odc= otc=
i=0
while [ $i -lt "${REPEAT:-3}" ]; do
	zc=$(min "$zc" "$(t sh -c "zcat $layers")"); zcc=$(min "$zcc" "$(cat "$w/cpu")")
	um=$(min "$um" "$(t umoci unpack --rootless --image "$lay:debian:layered" "$w/u$i")")
	umc=$(min "$umc" "$(cat "$w/cpu")")
	od=$(min "$od" "$(t "$BIN/oci-unpack" -i "$lay" debian:layered -C "$w/d$i")")
	odc=$(min "$odc" "$(cat "$w/cpu")")
	ot=$(min "$ot" "$(t sh -c "'$BIN/oci-unpack' -i '$lay' debian:layered > /dev/null")")
	otc=$(min "$otc" "$(cat "$w/cpu")")
	i=$((i + 1))
done
printf 'best of %s runs, in %s\n' "${REPEAT:-3}" "$w"
printf '                              wall   (cpu)\n'
printf 'zcat of the layers          %6.2f s (%5.2f s)\n' "$zc" "$zcc"
printf 'umoci unpack --rootless     %6.2f s (%5.2f s)\n' "$um" "$umc"
printf 'oci-unpack -C DIR           %6.2f s (%5.2f s)  umoci / this = %.1fx (cpu %.1fx)\n' \
	"$od" "$odc" "$(echo "$um / $od" | bc -l)" "$(echo "$umc / $odc" | bc -l)"
printf 'oci-unpack > /dev/null      %6.2f s (%5.2f s)  umoci / this = %.1fx, this / zcat = %.2fx\n' \
	"$ot" "$otc" "$(echo "$um / $ot" | bc -l)" "$(echo "$ot / $zc" | bc -l)"
