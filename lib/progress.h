/* progress.h: one status line on stderr, only when stderr is a terminal. */
#ifndef CZ_PROGRESS_H
#define CZ_PROGRESS_H

#include <stdint.h>

/* quiet forces it off; otherwise on when stderr is a tty. */
void progress_init(int quiet);
int progress_enabled(void);
/* Replaces the status line. */
void progress_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Clears the status line, so the next message starts clean. */
void progress_clear(void);
/* "1.5 MiB" style, into buf of at least 16 bytes. */
const char *human_size(uint64_t n, char *buf);

#endif
