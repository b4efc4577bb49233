/* netlinkctl: links, addresses and routes over rtnetlink, in ip(8)'s
 * grammar. Options are parsed here, the object's command goes to link.c,
 * addr.c or route.c, and every request is built by lib/netlink.c. */
#include "err.h"
#include "netlinkctl.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define VERSION "0.1"
#define NETNS_DIR "/run/netns"

static const char usage_text[] =
	"usage: netlinkctl [-j] [-4|-6] [-n NETNS] OBJECT COMMAND [ARGS]\n"
	"  link show [DEV]\n"
	"  link set DEV [up|down] [mtu N] [address MAC] [master BR|nomaster] [name NEW]\n"
	"  link add NAME type bridge|veth peer NAME|tap [user U]|KIND\n"
	"  link del DEV\n"
	"  addr show [DEV]\n"
	"  addr add|del ADDR[/PLEN] dev DEV\n"
	"  route show\n"
	"  route add|del PREFIX|default [via GW] [dev DEV] [metric N]\n"
	"options: -j, --json  JSON output      -n, --netns NETNS  in /run/netns/NETNS\n"
	"         -4, -6      one family only  -h, --help         --version\n";

void usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarnf(fmt, ap);
	va_end(ap);
	fputs(usage_text, stderr);
	exit(EXIT_USAGE);
}

void fail(struct ctx *c, int ret)
{
	if (c->nl.errmsg[0])
		die("%s: %s", c->what, c->nl.errmsg);
	errno = -ret;
	die("%s:", c->what);
}

int dev_index(struct ctx *c, const char *name)
{
	int i = nl_ifindex(&c->nl, name);

	if (i == -ENODEV)
		die("%s: no such device", c->what);
	if (i < 0)
		fail(c, i);
	return i;
}

int parse_u32(const char *s, uint32_t *v)
{
	char *end;
	unsigned long long n;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno || *end || n > UINT32_MAX)
		return -1;
	*v = (uint32_t)n;
	return 0;
}

int parse_prefix(const char *s, int *family, unsigned char addr[16], int *plen)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash;
	uint32_t n;
	int max;

	if (strlen(s) >= sizeof buf)
		return -1;
	strcpy(buf, s);
	if ((slash = strchr(buf, '/')))
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, addr) == 1) {
		*family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, addr) == 1) {
		*family = AF_INET6;
		max = 128;
	} else {
		return -1;
	}
	if (!slash) {
		*plen = max;
		return 0;
	}
	if (parse_u32(slash, &n) < 0 || n > (uint32_t)max)
		return -1;
	*plen = (int)n;
	return 0;
}

const char *fmt_inaddr(int family, const void *a, char *buf, size_t len)
{
	if (!inet_ntop(family, a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

static void enter_netns(const char *name)
{
	char *path = strchr(name, '/') ? xstrdup(name) : xasprintf("%s/%s", NETNS_DIR, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		die("netns %s: %s:", name, path);
	if (setns(fd, CLONE_NEWNET) < 0)
		die("netns %s: setns:", name);
	close(fd);
	free(path);
}

/* The command as typed, for messages. */
static char *join(int argc, char **argv)
{
	size_t len = 1;
	char *s;
	int i;

	for (i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	s = xmalloc(len);
	s[0] = '\0';
	for (i = 0; i < argc; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

static int is(const char *s, const char *a, const char *b, const char *c)
{
	return !strcmp(s, a) || (b && !strcmp(s, b)) || (c && !strcmp(s, c));
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "netns", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctx c;
	const char *netns = NULL;
	int o, r;

	setprogname(argv[0]);
	memset(&c, 0, sizeof c);
	c.family = AF_UNSPEC;
	while ((o = getopt_long(argc, argv, "+jn:46h", opts, NULL)) != -1) {
		switch (o) {
		case 'j':
			c.json = 1;
			break;
		case 'n':
			netns = optarg;
			break;
		case '4':
			c.family = AF_INET;
			break;
		case '6':
			c.family = AF_INET6;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'V':
			printf("netlinkctl %s\n", VERSION);
			return 0;
		default:
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage_error("no object given");
	c.what = join(argc, argv);
	if (netns)
		enter_netns(netns);
	if ((r = nl_open(&c.nl)) < 0) {
		errno = -r;
		die("netlink socket:");
	}
	if (is(argv[0], "link", "l", NULL))
		r = cmd_link(&c, argc - 1, argv + 1);
	else if (is(argv[0], "addr", "address", "a"))
		r = cmd_addr(&c, argc - 1, argv + 1);
	else if (is(argv[0], "route", "r", NULL))
		r = cmd_route(&c, argc - 1, argv + 1);
	else
		usage_error("%s: unknown object", argv[0]);
	nl_close(&c.nl);
	free((char *)c.what);
	return r;
}
