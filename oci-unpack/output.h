/* output.h: the second pass: the merged tree written out, its file data
 * read back from the spool that the first pass filled. */
#ifndef OCI_UNPACK_OUTPUT_H
#define OCI_UNPACK_OUTPUT_H

#include "layer.h"
#include "layout.h"
#include "tree.h"

#include <stdio.h>

/* A POSIX pax tar stream on fd: ownership, modes, nanosecond mtimes,
 * xattrs, devices, hard links; no entry can land outside a root. */
void tar_write(struct tree *t, const struct spool *sp, int fd);
/* Opens dir, which must be empty or absent, and a staging directory
 * inside it for the first pass's file data (sp->stage). */
void dir_open(const char *dir, struct spool *sp);
/* Sets the owner, mode, xattrs and times of a file staged for entry e
 * (open at fd, created with mode (e->mode & 0777) | 0600). */
void dir_stage_attrs(int fd, const struct entry *e);
/* The tree into that directory; nothing outside it is created,
 * modified or followed. */
void dir_write(struct tree *t, struct spool *sp);
/* One line per path: type, mode, owner, size, link target. */
void list_write(struct tree *t, FILE *out);
/* dir/config.json, an OCI runtime-spec configuration for the image. */
void bundle_write(const struct image *img, struct tree *t,
		  const struct spool *sp, const char *dir);
/* Reads up to cap bytes of a regular file of the tree, or NULL. */
char *tree_read_file(struct tree *t, const struct spool *sp,
		     const char *path, size_t cap);

#endif
