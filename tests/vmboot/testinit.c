/* testinit: the static PID 1 (musl) with which the vmboot tests prove
 * each device from inside a real Linux guest. What to do comes from the
 * kernel command line:
 *   cz.test=LIST      comma-separated: console, disk, rng, vsock, net,
 *                     input, sleep (wait forever, for signal tests),
 *                     cpuinfo, initcalls (with initcall_debug: the
 *                     kernel log's initcalls of 10 ms or more, with
 *                     printk.time=1 the gaps of 10 ms or more between
 *                     lines, and its last line)
 *   cz.status=N       the exit status to report (port 0x3f1)
 *   cz.vsock=G:H:SIZE connect to host port G and send SIZE bytes, then
 *                     listen on guest port H and receive; each side sends
 *                     back the SHA-256 of what it received
 *   cz.net=IP:PEER:PORT  eth0 gets IP/24; UDP ping-pong with PEER:PORT,
 *                     then 16 MiB over TCP to PEER:PORT, digest checked
 *   cz.input=BYTES    console input: read BYTES from the console (raw
 *                     mode; 10 s of silence ends it), print their SHA-256
 *   cz.idle=SECS      sleep SECS seconds before the end, every CPU idle
 *                     (halted with interrupts on)
 *   cz.end=HOW        poweroff, reboot or panic (init exits): how the
 *                     guest ends, without writing the status port
 * Every result is a console line "cztest: NAME ok|FAIL ...". At the end
 * the status is written to port 0x3f1 (needs iopl), else the guest
 * reboots. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/vm_sockets.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <termios.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "sha256.h"

#define BOOT_TIMER_PORT 0x3f0
#define BOOT_TIMER_MAGIC 123
#define STATUS_PORT 0x3f1
#define CHUNK (64 << 10)
#define NET_TCP_BYTES (16ULL << 20)

static char cmdline[4096];
static int failures;
static int have_io;
static uint8_t buf[1 << 20];

static void say(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof line - 2)
		n = sizeof line - 2;
	line[n++] = '\n';
	if (write(1, line, n) < 0)
		return;
}

static void result(const char *name, int ok, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	say("cztest: %s %s %s", name, ok ? "ok" : "FAIL", why);
	if (!ok)
		failures++;
}

/* The value of "key=" on the command line, up to a space. */
static const char *param(const char *key, char *out, size_t outlen)
{
	size_t kl = strlen(key);

	for (const char *p = cmdline; (p = strstr(p, key)); p += kl) {
		if ((p != cmdline && p[-1] != ' ') || p[kl] != '=')
			continue;
		size_t n = strcspn(p + kl + 1, " \n");
		if (n >= outlen)
			n = outlen - 1;
		memcpy(out, p + kl + 1, n);
		out[n] = 0;
		return out;
	}
	return NULL;
}

static int wanted(const char *test)
{
	char list[256], *save, *t;

	if (!param("cz.test", list, sizeof list))
		return 0;
	for (t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save))
		if (!strcmp(t, test))
			return 1;
	return 0;
}

static int write_all(int fd, const void *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p = (const char *)p + w;
		n -= w;
	}
	return 0;
}

static int digest_fd(int fd, uint64_t limit, char hex[65], uint64_t *total)
{
	struct sha256 s;
	uint64_t n = 0;

	sha256_init(&s);
	while (n < limit) {
		size_t want = limit - n < sizeof buf ? limit - n : sizeof buf;
		ssize_t r = read(fd, buf, want);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		sha256_update(&s, buf, r);
		n += r;
	}
	sha256_hex(&s, hex);
	*total = n;
	return 0;
}

/* Where the boot's time went, by the kernel's own log (klogctl: no /dev
 * needed): each "initcall ... returned ... after N usecs" line with N of
 * 10 ms or more. */
static void show_initcalls(void)
{
	static char log[1 << 20];
	int n = klogctl(3, log, sizeof log - 1);	/* SYSLOG_ACTION_READ_ALL */
	char *line, *save, *prev_line = "";
	double prev_at = 0;

	if (n < 0) {
		say("cztest: initcalls: klogctl: %s", strerror(errno));
		return;
	}
	log[n] = 0;
	for (line = strtok_r(log, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save)) {
		const char *a = strstr(line, " after "), *t = strchr(line, '[');
		double at = t ? atof(t + 1) : 0;

		if (strstr(line, "returned") && a && atol(a + 7) >= 10000)
			say("cztest: initcall %s", line);
		else if (t && at - prev_at >= 0.01)
			say("cztest: gap %.3f after %.80s before %s",
			    at - prev_at, prev_line, line);
		if (t)
			prev_at = at;
		prev_line = line;
	}
	say("cztest: initcalls end %s", prev_line);
}

/* vda: digest of the whole disk (what the device reads), then a 1 MiB
 * pattern written at 1 MiB and 1 MiB discarded at 2 MiB; the host
 * checks the file. vdb, read-only: a write is refused. */
static void test_disk(void)
{
	char hex[65], id[64] = "";
	uint64_t total, pat = 42, range[2] = { 2 << 20, 1 << 20 };
	int fd = open("/dev/vda", O_RDWR);

	if (fd < 0) {
		result("disk", 0, "open /dev/vda: %s", strerror(errno));
		return;
	}
	if (digest_fd(fd, UINT64_MAX, hex, &total) < 0)
		result("disk-read", 0, "read: %s", strerror(errno));
	else
		result("disk-read", 1, "vda bytes=%llu sha256=%s",
		    (unsigned long long)total, hex);
	fill_pattern(&pat, buf, 1 << 20);
	if (pwrite(fd, buf, 1 << 20, 1 << 20) != 1 << 20 || fdatasync(fd) < 0)
		result("disk-write", 0, "write: %s", strerror(errno));
	else
		result("disk-write", 1, "1 MiB at 1 MiB, flushed");
	if (ioctl(fd, BLKDISCARD, range) < 0)
		result("disk-discard", 0, "BLKDISCARD: %s", strerror(errno));
	else
		result("disk-discard", 1, "1 MiB at 2 MiB");
	close(fd);
	fd = open("/sys/block/vda/serial", O_RDONLY);
	if (fd >= 0) {
		ssize_t r = read(fd, id, sizeof id - 1);

		id[r > 0 ? r : 0] = 0;
		id[strcspn(id, "\n")] = 0;
		close(fd);
	}
	result("disk-id", id[0] != 0, "serial=%s", id);
	fd = open("/dev/vdb", O_RDWR);
	if (fd >= 0) {
		int w = pwrite(fd, buf, 4096, 0) == 4096 && fsync(fd) == 0;

		result("disk-ro", !w, "vdb opened read-write; write %s",
		    w ? "succeeded" : "failed");
		close(fd);
	} else {
		result("disk-ro", errno == EROFS || errno == EACCES,
		    "vdb refused: %s", strerror(errno));
	}
}

static void test_rng(void)
{
	char cur[64] = "";
	uint8_t r[64] = { 0 };
	int fd = open("/sys/class/misc/hw_random/rng_current", O_RDONLY), nz = 0;

	if (fd >= 0) {
		ssize_t n = read(fd, cur, sizeof cur - 1);

		cur[n > 0 ? n : 0] = 0;
		cur[strcspn(cur, "\n")] = 0;
		close(fd);
	}
	fd = open("/dev/hwrng", O_RDONLY);
	if (fd < 0 || read(fd, r, sizeof r) != sizeof r) {
		result("rng", 0, "read /dev/hwrng: %s", strerror(errno));
		return;
	}
	close(fd);
	for (size_t i = 0; i < sizeof r; i++)
		nz += r[i] != 0;
	result("rng", strstr(cur, "virtio") && nz > 32, "source=%s nonzero=%d",
	    cur, nz);
}

/* The console (the serial port, fd 0) as input, bytes unchanged. */
static void test_input(void)
{
	char want[32], hex[65] = "";
	struct termios t, saved;
	uint64_t limit, n = 0;
	int r;

	if (!param("cz.input", want, sizeof want)) {
		result("console-in", 0, "no cz.input=BYTES");
		return;
	}
	limit = strtoull(want, NULL, 10);
	if (tcgetattr(0, &t) < 0) {
		result("console-in", 0, "tcgetattr: %s", strerror(errno));
		return;
	}
	saved = t;
	cfmakeraw(&t);
	t.c_cc[VMIN] = 0;
	t.c_cc[VTIME] = 100;	/* deciseconds of silence that end it */
	tcsetattr(0, TCSANOW, &t);
	say("cztest: console-in reading");	/* the host may send now */
	r = digest_fd(0, limit, hex, &n);
	tcsetattr(0, TCSANOW, &saved);
	result("console-in", r == 0 && n == limit, "%llu bytes sha256=%s",
	    (unsigned long long)n, hex);
}

static int read_hex(int fd, char hex[65])
{
	size_t n = 0;

	while (n < 64) {
		ssize_t r = read(fd, hex + n, 64 - n);

		if (r <= 0)
			return -1;
		n += r;
	}
	hex[64] = 0;
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_vsock(void)
{
	char arg[64], mine[65], theirs[65];
	unsigned gport, hport;
	unsigned long long size, sent = 0, got;
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK };
	struct sha256 s;
	uint64_t pat = 7;
	double t;
	int fd, lfd, cfd;

	if (!param("cz.vsock", arg, sizeof arg) ||
	    sscanf(arg, "%u:%u:%llu", &gport, &hport, &size) != 3) {
		result("vsock", 0, "no cz.vsock=G:H:SIZE");
		return;
	}
	/* Listen first, so the host's connection finds us whenever. */
	lfd = socket(AF_VSOCK, SOCK_STREAM, 0);
	sa.svm_cid = VMADDR_CID_ANY;
	sa.svm_port = hport;
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(lfd, 1) < 0) {
		result("vsock-listen", 0, "%s", strerror(errno));
		return;
	}
	/* Guest to host. */
	fd = socket(AF_VSOCK, SOCK_STREAM, 0);
	sa.svm_cid = VMADDR_CID_HOST;
	sa.svm_port = gport;
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		result("vsock-guest-to-host", 0, "connect: %s", strerror(errno));
	} else {
		t = now();
		sha256_init(&s);
		while (sent < size) {
			size_t n = size - sent < CHUNK ? size - sent : CHUNK;

			fill_pattern(&pat, buf, n);
			sha256_update(&s, buf, n);
			if (write_all(fd, buf, n) < 0)
				break;
			sent += n;
		}
		sha256_hex(&s, mine);
		shutdown(fd, SHUT_WR);
		if (sent != size || read_hex(fd, theirs) < 0)
			result("vsock-guest-to-host", 0, "sent %llu of %llu, no digest",
			    sent, size);
		else
			result("vsock-guest-to-host", !strcmp(mine, theirs),
			    "%llu bytes in %.2f s sha256=%s host=%s", sent,
			    now() - t, mine, theirs);
		close(fd);
	}
	/* Host to guest. */
	cfd = accept(lfd, NULL, NULL);
	if (cfd < 0) {
		result("vsock-host-to-guest", 0, "accept: %s", strerror(errno));
		return;
	}
	t = now();
	if (digest_fd(cfd, UINT64_MAX, mine, (uint64_t *)&got) < 0 ||
	    write_all(cfd, mine, 64) < 0)
		result("vsock-host-to-guest", 0, "receive: %s", strerror(errno));
	else
		result("vsock-host-to-guest", got == size, "%llu bytes in %.2f s "
		    "sha256=%s", got, now() - t, mine);
	close(cfd);
	close(lfd);
}

static int ifconfig(const char *ifname, const char *ip)
{
	struct ifreq ifr = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, ip, &sin->sin_addr);
	if (fd < 0 || ioctl(fd, SIOCSIFADDR, &ifr) < 0)
		return -1;
	inet_pton(AF_INET, "255.255.255.0", &sin->sin_addr);
	if (ioctl(fd, SIOCSIFNETMASK, &ifr) < 0 ||
	    ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return -1;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		return -1;
	close(fd);
	return 0;
}

static void test_net(void)
{
	char arg[80], ip[32], peer[32], msg[64], reply[64];
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct timeval tv = { 0, 200000 };
	unsigned port;
	int fd, pongs = 0;

	if (!param("cz.net", arg, sizeof arg) ||
	    sscanf(arg, "%31[^:]:%31[^:]:%u", ip, peer, &port) != 3) {
		result("net", 0, "no cz.net=IP:PEER:PORT");
		return;
	}
	if (ifconfig("eth0", ip) < 0) {
		result("net-up", 0, "eth0: %s", strerror(errno));
		return;
	}
	result("net-up", 1, "eth0 %s", ip);
	to.sin_port = htons(port);
	inet_pton(AF_INET, peer, &to.sin_addr);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	/* Ten pings answered, out of at most a hundred tries (ARP, and a
	 * peer that starts late). */
	for (int i = 0; i < 100 && pongs < 10; i++) {
		ssize_t r;

		snprintf(msg, sizeof msg, "ping %d", i);
		if (sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&to,
		    sizeof to) < 0)
			continue;
		r = recv(fd, reply, sizeof reply - 1, 0);
		if (r <= 0)
			continue;
		reply[r] = 0;
		if (!strncmp(reply, "pong ", 5) && !strcmp(reply + 5, msg + 5))
			pongs++;
	}
	result("net-udp", pongs == 10, "%d of 10 pongs from %s:%u", pongs,
	    peer, port);
	close(fd);

	/* TCP: big segments, so checksum and TSO offloads carry them. */
	{
		char mine[65], theirs[65];
		unsigned long long sent = 0, size = NET_TCP_BYTES;
		struct sha256 s;
		uint64_t pat = 11;
		double t = now();

		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&to, sizeof to) < 0) {
			result("net-tcp", 0, "connect: %s", strerror(errno));
			return;
		}
		sha256_init(&s);
		while (sent < size) {
			fill_pattern(&pat, buf, CHUNK);
			sha256_update(&s, buf, CHUNK);
			if (write_all(fd, buf, CHUNK) < 0)
				break;
			sent += CHUNK;
		}
		sha256_hex(&s, mine);
		shutdown(fd, SHUT_WR);
		if (read_hex(fd, theirs) < 0)
			result("net-tcp", 0, "no digest back");
		else
			result("net-tcp", !strcmp(mine, theirs), "%llu bytes in "
			    "%.2f s, digests %s", sent, now() - t,
			    strcmp(mine, theirs) ? "differ" : "match");
		close(fd);
	}
}

int main(void)
{
	struct timespec up;
	char st[16], end[16];
	int fd, status = 0;

	clock_gettime(CLOCK_BOOTTIME, &up);
	have_io = iopl(3) == 0;
	if (have_io)
		outb(BOOT_TIMER_MAGIC, BOOT_TIMER_PORT);
	say("cztest: userspace reached uptime=%.3f", up.tv_sec + up.tv_nsec / 1e9);
	mkdir("/proc", 0555);
	mkdir("/sys", 0555);
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	fd = open("/proc/cmdline", O_RDONLY);
	if (fd >= 0) {
		ssize_t n = read(fd, cmdline, sizeof cmdline - 1);

		cmdline[n > 0 ? n : 0] = 0;
		close(fd);
	}
	if (!have_io)
		say("cztest: no port access (iopl: kernel without "
		    "CONFIG_X86_IOPL_IOPERM?)");
	if (wanted("console")) {
		char cpus[32] = "?";

		fd = open("/sys/devices/system/cpu/online", O_RDONLY);
		if (fd >= 0) {
			ssize_t n = read(fd, cpus, sizeof cpus - 1);

			cpus[n > 0 ? n : 0] = 0;
			cpus[strcspn(cpus, "\n")] = 0;
			close(fd);
		}
		result("console", 1, "hello from the guest console, cpus=%s", cpus);
	}
	if (wanted("cpuinfo")) {
		static char ci[8192];

		fd = open("/proc/cpuinfo", O_RDONLY);
		if (fd >= 0) {
			ssize_t n = read(fd, ci, sizeof ci - 1);
			char *f;

			ci[n > 0 ? n : 0] = 0;
			close(fd);
			if ((f = strstr(ci, "flags")))
				say("cztest: cpuinfo %.*s", (int)strcspn(f, "\n"), f);
		}
	}
	if (wanted("initcalls"))
		show_initcalls();
	if (wanted("disk"))
		test_disk();
	if (wanted("rng"))
		test_rng();
	if (wanted("vsock"))
		test_vsock();
	if (wanted("net"))
		test_net();
	if (wanted("input"))
		test_input();
	if (wanted("sleep")) {
		say("cztest: sleeping");
		for (;;)
			pause();
	}
	if (param("cz.idle", st, sizeof st)) {
		say("cztest: idle %s s", st);
		sleep(atoi(st));
	}
	if (param("cz.status", st, sizeof st))
		status = atoi(st);
	say("cztest: done failures=%d status=%d", failures, status);
	/* The console's tail is still in the tty buffer: a reboot now
	 * would drop it. */
	tcdrain(1);
	sync();
	if (param("cz.end", end, sizeof end)) {
		if (!strcmp(end, "poweroff"))
			reboot(RB_POWER_OFF);
		else if (!strcmp(end, "panic"))
			return status;	/* PID 1 exits: "Attempted to kill init" */
		reboot(RB_AUTOBOOT);
	}
	if (have_io)
		outb(status, STATUS_PORT);
	reboot(RB_AUTOBOOT);
	for (;;)
		pause();
}
