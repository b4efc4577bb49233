/* fsutil.h: whole-file reads with a size cap, and atomic replacement. */
#ifndef CZ_FSUTIL_H
#define CZ_FSUTIL_H

#include <stddef.h>

/* Reads all of path into a NUL-terminated buffer. -1 with errno set,
 * EFBIG when the file is larger than cap. */
int read_file(const char *path, size_t cap, char **out, size_t *len);
/* Writes buf to a temporary file beside path, syncs it and renames it
 * over path, so a reader sees the old or the new file, never a part. */
int write_file_atomic(const char *path, const void *buf, size_t len);
/* write(2) until done or error. */
int write_all(int fd, const void *buf, size_t len);

#endif
