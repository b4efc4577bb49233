/* unpack-tree.c: libFuzzer target for oci-unpack's tree_apply(): layer
 * entries as a hostile tar would give them (whiteouts, opaque markers,
 * hard and symbolic links, "..", deep paths), then every invariant the
 * writers rely on. Input: records of a flags byte, a type byte, then
 * the path and the link target, each ended by NUL. */
#include "tree.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const mode_t types[] = {
	S_IFREG, S_IFDIR, S_IFLNK, S_IFCHR, S_IFBLK, S_IFIFO, S_IFSOCK, 0,
};

static const char *take(const uint8_t **p, const uint8_t *end, char *buf,
			size_t cap)
{
	size_t n = 0;

	while (*p < end && **p && n < cap - 1)
		buf[n++] = (char)*(*p)++;
	if (*p < end)
		(*p)++;
	buf[n] = '\0';
	return buf;
}

struct check {
	struct tree *t;
	size_t nodes;
};

static int check_node(struct node *n, void *arg)
{
	struct check *c = arg;
	char *path = tree_path(n);

	c->nodes++;
	/* Written paths are plain: no "..", nothing absolute, no empty or
	 * "." component, and each names its own node. */
	if (path[0] == '/' || strstr(path, "//") || !strcmp(path, "..") ||
	    !strncmp(path, "../", 3) || strstr(path, "/../") ||
	    (strlen(path) >= 3 && !strcmp(path + strlen(path) - 3, "/..")))
		__builtin_trap();
	if (n->parent && (!*n->name || !strcmp(n->name, ".") ||
			  strchr(n->name, '/')))
		__builtin_trap();
	if (n->parent && !S_ISDIR(n->parent->ino->mode))
		__builtin_trap();
	if (!S_ISLNK(n->ino->mode) && tree_lookup(c->t, path) != n)
		__builtin_trap();
	if (S_ISLNK(n->ino->mode) && (!n->ino->symlink || !*n->ino->symlink))
		__builtin_trap();
	if (n->ino->refs == 0 || (S_ISDIR(n->ino->mode) && n->ino->refs != 1))
		__builtin_trap();
	free(path);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	char path[512], link[512], err[256];
	struct xattr x = { .name = "user.fuzz", .value = "v", .len = 1 };
	struct check c;
	struct entry e;
	struct tree t;
	int layer = 0;

	tree_init(&t);
	while (end - p >= 2) {
		uint8_t flags = *p++, type = *p++;

		memset(&e, 0, sizeof(e));
		layer += flags & 1;
		e.path = take(&p, end, path, sizeof(path));
		take(&p, end, link, sizeof(link));
		e.mode = types[type & 7] | (mode_t)((type >> 3) * 0111 & 07777);
		if (flags & 2)
			e.hardlink = link;
		else if (S_ISLNK(e.mode))
			e.symlink = (flags & 4) ? NULL : link;
		if (flags & 8) {
			e.xattrs = &x;
			e.nxattrs = 1;
		}
		e.size = S_ISREG(e.mode) ? flags >> 4 : 0;
		e.data_off = p - data;
		err[0] = 'x';
		err[1] = '\0';
		if (tree_apply(&t, &e, layer, err, sizeof(err)) < 0 &&
		    (!err[0] || !strcmp(err, "x")))
			__builtin_trap();	/* an error always says why */
		tree_lookup(&t, e.path);
		tree_lookup(&t, link);
	}
	c.t = &t;
	c.nodes = 0;
	tree_walk(&t, check_node, &c);
	if (c.nodes != t.count + 1)
		__builtin_trap();
	tree_free(&t);
	return 0;
}
