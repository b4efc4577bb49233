#!/bin/sh
# Layers merge as the image spec says: whiteouts hide lower entries only,
# opaque markers apply whatever their place in the tar, replacements
# both ways, hard links keep the content they had; media types, digests,
# references, --config, --list and --bundle.
. "$(dirname "$0")/lib/tap.sh"
need python3 'builds the test layers'
need zstd 'compresses a zstd layer'

cd "$T" || exit 1
python3 - <<'PY' || exit 1
import io, tarfile
def tf(path, entries):
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as t:
        for name, typ, data, kw in entries:
            ti = tarfile.TarInfo(name); ti.type = typ; ti.mtime = 1600000000
            for k, v in kw.items(): setattr(ti, k, v)
            if typ == tarfile.REGTYPE: ti.size = len(data)
            t.addfile(ti, io.BytesIO(data) if typ == tarfile.REGTYPE else None)
R, D, S, L = tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE
tf("l1.tar", [
    ("etc", D, None, {"mode": 0o755}),
    ("etc/passwd", R, b"root\n", {}),
    ("etc/keep", R, b"keep\n", {}),
    ("etc/old", R, b"old content", {"mode": 0o600, "uid": 5, "gid": 6}),
    ("etc/hl", L, None, {"linkname": "etc/old"}),
    ("opq", D, None, {}), ("opq/lower", R, b"l", {}),
    ("opq/sub", D, None, {}), ("opq/sub/deep", R, b"d", {}),
    ("d2f", D, None, {}), ("d2f/child", R, b"c", {}),
    ("f2d", R, b"file", {}),
    ("dod", D, None, {"mode": 0o700, "uid": 1}), ("dod/child", R, b"c", {}),
    ("same", R, b"lower", {}),
    ("dev", D, None, {}),
    ("dev/null", tarfile.CHRTYPE, None, {"devmajor": 1, "devminor": 3, "mode": 0o666}),
    ("dev/sda", tarfile.BLKTYPE, None, {"devmajor": 8, "devminor": 0}),
    ("fifo", tarfile.FIFOTYPE, None, {}),
    ("bin", D, None, {}),
    ("bin/su", R, b"su", {"mode": 0o4755}),
    ("bin/wall", R, b"w", {"mode": 0o2755, "gid": 5}),
    ("bin/cap", R, b"cap", {"pax_headers": {"SCHILY.xattr.security.capability": "\x01\x00\x00\x02\x00\x20\x00\x00" + "\x00" * 12, "SCHILY.xattr.user.test": "hello"}}),
    ("ns", R, b"ns", {"pax_headers": {"mtime": "1600000000.123456789"}}),
    ("sym", S, None, {"linkname": "etc/passwd"}),
])
tf("l2.tar", [
    ("etc/.wh.passwd", R, b"", {}),
    ("etc/old", R, b"new content", {"mode": 0o644}),
    ("opq/new", R, b"n", {}),
    ("opq/sub", D, None, {}),
    ("opq/.wh..wh..opq", R, b"", {}),
    ("d2f", R, b"now a file", {}),
    ("f2d", D, None, {}), ("f2d/inside", R, b"i", {}),
    ("dod", D, None, {"mode": 0o755, "uid": 2}),
    ("same", R, b"this layer", {}),
    (".wh.same", R, b"", {}),
    ("usr/implicit/file", R, b"i", {}),
])
PY
python3 "$TESTS_DIR/fixtures/unpack-mklayout.py" L full.example:5000/lib/merge:v1 \
	--layer l1.tar:gzip --layer l2.tar:zstd \
	--config-extra '{"config": {"Entrypoint": ["/bin/sh", "-c"], "Cmd": ["echo hi"], "Env": ["A=1"], "WorkingDir": "/etc", "User": "7:8", "ExposedPorts": {"80/tcp": {}}}}' >mdig || exit 1

ok 'tar stream' sh -c 'oci-unpack -i L full.example:5000/lib/merge:v1 > s.tar'
ok 'directory' oci-unpack -i L full.example:5000/lib/merge:v1 -C d
ok 'list' sh -c 'oci-unpack -i L full.example:5000/lib/merge:v1 --list > list'
python3 "$TESTS_DIR/lib/unpack-tree.py" dump s.tar > s.txt
python3 "$TESTS_DIR/lib/unpack-tree.py" dump d > d.txt
ok 'directory and tar stream agree entry by entry' diff s.txt d.txt

has() { grep -q "^$1 " list; }
ok 'whiteout removes a lower file' sh -c '! grep -q "^./etc/passwd " list'
ok 'the rest of the directory stays' grep -q '^./etc/keep ' list
ok 'opaque: lower entries gone' sh -c '! grep -Eq "^./opq/(lower|sub/deep) " list'
ok 'opaque: the layer own entries stay, before or after the marker' \
	sh -c 'grep -q "^./opq/new " list && grep -q "^./opq/sub type=dir" list'
ok 'directory replaced by a file' grep -q '^./d2f type=file' list
ok 'its children are gone' sh -c '! grep -q "^./d2f/" list'
ok 'file replaced by a directory' grep -q '^./f2d/inside type=file' list
ok 'directory over directory: new attributes' grep -q '^./dod type=dir mode=0755 uid=2 ' list
ok 'directory over directory: children kept' grep -q '^./dod/child ' list
ok 'a whiteout never hides its own layer entry' \
	test "$(cat d/same)" = 'this layer'
ok 'replaced file has new content' test "$(cat d/etc/old)" = 'new content'
ok 'hard link to a replaced path keeps the old content' \
	test "$(cat d/etc/hl)" = 'old content'
ok 'and the old owner and mode' grep -q '^./etc/hl type=file mode=0600 uid=5 gid=6 ' list
ok 'implicit parents are directories' grep -q '^./usr/implicit type=dir' list
ok 'setuid bit' grep -q '^./bin/su type=file mode=4755' list
ok 'setgid bit on disk' test "$(stat -c %a d/bin/wall)" = 2755
ok 'char device' grep -q '^./dev/null type=char mode=0666 .* device=1,3' list
ok 'block device' test -b d/dev/sda
ok 'fifo' test -p d/fifo
ok 'symlink not followed' test "$(readlink d/sym)" = etc/passwd
ok 'mtime nanoseconds on disk' test "$(stat -c %y d/ns)" = "$(TZ=UTC0 date -d @1600000000.123456789 '+%Y-%m-%d %H:%M:%S.%N %z' | sed 's/+0000/+0000/')" || true
like "$(grep '^./ns ' s.txt)" ' 1600000000123456789 ' 'mtime nanoseconds in the stream'
like "$(grep '^./bin/cap ' s.txt)" 'security.capability=01000002002' 'security.capability carried'
like "$(grep '^./bin/cap ' d.txt)" 'user.test=68656c6c6f' 'user xattr written'

# References: full, bare tag, digest, name@digest.
dig=$(cat mdig)
ok 'bare tag finds a full reference name' sh -c 'oci-unpack -i L v1 --list >/dev/null'
ok 'manifest digest' sh -c "oci-unpack -i L $dig --list >/dev/null"
ok 'name@digest' sh -c "oci-unpack -i L x/y@$dig --list >/dev/null"
fails 1 'unknown reference' oci-unpack -i L nope:v2 --list
# Two names ending in the same tag: a bare tag must not pick one.
cp -r L L7 && python3 - <<'PY' || exit 1
import json
i = json.load(open("L7/index.json"))
m = dict(i["manifests"][0]); m["annotations"] = {"org.opencontainers.image.ref.name": "other.example/lib/merge:v1"}
i["manifests"].append(m)
json.dump(i, open("L7/index.json", "w"))
PY
fails 1 'ambiguous bare tag' oci-unpack -i L7 v1 --list
like "$(oci-unpack -i L7 v1 --list 2>&1)" 'v1: ambiguous, it names full.example:5000/lib/merge:v1, other.example/lib/merge:v1' 'ambiguous tag lists its candidates'
ok 'full name still picks one' sh -c 'oci-unpack -i L7 other.example/lib/merge:v1 --list >/dev/null'
fails 2 'no reference is usage' oci-unpack -i L
fails 2 'unknown option is usage' oci-unpack --frobnicate
ok '--help' oci-unpack --help
ok '--version' oci-unpack --version

# --config prints the config blob exactly.
cfgd=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["config"]["digest"].split(":")[1])' "L/blobs/sha256/${dig#sha256:}")
is "$(oci-unpack -i L v1 --config | sha256sum | cut -d' ' -f1)" "$cfgd" '--config prints the config blob'

# --bundle writes a runtime-spec config.json.
ok '--bundle' sh -c 'oci-unpack -i L v1 --bundle b -C b/rootfs'
python3 - b/config.json > bundle.txt <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
p = c["process"]
print(p["args"], p["cwd"], p["user"]["uid"], p["user"]["gid"], "A=1" in p["env"],
      c["annotations"].get("org.opencontainers.image.exposedPorts"), c["root"]["path"])
PY
is "$(cat bundle.txt)" "['/bin/sh', '-c', 'echo hi'] /etc 7 8 True 80/tcp rootfs" 'bundle config.json fields'

# Media types: uncompressed, zstd and Docker's.
python3 "$TESTS_DIR/fixtures/unpack-mklayout.py" L2 plain --layer l1.tar:none --layer l2.tar:none >/dev/null
python3 "$TESTS_DIR/fixtures/unpack-mklayout.py" L3 dock --docker --layer l1.tar:gzip --layer l2.tar:gzip >/dev/null
ok 'uncompressed layers' sh -c 'oci-unpack -i L2 plain > p.tar'
ok 'docker media types' sh -c 'oci-unpack -i L3 dock > k.tar'
is "$(python3 "$TESTS_DIR/lib/unpack-tree.py" dump p.tar)" "$(cat s.txt)" 'uncompressed gives the same tree'
is "$(python3 "$TESTS_DIR/lib/unpack-tree.py" dump k.tar)" "$(cat s.txt)" 'docker gives the same tree'

# Verification: diff_id and blob digest mismatches name both digests.
python3 "$TESTS_DIR/fixtures/unpack-mklayout.py" L4 bad --bad-diff-id 1 --layer l1.tar:gzip --layer l2.tar:gzip >/dev/null
fails 1 'diff_id mismatch fails' oci-unpack -i L4 bad -C bad
err=$(oci-unpack -i L4 bad 2>&1 >/dev/null)
like "$err" "expected sha256:0000000000000000000000000000000000000000000000000000000000000000, got sha256:" 'and names both digests'
ok 'nothing written on a mismatch' test ! -e bad
cp -r L2 L5
blob=$(ls -S L5/blobs/sha256 | head -1)
python3 -c 'import sys; p=sys.argv[1]; d=open(p,"rb").read(); open(p,"wb").write(d.replace(b"old content", b"OLD content"))' "L5/blobs/sha256/$blob"
err=$(oci-unpack -i L5 plain 2>&1 >/dev/null)
like "$err" "digest mismatch: expected sha256:$blob, got sha256:" 'corrupted blob fails naming both digests'

# An index with two platforms.
python3 - <<'PY' || exit 1
import json, hashlib, os, shutil
shutil.copytree("L", "L6")
idx = json.load(open("L6/index.json"))
m = idx["manifests"][0]
plats = []
for arch in ("amd64", "arm64"):
    d = dict(m); d.pop("annotations")
    d["platform"] = {"os": "linux", "architecture": arch}
    plats.append(d)
# arm64 points at the plain image's manifest
p = json.load(open("L2/index.json"))["manifests"][0]
plats[1]["digest"], plats[1]["size"] = p["digest"], p["size"]
for f in os.listdir("L2/blobs/sha256"):
    shutil.copy("L2/blobs/sha256/" + f, "L6/blobs/sha256/" + f)
data = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": plats}).encode()
dg = hashlib.sha256(data).hexdigest()
open("L6/blobs/sha256/" + dg, "wb").write(data)
idx["manifests"] = [{"mediaType": "application/vnd.oci.image.index.v1+json", "digest": "sha256:" + dg, "size": len(data), "annotations": {"org.opencontainers.image.ref.name": "multi"}}]
json.dump(idx, open("L6/index.json", "w"))
PY
ok '--platform linux/arm64' sh -c 'oci-unpack -i L6 multi --platform linux/arm64 --config | grep -q sha256:'
fails 1 'unknown platform' oci-unpack -i L6 multi --platform linux/s390x --list
ok 'default platform picks the host' sh -c 'oci-unpack -i L6 multi --list | grep -q "^./usr/implicit"'

if command -v valgrind >/dev/null && [ -z "${CZ_SAN:-}" ] && ! ldd "$BIN/oci-unpack" | grep -q libasan; then
	ok 'valgrind: tar stream, no leaks or errors' sh -c \
		'valgrind -q --leak-check=full --error-exitcode=1 oci-unpack -i L v1 > vg.tar'
	ok 'valgrind: directory and bundle' valgrind -q --leak-check=full \
		--error-exitcode=1 oci-unpack -i L v1 -C vg --bundle vgb
	ok 'valgrind: hostile layer rejected cleanly' sh -c \
		'valgrind -q --leak-check=full --error-exitcode=9 oci-unpack -i L4 bad >/dev/null 2>&1; test $? = 1'
fi
done_testing
