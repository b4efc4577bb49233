#!/bin/sh
# bench/chain: the whole chain for the Debian test image (fixture "debian":
# bookworm minbase, ~170 MB, ~8,700 entries, 2 layers), from the local
# docker-registry to an ext4 rootfs, side by side in one run:
#   reference: skopeo copy docker://... oci:...; umoci unpack --rootless;
#              mke2fs -q -t ext4 -d ROOTFS IMG SIZE
#   cz:        oci-pull; oci-unpack | mkext4 -o IMG
# Every run starts from an empty destination (the registry's storage stays
# in the page cache); the sides run interleaved RUNS times and the best of
# each stage and of each total is kept. Goal: cz at most 1/5 of the
# reference chain. No assertions: it prints, people judge.
. "$(dirname "$0")/../lib/tap.sh"
. "$TESTS_DIR/fixtures/registry.sh"
. "$TESTS_DIR/fixtures/images.sh"
need skopeo 'is the reference pull'
need umoci 'is the reference unpack'
need mke2fs 'is the reference mkfs'
RUNS=${RUNS:-3}

registry_start >/dev/null || exit 1
registry_push debian bench/debian:latest || exit 1
REF=$REGISTRY/bench/debian:latest

now() { date +%s%N; }
ms() { echo $(( ($(now) - $1) / 1000000 )); }
fail() { echo "bench: $* failed" >&2; exit 1; }

# mke2fs needs a size: the content plus a third, plus its journal's 64 MiB
# (mkext4 sizes its image itself and writes no journal by default).
mke2fs_size() { echo "$(( $(du -sk "$1" | cut -f1) * 4 / 3 / 1024 + 64 ))M"; }

reference() {	# dir: sets r_pull r_unpack r_mkfs r_total
	t0=$(now)
	skopeo copy -q --src-tls-verify=false "docker://$REF" "oci:$1/layout:latest" >/dev/null 2>&1 ||
		fail 'skopeo copy'
	r_pull=$(ms $t0); t=$(now)
	umoci unpack --rootless --image "$1/layout:latest" "$1/bundle" >/dev/null 2>&1 ||
		fail 'umoci unpack'
	r_unpack=$(ms $t); size=$(mke2fs_size "$1/bundle/rootfs"); t=$(now)
	mke2fs -q -t ext4 -d "$1/bundle/rootfs" "$1/rootfs.ext4" "$size" >/dev/null 2>&1 ||
		fail 'mke2fs -d'
	r_mkfs=$(ms $t); r_total=$(ms $t0)
}
cz() {	# dir: sets c_pull c_build c_total
	t0=$(now)
	dig=$(oci-pull -q -o "$1/store" "$REF") || fail 'oci-pull'
	c_pull=$(ms $t0); t=$(now)
	oci-unpack -i "$1/store" "$dig" | mkext4 -o "$1/rootfs.ext4" ||
		fail 'oci-unpack | mkext4'
	c_build=$(ms $t); c_total=$(ms $t0)
}
min() { if [ -z "$1" ] || [ "$2" -lt "$1" ]; then echo "$2"; else echo "$1"; fi; }

for i in $(seq 1 "$RUNS"); do
	rm -rf "$T/ref" "$T/cz"; mkdir -p "$T/ref" "$T/cz"; sync
	reference "$T/ref"
	sync
	cz "$T/cz"
	echo "run $i: reference ${r_total} ms (copy $r_pull, unpack $r_unpack, mke2fs $r_mkfs); cz ${c_total} ms (pull $c_pull, unpack|mkext4 $c_build)"
	b_rp=$(min "$b_rp" $r_pull) b_ru=$(min "$b_ru" $r_unpack) b_rm=$(min "$b_rm" $r_mkfs)
	b_rt=$(min "$b_rt" $r_total)
	b_cp=$(min "$b_cp" $c_pull) b_cb=$(min "$b_cb" $c_build) b_ct=$(min "$b_ct" $c_total)
done

layers=$(du -sk "$T/cz/store/blobs" | cut -f1)
echo "image: Debian bookworm minbase, ${layers} KiB of blobs; best of $RUNS interleaved runs"
echo "reference chain:"
printf '  %-34s %7d ms\n' 'skopeo copy' "$b_rp" 'umoci unpack --rootless' "$b_ru" \
	"mke2fs -q -t ext4 -d ($(stat -c %s "$T/ref/rootfs.ext4" | awk '{ printf "%d MiB", $1 / 1048576 }'))" "$b_rm" \
	'total (best run)' "$b_rt"
echo "cz chain:"
printf '  %-34s %7d ms\n' 'oci-pull' "$b_cp" \
	"oci-unpack | mkext4 ($(stat -c %s "$T/cz/rootfs.ext4" | awk '{ printf "%d MiB", $1 / 1048576 }'))" "$b_cb" \
	'total (best run)' "$b_ct"
awk -v c="$b_ct" -v r="$b_rt" -v cp="$b_cp" -v rp="$b_rp" -v cb="$b_cb" -v rb="$((b_ru + b_rm))" 'BEGIN {
	printf "ratio pull cz/reference:            %.2f\n", cp / rp
	printf "ratio unpack+mkfs cz/reference:     %.2f\n", cb / rb
	printf "ratio whole chain cz/reference:     %.2f (goal <= 0.20)\n", c / r }'
