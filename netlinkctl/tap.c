/* tap.c: link add NAME type tap [user U]. Taps are made through
 * /dev/net/tun (TUNSETIFF, TUNSETOWNER, TUNSETPERSIST), not netlink. */
#include "err.h"
#include "netlinkctl.h"

#include <errno.h>
#include <pwd.h>
#include <string.h>

int tap_add(struct ctx *c, const char *name, int argc, char **argv)
{
	long uid = -1;
	uint32_t n;

	if (argc == 2 && !strcmp(argv[0], "user")) {
		struct passwd *pw = getpwnam(argv[1]);

		if (pw)
			uid = (long)pw->pw_uid;
		else if (parse_u32(argv[1], &n) == 0 && n != (uint32_t)-1)
			uid = (long)n;
		else
			usage_error("link add: user %s: no such user", argv[1]);
	} else if (argc != 0) {
		usage_error("link add: tap takes only [user U]");
	}
	/* TUNSETIFF would quietly reuse an existing tap: add means create. */
	if (nl_ifindex(&c->nl, name) > 0) {
		errno = EEXIST;
		die("%s:", c->what);
	}
	if (nl_tap_create(name, uid) < 0)
		die("%s:", c->what);
	return 0;
}
