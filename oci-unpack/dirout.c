/* dirout.c: the merged tree written into a directory. Every path is
 * opened under the root with openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS)
 * (or, on kernels without it, one O_NOFOLLOW component at a time) and
 * the last component is created with O_EXCL or the *at() call that
 * never follows it: nothing outside the root is created, changed or
 * followed, even if something else writes into the root meanwhile.
 * File data is written once, during the first pass, into a staging
 * directory inside the root (mode 0700, a random name); the second
 * pass renames each file into place with RENAME_NOREPLACE once every
 * layer is verified, and a failure removes what was staged. */
#include "output.h"
#include "err.h"
#include "fsutil.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <dirent.h>

#define STAGE_PREFIX ".oci-unpack-stage."

/* The output directory and its staging directory, from dir_open() on:
 * static so that an exit on failure can remove what was written. */
static struct {
	const char *dir;
	int root, stage;
	int made_root;		/* dir did not exist before */
	int done;
	char name[64];		/* the staging directory's */
	int is_root;		/* may chown */
	uid_t uid;		/* the owner a staged file is created with */
	gid_t gid;
	int exact_mode;		/* created with the mode asked for */
} out = { .root = -1, .stage = -1 };

struct dir_ctx {
	int root;
	int is_root;		/* may chown and mknod */
	const struct spool *sp;
	struct node **dirs;	/* in walk order, fixed up in reverse */
	size_t ndirs, dircap;
	struct node *pnode;	/* the parent directory pfd refers to */
	int pfd;
};

/* Opens path (relative to root, "" for root) beneath root without
 * following any symlink. */
static int open_beneath(int root, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_NOFOLLOW | O_CLOEXEC),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
			   RESOLVE_NO_MAGICLINKS,
	};
	char *p, *c, *next;
	int fd, nfd;

	if (!*path)
		return openat(root, ".", flags | O_CLOEXEC);
	fd = syscall(SYS_openat2, root, path, &how, sizeof(how));
	if (fd >= 0 || errno != ENOSYS)
		return fd;
	/* Older kernels: walk it one component at a time. */
	p = xstrdup(path);
	fd = openat(root, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	for (c = p; fd >= 0 && c; c = next) {
		if ((next = strchr(c, '/')))
			*next++ = '\0';
		nfd = openat(fd, c, (next ? O_PATH | O_DIRECTORY : flags) |
			     O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		fd = nfd;
	}
	free(p);
	return fd;
}

static int parent_fd(struct dir_ctx *c, struct node *n)
{
	char *p;

	if (c->pnode == n->parent)
		return c->pfd;
	if (c->pfd >= 0)
		close(c->pfd);
	p = tree_path(n->parent);
	if ((c->pfd = open_beneath(c->root, p, O_PATH | O_DIRECTORY)) < 0)
		die("%s:", *p ? p : ".");
	free(p);
	c->pnode = n->parent;
	return c->pfd;
}

static void soft_fail(const char *path, const char *what)
{
	if (errno == EPERM || errno == ENOTSUP || errno == EOPNOTSUPP)
		warnf("%s: %s:", path, what);
	else
		die("%s: %s:", path, what);
}

/* Ownership, mode, xattrs, times, in that order: chown clears setuid. */
static void set_attrs(struct dir_ctx *c, int fd, int pfd, const char *name,
		      const struct inode *ino, const char *path)
{
	struct timespec ts[2] = {
		{ .tv_sec = ino->mtime, .tv_nsec = ino->mtime_ns },
		{ .tv_sec = ino->mtime, .tv_nsec = ino->mtime_ns },
	};
	char proc[64];
	size_t i;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (c->is_root && fchownat(fd, "", ino->uid, ino->gid,
				   AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		die("%s: chown:", path);
	if (!S_ISLNK(ino->mode) && chmod(proc, ino->mode & 07777) < 0)
		die("%s: chmod:", path);
	for (i = 0; i < ino->nxattrs; i++)
		if (setxattr(proc, ino->xattrs[i].name, ino->xattrs[i].value,
			     ino->xattrs[i].len, 0) < 0)
			soft_fail(path, ino->xattrs[i].name);
	if (pfd >= 0 ? utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0 :
	    futimens(fd, ts) < 0)
		die("%s: utimens:", path);
}

static int create(struct node *n, void *arg)
{
	struct dir_ctx *c = arg;
	struct inode *ino = n->ino;
	char *path;
	int pfd, fd;

	if (S_ISDIR(ino->mode)) {
		c->dirs = xgrow(c->dirs, &c->dircap, c->ndirs + 1,
				sizeof(*c->dirs));
		c->dirs[c->ndirs++] = n;
	}
	if (!n->parent)
		return 0;
	path = tree_path(n);
	pfd = parent_fd(c, n);
	if (ino->primary != n) {
		char *target = tree_path(ino->primary);
		int tfd = open_beneath(c->root, "", O_PATH | O_DIRECTORY);
		char *slash = strrchr(target, '/');
		if (slash) {
			*slash = '\0';
			close(tfd);
			if ((tfd = open_beneath(c->root, target,
						O_PATH | O_DIRECTORY)) < 0)
				die("%s:", target);
		}
		if (linkat(tfd, slash ? slash + 1 : target, pfd, n->name, 0) < 0)
			die("%s: hard link:", path);
		close(tfd);
		free(target);
	} else if (S_ISDIR(ino->mode)) {
		if (mkdirat(pfd, n->name, 0700) < 0)
			die("%s: mkdir:", path);
	} else if (S_ISREG(ino->mode) && ino->data_off >= 0) {
		/* Staged complete but for a mode that denies its owner. */
		char name[STAGE_NAME_MAX], proc[64];
		stage_name(ino->data_off, name);
		if ((ino->mode & 0600) != 0600) {
			fd = openat(c->sp->stage, name, O_PATH | O_NOFOLLOW |
				    O_CLOEXEC);
			if (fd < 0)
				die("%s: staged data:", path);
			snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
			if (chmod(proc, ino->mode & 07777) < 0)
				die("%s: chmod:", path);
			close(fd);
		}
		if (renameat2(c->sp->stage, name, pfd, n->name,
			      RENAME_NOREPLACE) < 0)
			die("%s: rename:", path);
	} else if (S_ISREG(ino->mode)) {
		fd = openat(pfd, n->name, O_WRONLY | O_CREAT | O_EXCL |
			    O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			die("%s:", path);
		set_attrs(c, fd, -1, NULL, ino, path);
		if (close(fd) < 0)
			die("%s: close:", path);
	} else {
		if (S_ISLNK(ino->mode)) {
			if (symlinkat(ino->symlink, pfd, n->name) < 0)
				die("%s: symlink:", path);
		} else if (mknodat(pfd, n->name, ino->mode & ~07777 & S_IFMT,
				   ino->rdev) < 0) {
			if (errno != EPERM || c->is_root)
				die("%s: mknod:", path);
			warnf("%s: mknod: skipped, not root", path);
			free(path);
			return 0;
		}
		if ((fd = openat(pfd, n->name, O_PATH | O_NOFOLLOW |
				 O_CLOEXEC)) < 0)
			die("%s:", path);
		set_attrs(c, fd, pfd, n->name, ino, path);
		close(fd);
	}
	free(path);
	return 0;
}

static void fix_dir(struct dir_ctx *c, struct node *n)
{
	char *path = tree_path(n);
	int fd = open_beneath(c->root, path, O_RDONLY | O_DIRECTORY);

	if (fd < 0)
		die("%s:", *path ? path : ".");
	set_attrs(c, fd, -1, NULL, n->ino, *path ? path : ".");
	close(fd);
	free(path);
}

/* Removes what is left in the staging directory, and the staging
 * directory; on failure the output directory too if this run made it. */
static void stage_cleanup(void)
{
	struct dirent *de;
	DIR *d;
	int fd;

	if (out.stage < 0)
		return;
	if ((fd = dup(out.stage)) >= 0 && (d = fdopendir(fd))) {
		while ((de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				unlinkat(out.stage, de->d_name, 0);
		closedir(d);
	}
	close(out.stage);
	out.stage = -1;
	if (unlinkat(out.root, out.name, AT_REMOVEDIR) < 0 && out.done)
		warnf("%s/%s: rmdir:", out.dir, out.name);
	if (!out.done && out.made_root)
		rmdir(out.dir);
}

/* A staged file's owner, mode, xattrs and times, set in the first pass
 * from its own tar entry: a regular file's attributes never change
 * after it (tree.c), and a staged file is open already. A mode denying
 * its owner reading or writing waits for the rename, so that --bundle
 * can still read the file. */
void dir_stage_attrs(int fd, const struct entry *e)
{
	struct timespec ts[2] = {
		{ .tv_sec = e->mtime, .tv_nsec = e->mtime_ns },
		{ .tv_sec = e->mtime, .tv_nsec = e->mtime_ns },
	};
	int chowned = 0;
	size_t i;

	if (out.is_root && (e->uid != out.uid || e->gid != out.gid)) {
		if (fchown(fd, e->uid, e->gid) < 0)
			die("%s: chown:", e->path);
		chowned = 1;
	}
	/* chown clears setuid and setgid, creation may not set them. */
	if ((e->mode & 0600) == 0600 && (chowned || !out.exact_mode ||
					 (e->mode & 07000)) &&
	    fchmod(fd, e->mode & 07777) < 0)
		die("%s: chmod:", e->path);
	for (i = 0; i < e->nxattrs; i++)
		if (fsetxattr(fd, e->xattrs[i].name, e->xattrs[i].value,
			      e->xattrs[i].len, 0) < 0)
			soft_fail(e->path, e->xattrs[i].name);
	if (futimens(fd, ts) < 0)
		die("%s: utimens:", e->path);
}

/* Who owns a file created in the staging directory, and whether its
 * creation mode holds: a default ACL would mask it instead of umask. */
static void stage_probe(void)
{
	struct stat st;

	if (fstat(out.stage, &st) < 0)
		die("%s/%s:", out.dir, out.name);
	out.is_root = geteuid() == 0;
	out.uid = geteuid();
	out.gid = st.st_mode & S_ISGID ? st.st_gid : getegid();
	out.exact_mode = fgetxattr(out.stage, "system.posix_acl_default",
				   NULL, 0) < 0;
}

/* A random name for the staging directory, into out.name. */
static void stage_pick_name(void)
{
	unsigned char r[8];

	if (getentropy(r, sizeof(r)) < 0)
		die("getentropy:");
	snprintf(out.name, sizeof(out.name), STAGE_PREFIX "%02x%02x%02x"
		 "%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4], r[5],
		 r[6], r[7]);
}

/* A fresh staging directory inside the root, named at random. */
static void stage_make(void)
{
	int tries;

	for (tries = 0; tries < 16; tries++) {
		stage_pick_name();
		if (mkdirat(out.root, out.name, 0700) == 0)
			break;
		if (errno != EEXIST)
			die("%s/%s: mkdir:", out.dir, out.name);
	}
	if ((out.stage = openat(out.root, out.name, O_RDONLY | O_DIRECTORY |
				O_NOFOLLOW | O_CLOEXEC)) < 0)
		die("%s/%s:", out.dir, out.name);
}

void dir_open(const char *dir, struct spool *sp)
{
	struct dirent *de;
	DIR *d;
	int fd;

	out.dir = dir;
	umask(0);
	if (mkdir(dir, 0700) == 0)
		out.made_root = 1;
	else if (errno != EEXIST)
		die("%s: mkdir:", dir);
	if ((out.root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		die("%s:", dir);
	if ((fd = dup(out.root)) < 0 || !(d = fdopendir(fd)))
		die("%s:", dir);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			die("%s: not empty", dir);
	closedir(d);
	stage_make();
	stage_probe();
	atexit(stage_cleanup);
	sp->stage = out.stage;
	sp->nstaged = 0;
}

static int in_root(struct tree *t, const char *name)
{
	struct node *n;

	for (n = t->root->child; n; n = n->next)
		if (!strcmp(n->name, name))
			return 1;
	return 0;
}

void dir_write(struct tree *t, struct spool *sp)
{
	struct dir_ctx c;
	size_t i;

	/* Should the image hold the staging directory's name, move it;
	 * its descriptor follows. (It used to be renamed over a fresh
	 * empty directory whose descriptor then named a removed one.) */
	while (in_root(t, out.name)) {
		char old[sizeof(out.name)];
		memcpy(old, out.name, sizeof(old));
		stage_pick_name();
		if (renameat2(out.root, old, out.root, out.name,
			      RENAME_NOREPLACE) < 0) {
			if (errno != EEXIST)
				die("%s/%s: rename:", out.dir, old);
			memcpy(out.name, old, sizeof(old));
		}
	}
	memset(&c, 0, sizeof(c));
	c.sp = sp;
	c.pfd = -1;
	c.is_root = geteuid() == 0;
	c.root = out.root;
	sp->stage = out.stage;
	tree_walk(t, create, &c);
	out.done = 1;
	stage_cleanup();
	/* Directories last, deepest first: their modes may forbid writing
	 * and their times would move as children arrived. */
	for (i = c.ndirs; i-- > 0;)
		fix_dir(&c, c.dirs[i]);
	if (c.pfd >= 0)
		close(c.pfd);
	close(out.root);
	out.root = -1;
	free(c.dirs);
}
