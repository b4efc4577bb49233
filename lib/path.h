/* path.h: path handling that never lets a name from outside escape. */
#ifndef CZ_PATH_H
#define CZ_PATH_H

#include <sys/types.h>

/* 1 when p is relative, not empty, and has no ".." component. */
int path_is_contained(const char *p);
/* a + "/" + b, with one slash between them. */
char *path_join(const char *a, const char *b);
/* mkdir -p; 0 or -1 with errno. */
int mkdir_p(const char *path, mode_t mode);

#endif
