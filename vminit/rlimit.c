/* rlimit.c: the spec's rlimits, set before the user switch so a hard
 * limit can still be raised. */
#include "vminit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

int rlimits_apply(const struct procspec *s, char *err, size_t errlen)
{
	for (size_t i = 0; i < s->nrlimits; i++) {
		const struct rlim *l = &s->rlimits[i];
		struct rlimit rl = { .rlim_cur = l->soft, .rlim_max = l->hard };
		if (setrlimit((int)l->res, &rl) < 0) {
			snprintf(err, errlen, "setrlimit %u: %s", l->res, strerror(errno));
			return -1;
		}
	}
	return 0;
}
