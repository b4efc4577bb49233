#!/bin/sh
# bench/oci-pull: oci-pull against skopeo copy, same multi-layer image
# (fixture "layers": 7 layers, ~25 MiB), same local docker-registry, same
# run; each side pulls into a fresh layout RUNS times. The sides take
# turns, one run each a round, the first of a pair alternating, so a
# slow spell of a shared machine (its disk flushes, a neighbour) falls
# on both alike rather than on whichever ran then. The measure is the
# median of the rounds' ratios: the ratio of the best times, printed
# beside it, swings by a tenth from one bench run to the next here, as
# each side's best is one lucky run.
# Goal: oci-pull at most half of skopeo's wall time.
. "$(dirname "$0")/../lib/tap.sh"
. "$TESTS_DIR/fixtures/registry.sh"
. "$TESTS_DIR/fixtures/images.sh"
need skopeo 'is the other side'
RUNS=${RUNS:-15}

registry_start >/dev/null || exit 1
registry_push layers bench/layers:latest || exit 1

now() { date +%s%N; }
once() {	# name command...: prints the wall time in ms
	_n=$1; shift
	rm -rf "$T/out"
	_t0=$(now); "$@" >/dev/null 2>&1 || { echo "bench: $_n failed" >&2; exit 1; }
	echo $(( ($(now) - _t0) / 1000000 ))
}
pull() { once oci-pull oci-pull -q -o "$T/out" "$REGISTRY/bench/layers:latest"; }
copy() {
	once skopeo skopeo copy -q --src-tls-verify=false \
		"docker://$REGISTRY/bench/layers:latest" "oci:$T/out:latest"
}
: >"$T/times"
for i in $(seq 1 "$RUNS"); do
	if [ $((i % 2)) -eq 1 ]; then p=$(pull) && s=$(copy); else s=$(copy) && p=$(pull); fi ||
		exit 1
	echo "$p $s" >>"$T/times"
done
size=$(du -sk "$T/out" | cut -f1)
echo "image: 7 layers, ${size} KiB; $RUNS rounds, one run of each side a round"
median() { sort -g | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
pm=$(cut -d' ' -f1 "$T/times" | median)
sm=$(cut -d' ' -f2 "$T/times" | median)
ratio=$(awk '{ print $1 / $2 }' "$T/times" | median)
pb=$(cut -d' ' -f1 "$T/times" | sort -n | head -1)
sb=$(cut -d' ' -f2 "$T/times" | sort -n | head -1)
echo "oci-pull:    median $pm ms, best $pb ms"
echo "skopeo copy: median $sm ms, best $sb ms"
awk -v r="$ratio" -v pb="$pb" -v sb="$sb" 'BEGIN {
	printf "ratio oci-pull/skopeo: %.2f, the median of the rounds (goal <= 0.50); %.2f of the best times\n", r, pb / sb }'
