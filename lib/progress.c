/* progress.c: see progress.h. */
#include "progress.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static int enabled;
static int dirty;

void progress_init(int quiet)
{
	enabled = !quiet && isatty(STDERR_FILENO);
}

int progress_enabled(void)
{
	return enabled;
}

void progress_line(const char *fmt, ...)
{
	va_list ap;

	if (!enabled)
		return;
	fputs("\r\033[K", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fflush(stderr);
	dirty = 1;
}

void progress_clear(void)
{
	if (enabled && dirty)
		fputs("\r\033[K", stderr);
	dirty = 0;
}

const char *human_size(uint64_t n, char *buf)
{
	static const char *unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, 16, "%llu B", (unsigned long long)n);
	else
		snprintf(buf, 16, "%.1f %s", v, unit[u]);
	return buf;
}
