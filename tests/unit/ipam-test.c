/* ipam-test.c: vmboot's --net bridge= parser (netbridge.c) and address
 * allocator (ipam.c), printing TAP. With arguments it is the shell tests'
 * helper:
 *   ipam-test alloc STATE NET/PLEN SELF [UNTIL]
 *       leases an address to itself and prints it; then, with UNTIL, holds
 *       the lease until the file UNTIL exists (60 s at most). Exit 1 and the
 *       reason on stderr when the allocator refused. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "ipam.h"
#include "netbridge.h"
#include "vmboot.h"
#include "tap.h"

/* netbridge.c registers a device with vmboot's core; not here. */
void device_register(struct device_type *t)
{
	(void)t;
}


static uint32_t ip(const char *s)
{
	struct in_addr in;

	if (inet_pton(AF_INET, s, &in) != 1)
		die("bad address %s", s);
	return ntohl(in.s_addr);
}

static const char *str(uint32_t a)
{
	static char b[4][INET_ADDRSTRLEN];
	static int i;
	struct in_addr in = { htonl(a) };

	i = (i + 1) % 4;
	return inet_ntop(AF_INET, &in, b[i], sizeof b[i]);
}

static void test_parse(void)
{
	struct netbridge_opt o;
	char err[256];

	is_int(netbridge_parse("cz0", &o, err, sizeof err), 0, "parse: bridge alone");
	is_str(o.bridge, "cz0", "parse: bridge name");
	ok(!o.has_ip && !o.has_gw && !o.has_mac && !o.ndns, "parse: nothing else set");
	is_int(netbridge_parse("br-x,ip=10.0.0.7/24,gw=10.0.0.254,mac=02:aa:bb:cc:dd:ee,"
	    "dns=1.1.1.1,dns=2001:db8::53", &o, err, sizeof err), 0, "parse: every key");
	ok(o.has_ip && o.ip == ip("10.0.0.7") && o.plen == 24, "parse: ip and plen");
	is_str(o.gw, "10.0.0.254", "parse: gw");
	ok(o.has_mac && !memcmp(o.mac, "\x02\xaa\xbb\xcc\xdd\xee", 6), "parse: mac");
	ok(o.ndns == 2 && !strcmp(o.dns[0], "1.1.1.1") &&
	    !strcmp(o.dns[1], "2001:db8::53"), "parse: two dns");
	is_int(netbridge_parse("cz0,ip=10.0.0.9", &o, err, sizeof err), 0,
	    "parse: ip without plen");
	is_int(o.plen, -1, "parse: plen left to the bridge");

	static const struct { const char *s, *why; } bad[] = {
		{ "", "empty" },
		{ ",ip=10.0.0.2/24", "no bridge name" },
		{ "ip=10.0.0.2/24", "a key where the name goes" },
		{ "a-very-long-bridge-name", "name too long" },
		{ "../x", "a path as the name" },
		{ "cz0,ip=10.0.0.300/24", "bad address" },
		{ "cz0,ip=10.0.0.2/33", "plen too big" },
		{ "cz0,ip=10.0.0.2/0", "plen zero" },
		{ "cz0,ip=10.0.0.2/", "empty plen" },
		{ "cz0,ip=10.0.0.2/24x", "junk after plen" },
		{ "cz0,ip=fe80::1/64", "IPv6 ip" },
		{ "cz0,gw=10.0.0", "bad gw" },
		{ "cz0,mac=01:00:5e:00:00:01", "multicast mac" },
		{ "cz0,mac=00:00:00:00:00:00", "zero mac" },
		{ "cz0,mac=02:00:00:00:00", "short mac" },
		{ "cz0,mac=02:00:00:00:00:0g", "bad hex mac" },
		{ "cz0,dns=nameserver", "bad dns" },
		{ "cz0,dns=1.1.1.1,dns=1.1.1.2,dns=1.1.1.3,dns=1.1.1.4,dns=1.1.1.5",
		  "five dns" },
		{ "cz0,vlan=3", "unknown key" },
		{ "cz0,ip", "key without value" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char what[128];

		err[0] = 0;
		snprintf(what, sizeof what, "parse refuses: %s", bad[i].why);
		ok(netbridge_parse(bad[i].s, &o, err, sizeof err) < 0 &&
		    !strncmp(err, "bridge=:", 8), what);
	}
}

static void test_resolv(void)
{
	char dns[4][64];
	int k;

	k = netbridge_resolv("# generated\nsearch example.org\n"
	    "nameserver 127.0.0.53\nnameserver 192.0.2.1\n"
	    "nameserver ::1\n  nameserver\t2001:db8::1\nnameserver fe80::1%eth0\n"
	    "options edns0\nnameserver 127.0.0.1", dns, 4);
	is_int(k, 2, "resolv: loopback and zoned servers left out");
	if (k == 2) {
		is_str(dns[0], "192.0.2.1", "resolv: first server");
		is_str(dns[1], "2001:db8::1", "resolv: IPv6 server");
	}
	is_int(netbridge_resolv("nameserver 10.0.0.1\nnameserver 10.0.0.2\n"
	    "nameserver 10.0.0.3\n", dns, 2), 2, "resolv: at most max");
	is_int(netbridge_resolv("", dns, 4), 0, "resolv: empty");
	is_int(netbridge_resolv("nameserver bogus\n", dns, 4), 0, "resolv: junk");
}

static void test_hosts(void)
{
	struct guest_net g = { .addr = "10.9.0.2/24",
	    .hosts = "10.9.0.7\tdb\nfd00::7\tdb6\n" };
	char buf[2048], small[64];

	is_int(guest_net_hosts(&g, "web", buf, sizeof buf), 0, "hosts: made");
	is_str(buf, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost "
	    "ip6-loopback\n10.9.0.2\tweb\n10.9.0.7\tdb\nfd00::7\tdb6\n",
	    "hosts: localhost, the hostname on the guest's address, --add-host");
	g.hosts[0] = 0;
	is_int(guest_net_hosts(&g, NULL, buf, sizeof buf), 0, "hosts: no hostname");
	is_str(buf, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost "
	    "ip6-loopback\n", "hosts: then localhost alone");
	is_int(guest_net_hosts(&g, "web", small, sizeof small), -1,
	    "hosts: too long for the buffer is an error, not a cut file");

	/* The option, into netbridge.c's own state. */
	static const char *const bad[] = { "db", "db:", ":10.0.0.1", "db:10.0.0",
	    "d b:10.0.0.1", "-db:10.0.0.1", "db:fe80::1%eth0", "db/x:10.0.0.1" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char what[64];

		snprintf(what, sizeof what, "--add-host refuses '%s'", bad[i]);
		is_int(netbridge_add_host(bad[i]), -1, what);
	}
	is_int(netbridge_options_done(1), 0, "--add-host: none given is fine");
	is_int(netbridge_add_host("db.example:10.0.0.1"), 0, "--add-host NAME:IPv4");
	is_int(netbridge_add_host("db6:fd00::1"), 0, "--add-host NAME:IPv6");
	is_int(netbridge_options_done(1), -1, "--add-host without --net bridge= refused");
	ok(netbridge_option("cz0") != NULL, "--net bridge=cz0 recorded");
	is_int(netbridge_options_done(0), -1, "--add-host without --spec refused");
	is_int(netbridge_options_done(1), 0, "--add-host with both is fine");
	int i, r = 0;
	for (i = 0; i < 100 && (r = netbridge_add_host("a-rather-long-host-name."
	    "example.org:10.0.0.1")) == 0; i++)
		;
	ok(r == -1 && i > 10 && i < 100, "--add-host: too many is refused, "
	    "after a fair number");
}

/* A child that lives until killed. */
static pid_t child(void)
{
	pid_t p = fork();

	if (p == 0) {
		pause();
		_exit(0);
	}
	return p;
}

static void reap(pid_t p)
{
	kill(p, SIGKILL);
	waitpid(p, NULL, 0);
}

/* Whether the state file holds pid's lease of addr: a lease written to a
 * file already removed would be lost. */
static int recorded(const char *path, uint32_t addr, pid_t pid)
{
	char buf[4096], want[64];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);

	if (fd >= 0)
		close(fd);
	if (n < 0)
		return 0;
	buf[n] = 0;
	snprintf(want, sizeof want, "%s %d ", str(addr), (int)pid);
	return strstr(buf, want) != NULL;
}

/* Rounds of alloc, check, release: 0 when each lease was in the file. */
static int rounds(const char *path, int n)
{
	uint32_t b;

	for (int i = 0; i < n; i++)
		if (ipam_alloc(path, ip("10.9.0.0"), 24, ip("10.9.0.1"), getpid(),
		    &b) < 0 || !recorded(path, b, getpid()) ||
		    ipam_release(path, b, getpid()) < 0)
			return -1;
	return 0;
}

/* The bridge re-made with another subnet; the last release. path is the
 * 10.9.0.0/29 file, full of this process's leases. */
static void test_subnets(const char *dir, const char *path)
{
	char other[4096];
	uint32_t a = 0, h[5];
	pid_t p;
	int i, n;

	is_int(ipam_path(dir, "czt0", ip("10.9.0.0"), 24, other, sizeof other), 0,
	    "subnets: path of /24");
	ok(strcmp(path, other) != 0, "subnets: another file than the /29's");
	is_int(ipam_alloc(other, ip("10.9.0.0"), 24, ip("10.9.0.1"), getpid(), &a), 0,
	    "subnets: alloc in the new subnet");
	is_str(str(a), "10.9.0.2", "subnets: the /29's leases do not count there");
	is_int(ipam_release(other, a, getpid()), 0, "subnets: release the only lease");
	ok(access(other, F_OK) < 0 && errno == ENOENT,
	    "subnets: the file goes with its last lease");
	is_int(ipam_release(other, a, getpid()), 0, "subnets: release again");
	ok(access(other, F_OK) < 0, "subnets: still no file");

	/* A file only dead processes lease from is handed out afresh. */
	p = child();
	is_int(ipam_alloc(other, ip("10.9.0.0"), 24, ip("10.9.0.1"), p, &a), 0,
	    "dead: alloc for a child");
	reap(p);
	is_int(ipam_alloc(other, ip("10.9.0.0"), 24, ip("10.9.0.1"), getpid(), &a), 0,
	    "dead: alloc after it died");
	is_str(str(a), "10.9.0.2", "dead: its address is the first free");

	/* Releases racing allocations: none is lost to a removed file. */
	for (i = 0, n = 0; i < 5; i++)
		n += ipam_alloc(other, ip("10.9.0.0"), 24, ip("10.9.0.1"), getpid(),
		    &h[i]) == 0;
	is_int(n, 5, "race: five more leases");
	ipam_release(other, a, getpid());
	for (i = 0; i < 5; i++)
		ipam_release(other, h[i], getpid());
	fflush(stdout);
	p = fork();
	if (p == 0)
		_exit(rounds(other, 2000) < 0);
	is_int(rounds(other, 2000), 0, "race: 2000 alloc-release rounds, each "
	    "lease in the file");
	waitpid(p, &n, 0);
	ok(WIFEXITED(n) && WEXITSTATUS(n) == 0, "race: and 2000 in a child at once");
	ok(access(other, F_OK) < 0, "race: no file once all are released");
}

static void test_alloc(const char *dir)
{
	char path[4096], text[256];
	uint32_t a = 0, b = 0, c = 0;
	pid_t p1, p2;
	int fd;

	uint32_t net = ip("10.9.0.0");

	is_int(ipam_path(dir, "br/x", net, 29, path, sizeof path), -EINVAL,
	    "path: no slash in name");
	is_int(ipam_path(dir, "..", net, 29, path, sizeof path), -EINVAL, "path: not ..");
	is_int(ipam_path(dir, "", net, 29, path, sizeof path), -EINVAL, "path: not empty");
	is_int(ipam_path(dir, "czt0", net, 33, path, sizeof path), -EINVAL,
	    "path: not a prefix length");
	is_int(ipam_path(dir, "czt0", ip("10.9.0.1"), 29, path, sizeof path), 0,
	    "path: made");
	ok(strstr(path, "/ipam/czt0-10.9.0.0-29") && !strchr(strstr(path, "czt0"), '/'),
	    "path: dir/bridge-subnet-plen, host bits cleared");

	/* 10.9.0.0/29: .1 is the bridge; hosts .2 to .6. */
	is_int(ipam_alloc(path, ip("10.9.0.5"), 29, ip("10.9.0.1"), getpid(), &a), 0,
	    "alloc: first");
	is_str(str(a), "10.9.0.2", "alloc: lowest, past the bridge's own");
	is_int(ipam_alloc(path, ip("10.9.0.0"), 29, ip("10.9.0.1"), getpid(), &b), 0,
	    "alloc: second");
	is_str(str(b), "10.9.0.3", "alloc: the next one");
	is_int(ipam_release(path, a, getpid()), 0, "release");
	is_int(ipam_alloc(path, ip("10.9.0.0"), 29, ip("10.9.0.1"), getpid(), &a), 0,
	    "alloc after release");
	is_str(str(a), "10.9.0.2", "alloc: a released address is reused");

	/* A lease of a dead process is free. */
	p1 = child();
	is_int(ipam_alloc(path, ip("10.9.0.0"), 29, ip("10.9.0.1"), p1, &c), 0,
	    "alloc for a child");
	is_str(str(c), "10.9.0.4", "alloc: child's address");
	reap(p1);
	is_int(ipam_alloc(path, ip("10.9.0.0"), 29, ip("10.9.0.1"), getpid(), &c), 0,
	    "alloc after the child died");
	is_str(str(c), "10.9.0.4", "alloc: a dead process's lease is reclaimed");

	/* A live pid with another start time is a reused pid: free too. */
	fd = open(path, O_WRONLY | O_APPEND);
	snprintf(text, sizeof text, "10.9.0.5 %d 1\ngarbage line\n10.9.0.6 x 5\n",
	    (int)getpid());
	ok(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text),
	    "lease of a reused pid, and junk, written");
	close(fd);
	is_int(ipam_alloc(path, ip("10.9.0.0"), 29, ip("10.9.0.1"), getpid(), &c), 0,
	    "alloc past junk");
	is_str(str(c), "10.9.0.5", "alloc: a reused pid's lease is reclaimed");
	is_int(ipam_alloc(path, ip("10.9.0.0"), 29, ip("10.9.0.1"), getpid(), &c), 0,
	    "alloc the last");
	is_str(str(c), "10.9.0.6", "alloc: last host, never broadcast");
	is_int(ipam_alloc(path, ip("10.9.0.0"), 29, ip("10.9.0.1"), getpid(), &c),
	    -ENOSPC, "alloc: full subnet is ENOSPC");

	/* Claims. */
	p2 = child();
	is_int(ipam_release(path, c, getpid()), 0, "release .6");
	is_int(ipam_claim(path, ip("10.9.0.6"), p2), 0, "claim: a free address");
	is_int(ipam_claim(path, ip("10.9.0.6"), getpid()), -EADDRINUSE,
	    "claim: another live holder refuses");
	is_int(ipam_claim(path, ip("10.9.0.6"), p2), 0, "claim: again by its holder");
	is_int(ipam_alloc(path, ip("10.9.0.0"), 29, ip("10.9.0.1"), getpid(), &c),
	    -ENOSPC, "alloc: a claimed address is skipped");
	reap(p2);
	is_int(ipam_claim(path, ip("10.9.0.6"), getpid()), 0, "claim: a dead holder's");
	is_int(ipam_release(path, ip("10.9.0.6"), p2), 0, "release by a non-holder");
	is_int(ipam_alloc(path, ip("10.9.0.0"), 29, ip("10.9.0.1"), getpid(), &c),
	    -ENOSPC, "... leaves the lease");

	is_int(ipam_alloc(path, ip("10.9.0.0"), 31, 0, getpid(), &c), -EINVAL,
	    "alloc: /31 has no hosts");
	is_int(ipam_alloc(path, ip("10.9.0.0"), 0, 0, getpid(), &c), -EINVAL,
	    "alloc: /0 refused");
	ok(ipam_pid_start(getpid()) > 0, "pid start: self");
	ok(ipam_pid_start(p2) == 0, "pid start: a reaped child");
	test_subnets(dir, path);
}

static int cmd_alloc(int argc, char **argv)
{
	char *slash = strchr(argv[3], '/');
	uint32_t a;
	int r, i;

	if (argc < 5 || !slash)
		die("usage: ipam-test alloc STATE NET/PLEN SELF [UNTIL]");
	*slash = 0;
	r = ipam_alloc(argv[2], ip(argv[3]), atoi(slash + 1), ip(argv[4]),
	    getpid(), &a);
	if (r < 0) {
		errno = -r;
		die("%s:", argv[2]);
	}
	printf("%s\n", str(a));
	fflush(stdout);
	for (i = 0; argc > 5 && i < 6000 && access(argv[5], F_OK) < 0; i++)
		usleep(10000);
	return 0;
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/ipam-test.XXXXXX", sub[64], cmd[128];

	setprogname(argv[0]);
	if (argc > 1 && !strcmp(argv[1], "alloc"))
		return cmd_alloc(argc, argv);
	test_parse();
	test_resolv();
	test_hosts();
	if (!mkdtemp(dir))
		die("mkdtemp:");
	snprintf(sub, sizeof sub, "%s/run/ipam", dir);
	test_alloc(sub);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		warnf("%s: not removed", dir);
	return done_testing();
}
