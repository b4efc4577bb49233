/* mkext4: writes an ext4 filesystem image from a tar stream or a
 * directory, without mke2fs, loop devices or root.
 * Data path: input (tar.c or dirin.c) -> tree and file data in the image
 * (tree.c, extent.c) -> directories, metadata, superblock (super.c). */
#include "mkext4.h"
#include "ext4.h"
#include "crc32c.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "xalloc.h"

#define MKEXT4_VERSION "0.1"
#define AUTO_MAX_GROUPS 8192	/* -s auto keeps GDT room for this many groups */
#define DEFAULT_HEADROOM_PCT 10

static const char usage_line[] =
	"usage: mkext4 -o IMAGE [-s SIZE|auto] [-b BLOCKSIZE] [-L LABEL] [-J] [-N INODES]\n"
	"              [--uuid UUID] [--headroom SIZE|PCT%] [--readonly] [DIR|-]\n";

static _Noreturn void usage(int status)
{
	fputs(usage_line, status ? stderr : stdout);
	if (!status)
		fputs("Writes an ext4 image from a tar stream on stdin (-) or from DIR.\n"
		      "  -o IMAGE        output file, replaced only when complete\n"
		      "  -s SIZE|auto    image size (K, M, G, T suffixes); auto: content + headroom\n"
		      "  -b BLOCKSIZE    1024, 2048 or 4096 (default)\n"
		      "  -L LABEL        volume label, up to 16 bytes\n"
		      "  -J              add a journal, sized as mke2fs sizes it\n"
		      "  -N INODES       free inodes to leave beyond those used\n"
		      "  --uuid UUID     filesystem UUID (and, from it, the hash seed)\n"
		      "  --headroom H    free space with -s auto: bytes or a percentage (10%)\n"
		      "  --readonly      set the read-only feature flag\n"
		      "  -h, --help      this help;  --version  the version\n", stdout);
	exit(status);
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	unsigned shift = 0;

	if (errno || end == s || *s == '-')
		return -1;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	}
	if (*end || (shift && v > (~0ull >> shift)))
		return -1;
	*out = v << shift;
	return 0;
}

static int parse_uuid(const char *s, uint8_t u[16])
{
	int n = 0;
	for (const char *p = s; *p && n < 32; p++) {
		if (*p == '-' && (n == 8 || n == 12 || n == 16 || n == 20))
			continue;
		int v;
		if (*p >= '0' && *p <= '9') v = *p - '0';
		else if (*p >= 'a' && *p <= 'f') v = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F') v = *p - 'A' + 10;
		else return -1;
		if (n % 2 == 0)
			u[n / 2] = (uint8_t)(v << 4);
		else
			u[n / 2] |= (uint8_t)v;
		n++;
		if (n == 32 && p[1])
			return -1;
	}
	return n == 32 ? 0 : -1;
}

static void random_bytes(void *buf, size_t len)
{
	if (getrandom(buf, len, 0) != (ssize_t)len)
		die("getrandom:");
}

int main(int argc, char **argv)
{
	enum { OPT_UUID = 256, OPT_HEADROOM, OPT_READONLY, OPT_VERSION };
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "size", required_argument, NULL, 's' },
		{ "block-size", required_argument, NULL, 'b' },
		{ "label", required_argument, NULL, 'L' },
		{ "journal", no_argument, NULL, 'J' },
		{ "inodes", required_argument, NULL, 'N' },
		{ "uuid", required_argument, NULL, OPT_UUID },
		{ "headroom", required_argument, NULL, OPT_HEADROOM },
		{ "readonly", no_argument, NULL, OPT_READONLY },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ 0 }
	};
	struct mkfs fs = { 0 };
	const char *out = NULL, *sde;
	int c;

	setprogname(argv[0]);
	fs.o.bs = 4096;
	fs.o.headroom_pct = DEFAULT_HEADROOM_PCT;
	fs.o.epoch = -1;
	while ((c = getopt_long(argc, argv, "o:s:b:L:JN:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 's':
			if (!strcmp(optarg, "auto"))
				fs.o.size = 0;
			else if (parse_size(optarg, &fs.o.size) < 0 || !fs.o.size)
				die("-s %s: not a size", optarg);
			break;
		case 'b':
			fs.o.bs = (uint32_t)atoi(optarg);
			if (fs.o.bs != 1024 && fs.o.bs != 2048 && fs.o.bs != 4096) {
				warnf("-b %s: block size must be 1024, 2048 or 4096", optarg);
				usage(EXIT_USAGE);
			}
			break;
		case 'L':
			if (strlen(optarg) > sizeof fs.o.label)
				die("-L %s: label longer than %zu bytes", optarg, sizeof fs.o.label);
			strncpy(fs.o.label, optarg, sizeof fs.o.label);
			break;
		case 'J':
			fs.o.journal = 1;
			break;
		case 'N':
			if (parse_size(optarg, &fs.o.extra_inodes) < 0)
				die("-N %s: not a number", optarg);
			fs.o.extra_inodes_set = 1;
			break;
		case OPT_UUID:
			if (parse_uuid(optarg, fs.o.uuid) < 0)
				die("--uuid %s: not a UUID", optarg);
			fs.o.have_uuid = 1;
			break;
		case OPT_HEADROOM: {
			size_t l = strlen(optarg);
			if (l && optarg[l - 1] == '%') {
				char *end;
				unsigned long p = strtoul(optarg, &end, 10);
				if (end != optarg + l - 1 || p > 1000)
					die("--headroom %s: not a percentage", optarg);
				fs.o.headroom_pct = (unsigned)p;
				fs.o.headroom = 0;
			} else if (parse_size(optarg, &fs.o.headroom) < 0) {
				die("--headroom %s: not a size", optarg);
			} else {
				fs.o.headroom_pct = 0;
			}
			break;
		}
		case OPT_READONLY:
			fs.o.readonly = 1;
			break;
		case 'h':
			usage(0);
		case OPT_VERSION:
			puts("mkext4 " MKEXT4_VERSION);
			return 0;
		default:
			usage(EXIT_USAGE);
		}
	}
	if (!out || argc - optind > 1)
		usage(EXIT_USAGE);
	const char *src = optind < argc ? argv[optind] : "-";

	fs.o.now = time(NULL);
	if ((sde = getenv("SOURCE_DATE_EPOCH")) && *sde) {
		char *end;
		errno = 0;
		long long v = strtoll(sde, &end, 10);
		if (errno || *end || v < 0)
			die("SOURCE_DATE_EPOCH=%s: not a number of seconds", sde);
		fs.o.epoch = v;
	}
	if (!fs.o.have_uuid) {
		random_bytes(fs.o.uuid, 16);
		fs.o.uuid[6] = (fs.o.uuid[6] & 0x0F) | 0x40;	/* version 4 */
		fs.o.uuid[8] = (fs.o.uuid[8] & 0x3F) | 0x80;
		random_bytes(fs.hash_seed, sizeof fs.hash_seed);
	} else {
		/* Reproducible: the hash seed follows from the UUID. */
		for (uint32_t i = 0; i < 4; i++)
			fs.hash_seed[i] = crc32c(~i, fs.o.uuid, 16);
	}
	fs.csum_seed = crc32c(~0u, fs.o.uuid, 16);

	if (fs.o.size) {
		struct layout probe = { .bs = fs.o.bs, .bpg = fs.o.bs * 8, .first = fs.o.bs == 1024 };
		uint64_t blocks = fs.o.size / fs.o.bs;
		if (blocks < 64)
			die("-s %llu: too small", (unsigned long long)fs.o.size);
		if (blocks > (1ull << 32) * 8192)
			die("-s %llu: too large", (unsigned long long)fs.o.size);
		probe.gdt_reserve = gdt_blocks_of(&probe, groups_of(&probe, blocks));
		blocks = layout_fit_blocks(&probe, blocks, 0);
		layout_init(&fs, blocks, gdt_blocks_of(&probe, groups_of(&probe, blocks)));
		fs.l.limit = blocks;
	} else {
		struct layout probe = { .bs = fs.o.bs };
		layout_init(&fs, 0, gdt_blocks_of(&probe, AUTO_MAX_GROUPS));
		fs.l.limit = (uint64_t)AUTO_MAX_GROUPS * fs.l.bpg + fs.l.first;
	}

	image_open(&fs, out);
	tree_init(&fs);
	if (!strcmp(src, "-"))
		tar_read(&fs, STDIN_FILENO);
	else
		dir_read(&fs, src);
	fs_finish(&fs);
	tree_free(&fs);
	return 0;
}
