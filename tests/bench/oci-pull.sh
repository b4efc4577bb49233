#!/bin/sh
# bench/oci-pull: oci-pull against skopeo copy, same multi-layer image
# (fixture "layers": 7 layers, ~25 MiB), same local docker-registry, same
# run; each side pulls into a fresh layout RUNS times, best time counts.
# Goal: oci-pull at most half of skopeo's wall time.
. "$(dirname "$0")/../lib/tap.sh"
. "$TESTS_DIR/fixtures/registry.sh"
. "$TESTS_DIR/fixtures/images.sh"
need skopeo 'is the other side'
RUNS=${RUNS:-5}

registry_start >/dev/null || exit 1
registry_push layers bench/layers:latest || exit 1

now() { date +%s%N; }
best() {	# name command...: prints the best wall time in ms
	_n=$1; shift; _best=
	for _i in $(seq 1 "$RUNS"); do
		rm -rf "$T/out"
		_t0=$(now); "$@" >/dev/null 2>&1 || { echo "bench: $_n failed" >&2; exit 1; }
		_ms=$(( ($(now) - _t0) / 1000000 ))
		[ -z "$_best" ] || [ "$_ms" -lt "$_best" ] && _best=$_ms
	done
	echo "$_best"
}
p=$(best oci-pull oci-pull -q -o "$T/out" "$REGISTRY/bench/layers:latest")
s=$(best skopeo skopeo copy -q --src-tls-verify=false \
	"docker://$REGISTRY/bench/layers:latest" "oci:$T/out:latest")
size=$(du -sk "$T/out" | cut -f1)
echo "image: 7 layers, ${size} KiB; best of $RUNS runs each"
echo "oci-pull:    ${p} ms"
echo "skopeo copy: ${s} ms"
awk -v p="$p" -v s="$s" 'BEGIN { printf "ratio oci-pull/skopeo: %.2f (goal <= 0.50)\n", p / s }'
