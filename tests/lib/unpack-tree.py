#!/usr/bin/env python3
"""unpack-tree.py: canonical listings of a root filesystem, to compare
oci-unpack's output with umoci's, and a safety check of a tar stream.

  unpack-tree.py dump [--no-owner] [--no-dirtime] DIR|TAR
      one line a path: type mode uid gid size sha256 link xattrs mtime
  unpack-tree.py check-tar TAR
      fails if an entry would land outside a root when extracted
"""
import hashlib, os, stat, sys, tarfile

def h(data): return hashlib.sha256(data).hexdigest()

def fmt(path, typ, mode, uid, gid, size, dig, link, xattrs, mtime, rdev, a):
    if a.no_owner: uid = gid = "-"
    if typ == "dir" and a.no_dirtime: mtime = "-"
    if typ == "link": mode = "-"    # symlink modes are not kept on Linux
    if typ == "link" and a.no_linktime: mtime = "-"
    xs = ",".join("%s=%s" % (k, v.hex()) for k, v in sorted(xattrs.items()))
    return "%s %s %04o %s %s %s %s %s %s %s %s" % (
        path, typ, mode if mode != "-" else 0, uid, gid, size, dig, link,
        xs or "-", mtime, rdev)

def dump_dir(root, a):
    out = []
    for dp, dns, fns in os.walk(root):
        for n in [""] + dns + fns if dp == root else dns + fns:
            p = os.path.join(dp, n) if n else dp
            rel = "." if p == root else "./" + os.path.relpath(p, root)
            st = os.lstat(p)
            m = st.st_mode
            typ = {stat.S_IFREG: "file", stat.S_IFDIR: "dir",
                   stat.S_IFLNK: "link", stat.S_IFCHR: "char",
                   stat.S_IFBLK: "block", stat.S_IFIFO: "fifo"}[stat.S_IFMT(m)]
            dig = h(open(p, "rb").read()) if typ == "file" else "-"
            link = os.readlink(p) if typ == "link" else "-"
            xa = {}
            if typ != "link":
                for k in os.listxattr(p, follow_symlinks=False):
                    xa[k] = os.getxattr(p, k, follow_symlinks=False)
            rdev = "%d,%d" % (os.major(st.st_rdev), os.minor(st.st_rdev)) \
                if typ in ("char", "block") else "-"
            out.append(fmt(rel, typ, stat.S_IMODE(m), st.st_uid, st.st_gid,
                           st.st_size if typ == "file" else 0, dig, link, xa,
                           st.st_mtime_ns, rdev, a))
    return out

def norm(name):
    name = name.rstrip("/")
    while name.startswith("./"): name = name[2:]
    return "." if name in ("", ".") else "./" + name

def dump_tar(path, a):
    out, data = [], {}
    with tarfile.open(path) as t:
        for ti in t:
            n = norm(ti.name)
            if ti.islnk():
                src = data[norm(ti.linkname)]
                ti2, dig = src
            else:
                ti2 = ti
                dig = h(t.extractfile(ti).read()) if ti.isreg() else "-"
                data[n] = (ti, dig)
            typ = "file" if ti2.isreg() else "dir" if ti2.isdir() else \
                "link" if ti2.issym() else "char" if ti2.ischr() else \
                "block" if ti2.isblk() else "fifo"
            xa = {k[len("SCHILY.xattr."):]: v.encode("utf-8", "surrogateescape")
                  for k, v in ti2.pax_headers.items()
                  if k.startswith("SCHILY.xattr.")}
            mt = ti2.pax_headers.get("mtime")
            if mt and "." in mt:
                s, f = mt.split(".")
                mtime = int(s) * 10**9 + int((f + "000000000")[:9])
            else:
                mtime = int(ti2.mtime) * 10**9
            rdev = "%d,%d" % (ti2.devmajor, ti2.devminor) \
                if typ in ("char", "block") else "-"
            out.append(fmt(n, typ, ti2.mode & 0o7777, ti2.uid, ti2.gid,
                           ti2.size if typ == "file" else 0, dig,
                           ti2.linkname if typ == "link" else "-", xa,
                           mtime, rdev, a))
    return sorted(out)

def check_tar(path):
    seen = {}
    bad = []
    with tarfile.open(path) as t:
        for ti in t:
            n = ti.name
            parts = [p for p in n.split("/") if p not in ("", ".")]
            if n.startswith("/") or ".." in parts:
                bad.append("escaping name " + n)
            for i in range(1, len(parts)):
                if seen.get("/".join(parts[:i])) == "sym":
                    bad.append("beneath a symlink: " + n)
            if not parts and not ti.isdir():
                bad.append("root replaced by non-directory")
            if ti.islnk():
                lp = [p for p in ti.linkname.split("/") if p not in ("", ".")]
                if ti.linkname.startswith("/") or ".." in lp or \
                        "/".join(lp) not in seen:
                    bad.append("bad hard link %s -> %s" % (n, ti.linkname))
            seen["/".join(parts)] = "sym" if ti.issym() else "x"
    for b in bad: print(b)
    return 1 if bad else 0

def main():
    args = sys.argv[1:]
    class A: no_owner = no_dirtime = no_linktime = False
    if args[0] == "check-tar": sys.exit(check_tar(args[1]))
    args = args[1:]
    while args[0].startswith("--"):
        setattr(A, args.pop(0)[2:].replace("-", "_"), True)
    p = args[0]
    lines = dump_dir(p, A) if os.path.isdir(p) else dump_tar(p, A)
    print("\n".join(sorted(lines)))

main()
