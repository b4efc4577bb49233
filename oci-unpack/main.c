/* oci-unpack: an image from an OCI image layout, its layers applied in
 * order, as one tar stream on stdout or into a directory.
 * Data path: layout (index, manifest, config) -> for each layer: verify,
 * spool file data (or, for -C DIR, stage each file's data in DIR), merge
 * metadata into the tree -> write the tree out. */
#include "err.h"
#include "layer.h"
#include "layout.h"
#include "output.h"
#include "tree.h"
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define VERSION "0.1"

static const char usage_line[] =
	"usage: oci-unpack -i LAYOUT [-C DIR] [--bundle DIR] "
	"[--platform OS/ARCH[/VARIANT]] [--config | --list] REFERENCE\n";

static _Noreturn void usage(int status)
{
	fputs(usage_line, status ? stderr : stdout);
	if (!status)
		fputs("  -i, --input LAYOUT      OCI image layout directory\n"
		      "  -C, --directory DIR     unpack into DIR (empty or absent)\n"
		      "                          instead of a tar stream on stdout\n"
		      "  -b, --bundle DIR        also write DIR/config.json (runtime spec)\n"
		      "  -p, --platform P        manifest to pick from an index\n"
		      "      --config            print the image config JSON\n"
		      "      --list              print the flattened tree's paths\n"
		      "  -h, --help              this help\n"
		      "      --version           print the version\n", stdout);
	exit(status);
}

/* Unlinked at once: the spool never outlives the process. */
static int spool_open(void)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	if (!dir || !*dir)
		dir = "/var/tmp";
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR)) {
		char *p = malloc(strlen(dir) + 32);
		if (!p)
			die("out of memory");
		sprintf(p, "%s/oci-unpack.XXXXXX", dir);
		if ((fd = mkostemp(p, O_CLOEXEC)) >= 0)
			unlink(p);
		free(p);
	}
	if (fd < 0)
		die("%s: spool file:", dir);
	return fd;
}

int main(int argc, char **argv)
{
	enum { OPT_CONFIG = 256, OPT_LIST, OPT_VERSION };
	static const struct option opts[] = {
		{ "input", required_argument, NULL, 'i' },
		{ "directory", required_argument, NULL, 'C' },
		{ "bundle", required_argument, NULL, 'b' },
		{ "platform", required_argument, NULL, 'p' },
		{ "config", no_argument, NULL, OPT_CONFIG },
		{ "list", no_argument, NULL, OPT_LIST },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	const char *layout = NULL, *dir = NULL, *bundle = NULL;
	const char *platform = NULL;
	int show_config = 0, list = 0, c, dirfd, to_stdout;
	struct image img;
	struct spool sp;
	struct tree t;
	size_t i;

	setprogname(argv[0]);
	while ((c = getopt_long(argc, argv, "i:C:b:p:h", opts, NULL)) != -1) {
		switch (c) {
		case 'i': layout = optarg; break;
		case 'C': dir = optarg; break;
		case 'b': bundle = optarg; break;
		case 'p': platform = optarg; break;
		case OPT_CONFIG: show_config = 1; break;
		case OPT_LIST: list = 1; break;
		case 'h': usage(0);
		case OPT_VERSION: puts("oci-unpack " VERSION); return 0;
		default: usage(EXIT_USAGE);
		}
	}
	if (!layout || optind != argc - 1 || (show_config && list) ||
	    ((show_config || list) && (dir || bundle)))
		usage(EXIT_USAGE);
	if (platform && !strchr(platform, '/')) {
		warnf("--platform: want OS/ARCH[/VARIANT], got \"%s\"", platform);
		usage(EXIT_USAGE);
	}
	/* A tar stream is never written to a terminal; with --bundle the
	 * config alone is then the output. */
	to_stdout = !dir && !show_config && !list;
	if (to_stdout && isatty(1)) {
		if (!bundle)
			die("refusing to write a tar stream to a terminal "
			    "(redirect it, or use -C DIR)");
		to_stdout = 0;
	}

	if ((dirfd = open(layout, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		die("%s:", layout);
	image_load(dirfd, argv[optind], platform, &img);
	if (show_config) {
		/* The blob's bytes exactly, so that they hash to its digest. */
		if (write_all(1, img.config_json, img.config_len) < 0)
			die("stdout:");
		image_free(&img);
		return 0;
	}

	memset(&sp, 0, sizeof(sp));
	sp.fd = sp.stage = -1;
	/* DIR is often BUNDLE/rootfs: the bundle directory comes first. */
	if (dir && bundle && mkdir(bundle, 0755) < 0 && errno != EEXIST)
		die("%s: mkdir:", bundle);
	if (dir)
		dir_open(dir, &sp);
	else
		sp.fd = spool_open();
	tree_init(&t);
	for (i = 0; i < img.nlayers; i++)
		layer_apply(dirfd, &img.layers[i], (int)i, &t, &sp);

	if (list)
		list_write(&t, stdout);
	if (bundle)
		bundle_write(&img, &t, &sp, bundle);
	if (dir)
		dir_write(&t, &sp);
	if (to_stdout)
		tar_write(&t, &sp, 1);
	if (fflush(stdout) == EOF || ferror(stdout))
		die("stdout:");
	tree_free(&t);
	if (sp.fd >= 0)
		close(sp.fd);
	close(dirfd);
	image_free(&img);
	return 0;
}
