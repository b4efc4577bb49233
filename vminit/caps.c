/* caps.c: the spec's five capability sets. The bounding set is cut while
 * we still hold CAP_SETPCAP (before the user switch); the others are set
 * after it, KEEPCAPS having kept the permitted set across setuid. */
#include "vminit.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int last_cap(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int n = CAP_LAST_CAP;

	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = CAP_LAST_CAP;
		fclose(f);
	}
	return n;
}

int caps_bounding(const struct procspec *s, char *err, size_t errlen)
{
	int last = last_cap();

	for (int c = 0; c <= last && c < 64; c++) {
		if (s->cap_bnd & (1ull << c))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL) {
			snprintf(err, errlen, "drop bounding capability %d: %s", c,
				 strerror(errno));
			return -1;
		}
	}
	return 0;
}

int caps_apply(const struct procspec *s, char *err, size_t errlen)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	int last = last_cap();

	for (int i = 0; i < 2; i++) {
		d[i].effective = (uint32_t)(s->cap_eff >> (32 * i));
		d[i].permitted = (uint32_t)(s->cap_prm >> (32 * i));
		d[i].inheritable = (uint32_t)(s->cap_inh >> (32 * i));
	}
	if (syscall(SYS_capset, &h, d) < 0) {
		snprintf(err, errlen, "capset: %s", strerror(errno));
		return -1;
	}
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	for (int c = 0; c <= last && c < 64; c++) {
		if (!(s->cap_amb & (1ull << c)))
			continue;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0) {
			snprintf(err, errlen, "raise ambient capability %d: %s", c,
				 strerror(errno));
			return -1;
		}
	}
	return 0;
}
