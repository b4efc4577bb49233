/* err.h: messages and exits in the eprintf style shared by every tool.
 * A format ending in ':' has ": strerror(errno)" appended.
 * Exit codes: 0 success, 1 the operation failed, 2 usage. */
#ifndef CZ_ERR_H
#define CZ_ERR_H

#include <stdarg.h>

enum { EXIT_FAIL = 1, EXIT_USAGE = 2 };

extern const char *progname;

void setprogname(const char *argv0);
void vwarnf(const char *fmt, va_list ap);
void warnf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Debug chatter, printed only when CZ_DEBUG is set in the environment. */
void debugf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
