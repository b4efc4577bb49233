#!/bin/sh
# Layer blobs decode as gzip(1) and zstd(1) read them: several gzip
# members or zstd frames in a row, gzip header fields, bytes after the
# last gzip member ignored (the blob digest still covers them); truncated,
# corrupt or mislabelled blobs fail naming the layer. File modes staged
# in the first pass come out exact, in -C and in the stream alike,
# including ones that deny their owner reading.
. "$(dirname "$0")/lib/tap.sh"
need python3 'builds the test layers'
need zstd 'compresses zstd layers'
need bsdtar 'lists the tar stream'

cd "$T" || exit 1
python3 - <<'PY' || exit 1
import io, tarfile, gzip, os
def tf(path, entries):
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as t:
        for name, data, mode in entries:
            ti = tarfile.TarInfo(name); ti.mtime = 1600000000
            ti.size = len(data); ti.mode = mode
            t.addfile(ti, io.BytesIO(data))
big = os.urandom(300000) * 4	# spans several of the decoder's chunks
tf("a.tar", [("ro", b"read only", 0o444), ("none", b"no access", 0o000),
             ("wo", b"write only", 0o200), ("suid", b"s", 0o4755),
             ("sgid", b"g", 0o2711), ("sticky", b"t", 0o1644),
             ("big", big, 0o644)])
raw = open("a.tar", "rb").read()
half = len(raw) // 2
one = gzip.compress(raw, 6, mtime=0)
open("multi.gz", "wb").write(gzip.compress(raw[:half], 6, mtime=0) +
                             gzip.compress(raw[half:], 1, mtime=0))
open("garbage.gz", "wb").write(one + b"\0\0not gzip at all")
open("trunc.gz", "wb").write(one[:len(one) // 2])
bad = bytearray(one); bad[-8] ^= 1	# the CRC-32 in the trailer
open("badcrc.gz", "wb").write(bytes(bad))
open("empty.gz", "wb").write(b"")
open("plain.gz", "wb").write(raw)
PY
# FNAME and a stored name: what `gzip file` writes.
gzip -c a.tar > fname.gz
head -c 100000 a.tar | zstd -q -c > z1 && tail -c +100001 a.tar | zstd -q -c > z2
cat z1 z2 > multi.zst
head -c 50000 multi.zst > trunc.zst

lay() {	# NAME BLOB COMP
	python3 "$TESTS_DIR/fixtures/unpack-mklayout.py" "L-$1" img \
		--layer "$2:$3:a.tar" >/dev/null
}
ref() {	# the tree as bsdtar lists the tar itself
	bsdtar -tvf a.tar | awk '{print $1, $5, $9}' | sort
}
ref > want
bsdtar -xOf a.tar big > big.want
for c in multi.gz:gzip garbage.gz:gzip fname.gz:gzip multi.zst:zstd; do
	b=${c%%:*}
	lay "$b" "$b" "${c#*:}"
	oci-unpack -i "L-$b" img > "$b.out" 2> "$b.err"
	ok "$b: stream accepted" test -s "$b.out"
	# The stream names the root too; the layer does not.
	bsdtar -tvf "$b.out" | awk '$9 != "./" {print $1, $5, $9}' | sort > got
	is "$(cat got)" "$(cat want)" "$b: stream has every mode and size"
	ok "$b: -C accepted" oci-unpack -i "L-$b" img -C "d-$b"
	ok "$b: -C content" cmp big.want "d-$b/big"
done
# Modes, owner-denying ones included, come out exact in -C.
got=$(cd d-multi.gz && stat -c '%a %n' ro none wo suid sgid sticky big | tr '\n' ' ')
is "$got" "444 ro 0 none 200 wo 4755 suid 2711 sgid 1644 sticky 644 big " \
	'-C: modes exact'
is "$(ls -A d-multi.gz | grep -c oci-unpack-stage)" 0 '-C: staging removed'

for c in trunc.gz:gzip:truncated badcrc.gz:gzip:checksum \
	 empty.gz:gzip:'not gzip-compressed' plain.gz:gzip:'not gzip-compressed' \
	 trunc.zst:zstd:truncated a.tar:zstd:'not zstd-compressed'; do
	b=${c%%:*}; r=${c#*:}; comp=${r%%:*}; why=${r#*:}
	lay "bad-$b-$comp" "$b" "$comp"
	oci-unpack -i "L-bad-$b-$comp" img > /dev/null 2> err; st=$?
	is "$st" 1 "$b as $comp: refused"
	like "$(cat err)" "$why" "$b as $comp: says why"
	like "$(cat err)" "layer sha256:" "$b as $comp: names the layer"
	oci-unpack -i "L-bad-$b-$comp" img -C "bad-$b-$comp" 2> /dev/null
	ok "$b as $comp: -C leaves nothing" test ! -e "bad-$b-$comp"
done
done_testing
