/* list.c: the flattened tree as text, one path a line, in the spirit of
 * mtree(5): "./path type=file mode=0644 uid=0 gid=0 size=12". */
#include "output.h"
#include "xalloc.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

/* Octal escapes for what would break a line or a field (mtree's vis). */
static void put_name(FILE *out, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = *s;
		if (ch <= ' ' || ch >= 0x7f || ch == '\\' || ch == '=')
			fprintf(out, "\\%03o", ch);
		else
			fputc(ch, out);
	}
}

static const char *type_name(mode_t m)
{
	return S_ISREG(m) ? "file" : S_ISDIR(m) ? "dir" : S_ISLNK(m) ? "link" :
	       S_ISCHR(m) ? "char" : S_ISBLK(m) ? "block" : "fifo";
}

static int list_one(struct node *n, void *arg)
{
	FILE *out = arg;
	struct inode *ino = n->ino;
	char *p = tree_path(n);

	fputs(".", out);
	if (n->parent) {
		fputc('/', out);
		put_name(out, p);
	}
	fprintf(out, " type=%s mode=%04o uid=%u gid=%u", type_name(ino->mode),
		(unsigned)(ino->mode & 07777), (unsigned)ino->uid,
		(unsigned)ino->gid);
	if (S_ISREG(ino->mode))
		fprintf(out, " size=%lld", (long long)ino->size);
	if (S_ISLNK(ino->mode)) {
		fputs(" link=", out);
		put_name(out, ino->symlink);
	}
	if (S_ISCHR(ino->mode) || S_ISBLK(ino->mode))
		fprintf(out, " device=%u,%u", major(ino->rdev),
			minor(ino->rdev));
	if (ino->primary != n) {
		char *l = tree_path(ino->primary);
		fputs(" hardlink=./", out);
		put_name(out, l);
		free(l);
	}
	fprintf(out, " time=%lld.%09ld\n", (long long)ino->mtime,
		ino->mtime_ns);
	free(p);
	return 0;
}

void list_write(struct tree *t, FILE *out)
{
	tree_walk(t, list_one, out);
}
