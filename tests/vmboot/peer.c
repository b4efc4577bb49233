/* peer: the host side of the vmboot device tests.
 *   peer vsock SOCKET GPORT HPORT SIZE
 *       accepts the guest's connection on SOCKET_GPORT, digests what
 *       arrives and sends the SHA-256 back; and connects through SOCKET
 *       with "CONNECT HPORT", sends SIZE bytes, and checks the digest the
 *       guest sends back. Exit 0 when both directions match.
 *   peer udpecho IP PORT
 *       answers "ping N" with "pong N" until killed; and on TCP PORT
 *       sends back the SHA-256 of what each connection sent.
 *   peer measure MEM_MIB READY STEADY -- COMMAND [ARG]...
 *       runs a VMM, timing from launch to the first stdout line holding
 *       READY; at the line holding STEADY it reads the VMM's RSS and the
 *       part of it that is guest memory (the run of mappings of MEM
 *       around the guest's memory mapping, see rss()), prints
 *       "wall_ms= rss_kb= guest_kb=", and kills the VMM. Lines with "cztest:" are passed on.
 *   peer pattern SEED SIZE
 *       prints the SHA-256 of SIZE bytes of the test pattern (what the
 *       test init writes to disk).
 * Results go to stdout as "peer: ..." lines. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "sha256.h"

#define CHUNK (256 << 10)
#define CONNECT_TRIES 1200	/* every 100 ms: two minutes */

static const char *sock;
static unsigned gport, hport;
static unsigned long long size;
static int ok_in, ok_out;

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

static void *guest_to_host(void *arg)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static uint8_t buf[CHUNK];
	unsigned long long got = 0;
	struct sha256 s;
	char hex[65];
	int lfd = *(int *)arg, fd;
	ssize_t r;

	(void)sa;
	fd = accept(lfd, NULL, NULL);
	if (fd < 0) {
		perror("peer: accept");
		return NULL;
	}
	sha256_init(&s);
	while ((r = read(fd, buf, sizeof buf)) > 0) {
		sha256_update(&s, buf, r);
		got += r;
	}
	sha256_hex(&s, hex);
	write_all(fd, hex, 64);
	close(fd);
	ok_in = got == size;
	printf("peer: guest-to-host %llu bytes sha256=%s\n", got, hex);
	return NULL;
}

static int connect_guest(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char line[64];

	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock);
	for (int i = 0; i < CONNECT_TRIES; i++, usleep(100000)) {
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		size_t n = 0;

		if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
			close(fd);
			continue;
		}
		snprintf(line, sizeof line, "CONNECT %u\n", hport);
		write_all(fd, line, strlen(line));
		/* One byte at a time: the stream starts after the line. */
		while (n < sizeof line - 1 && read(fd, line + n, 1) == 1 &&
		    line[n] != '\n')
			n++;
		line[n] = 0;
		if (!strncmp(line, "OK ", 3))
			return fd;
		close(fd);	/* the guest is not listening yet */
	}
	return -1;
}

static int vsock_mode(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static uint8_t buf[CHUNK];
	unsigned long long sent = 0;
	pthread_t th;
	struct sha256 s;
	uint64_t pat = 9;
	char mine[65], theirs[65] = "";
	int lfd, fd;
	size_t n = 0;

	snprintf(sa.sun_path, sizeof sa.sun_path, "%s_%u", sock, gport);
	unlink(sa.sun_path);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 4) < 0) {
		perror("peer: listen");
		return 1;
	}
	pthread_create(&th, NULL, guest_to_host, &lfd);
	fd = connect_guest();
	if (fd < 0) {
		printf("peer: host-to-guest: no connection\n");
	} else {
		sha256_init(&s);
		while (sent < size) {
			size_t k = size - sent < CHUNK ? size - sent : CHUNK;

			fill_pattern(&pat, buf, k);
			sha256_update(&s, buf, k);
			if (write_all(fd, buf, k) < 0)
				break;
			sent += k;
		}
		sha256_hex(&s, mine);
		shutdown(fd, SHUT_WR);
		while (n < 64) {
			ssize_t r = read(fd, theirs + n, 64 - n);

			if (r <= 0)
				break;
			n += r;
		}
		theirs[n] = 0;
		ok_out = sent == size && !strcmp(mine, theirs);
		printf("peer: host-to-guest %llu bytes sha256=%s guest=%s\n",
		    sent, mine, theirs);
		close(fd);
	}
	pthread_join(th, NULL);
	unlink(sa.sun_path);
	printf("peer: %s\n", ok_in && ok_out ? "ok" : "FAIL");
	return ok_in && ok_out ? 0 : 1;
}

/* TCP on the same port: each connection's bytes are digested and the
 * SHA-256 sent back. */
static struct sockaddr_in tcp_sa;

static void *tcp_sink(void *arg)
{
	static uint8_t buf[CHUNK];
	int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	(void)arg;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(lfd, (struct sockaddr *)&tcp_sa, sizeof tcp_sa) < 0 ||
	    listen(lfd, 4) < 0) {
		perror("peer: tcp listen");
		return NULL;
	}
	for (;;) {
		struct sha256 s;
		char hex[65];
		ssize_t r;
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			continue;
		sha256_init(&s);
		while ((r = read(fd, buf, sizeof buf)) > 0)
			sha256_update(&s, buf, r);
		sha256_hex(&s, hex);
		write_all(fd, hex, 64);
		close(fd);
	}
}

static int udpecho(const char *ip, unsigned port)
{
	pthread_t th;

	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct sockaddr_in from;
	socklen_t fl;
	char msg[128];
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	inet_pton(AF_INET, ip, &sa.sin_addr);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		perror("peer: bind");
		return 1;
	}
	tcp_sa = sa;
	pthread_create(&th, NULL, tcp_sink, NULL);
	printf("peer: udp echo and tcp digest on %s:%u\n", ip, port);
	fflush(stdout);
	for (;;) {
		ssize_t r;

		fl = sizeof from;
		r = recvfrom(fd, msg, sizeof msg - 1, 0, (struct sockaddr *)&from, &fl);
		if (r <= 0)
			continue;
		msg[r] = 0;
		if (strncmp(msg, "ping ", 5))
			continue;
		memcpy(msg, "pong", 4);
		sendto(fd, msg, r, 0, (struct sockaddr *)&from, fl);
	}
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Total RSS, and the part that is guest memory: the run of adjacent
 * mappings, exactly MEM long, around the largest anonymous or "/memfd:"
 * mapping of at least half of MEM. vmboot maps the kernel's pages from
 * its file over part of its guest memory, and what the guest wrote of
 * those is anonymous memory: all of it is the guest's. */
static void rss(pid_t pid, long mem_kb, long *total, long *guest)
{
	struct vma { unsigned long lo, hi; long kb; int big; } *v = NULL;
	unsigned long want = (unsigned long)mem_kb << 10;
	char path[64], line[512];
	size_t n = 0, cap = 0, big = 0, i, j;
	long kb;
	FILE *f;

	*total = *guest = 0;
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	if (!(f = fopen(path, "r")))
		return;
	while (fgets(line, sizeof line, f))
		sscanf(line, "VmRSS: %ld kB", total);
	fclose(f);
	*guest = -1;
	snprintf(path, sizeof path, "/proc/%d/smaps", (int)pid);
	if (!(f = fopen(path, "r"))) {
		fprintf(stderr, "peer: %s: %s (a kernel without "
		    "CONFIG_PROC_PAGE_MONITOR?)\n", path, strerror(errno));
		return;
	}
	while (fgets(line, sizeof line, f)) {
		unsigned long lo, hi;
		int at = 0;

		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %n", &lo, &hi, &at) == 2 &&
		    at > 0) {
			const char *name = line + at;

			if (n == cap && !(v = realloc(v, (cap = cap * 2 + 64) * sizeof *v)))
				exit(1);
			v[n] = (struct vma){ .lo = lo, .hi = hi };
			v[n].big = (!*name || *name == '\n' || !strncmp(name, "/memfd:", 7)) &&
			    hi - lo >= want / 2;
			if (v[n].big && (!v[big].big || hi - lo > v[big].hi - v[big].lo))
				big = n;
			n++;
		} else if (n && sscanf(line, "Rss: %ld kB", &kb) == 1) {
			v[n - 1].kb = kb;
		}
	}
	fclose(f);
	/* Every window [i, j] of adjacent mappings around the big one. */
	for (i = big + 1; n && v[big].big && i-- > 0;) {
		if (i < big && v[i].hi != v[i + 1].lo)
			break;
		for (j = big; j < n && v[j].hi - v[i].lo <= want; j++) {
			if (j > big && v[j].lo != v[j - 1].hi)
				break;
			if (v[j].hi - v[i].lo == want) {
				*guest = 0;
				for (size_t k = i; k <= j; k++)
					*guest += v[k].kb;
				goto out;
			}
		}
	}
	fprintf(stderr, "peer: no run of mappings of %ld KiB: guest memory "
	    "not found\n", mem_kb);
out:
	free(v);
}

static int measure(long mem_mib, const char *ready, const char *steady,
    char **cmd)
{
	double t0 = now_ms(), ready_ms = -1;
	long total = 0, guest = 0;
	char line[1024];
	int p[2], st;
	pid_t pid;
	FILE *f;

	if (pipe(p) < 0)
		return 1;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execvp(cmd[0], cmd);
		_exit(127);
	}
	close(p[1]);
	f = fdopen(p[0], "r");
	while (fgets(line, sizeof line, f)) {
		if (strstr(line, "cztest:"))
			fputs(line, stdout);
		if (ready_ms < 0 && strstr(line, ready))
			ready_ms = now_ms() - t0;
		if (strstr(line, steady)) {
			rss(pid, mem_mib * 1024, &total, &guest);
			kill(pid, SIGKILL);
			break;
		}
	}
	fclose(f);
	waitpid(pid, &st, 0);
	printf("wall_ms=%.1f rss_kb=%ld guest_kb=%ld\n", ready_ms, total, guest);
	return ready_ms < 0 || !total || guest < 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 6 && !strcmp(argv[1], "vsock")) {
		sock = argv[2];
		gport = atoi(argv[3]);
		hport = atoi(argv[4]);
		size = strtoull(argv[5], NULL, 10);
		return vsock_mode();
	}
	if (argc >= 7 && !strcmp(argv[1], "measure") && !strcmp(argv[5], "--"))
		return measure(atol(argv[2]), argv[3], argv[4], argv + 6);
	if (argc == 4 && !strcmp(argv[1], "pattern")) {
		static uint8_t buf[1 << 20];
		uint64_t seed = strtoull(argv[2], NULL, 10);
		unsigned long long n = strtoull(argv[3], NULL, 10);
		struct sha256 s;
		char hex[65];

		sha256_init(&s);
		while (n) {
			size_t k = n < sizeof buf ? n : sizeof buf;

			fill_pattern(&seed, buf, k);
			sha256_update(&s, buf, k);
			n -= k;
		}
		sha256_hex(&s, hex);
		printf("%s\n", hex);
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "udpecho"))
		return udpecho(argv[2], atoi(argv[3]));
	fprintf(stderr, "usage: peer vsock SOCKET GPORT HPORT SIZE | "
	    "peer udpecho IP PORT | peer pattern SEED SIZE\n");
	return 2;
}
