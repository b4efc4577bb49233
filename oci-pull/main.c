/* oci-pull: pulls an image from a registry into an OCI image layout.
 * The data path: reference -> manifest (or index -> platform manifests)
 * -> config and layer blobs streamed into DIR/blobs -> manifests ->
 * index.json; the manifest digest on stdout. */
#include "creds.h"
#include "err.h"
#include "fetch.h"
#include "json.h"
#include "manifest.h"
#include "progress.h"
#include "ref.h"
#include "registry.h"
#include "store.h"
#include "syncer.h"
#include "xalloc.h"

#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VERSION "0.1"
#define PASSWORD_MAX 4096
#define DEFAULT_JOBS 4
#define MAX_JOBS 32

static const char usage_line[] =
	"usage: oci-pull [-q] [--json] [--platform OS/ARCH[/VARIANT] | --all-platforms]\n"
	"                [--username USER --password-stdin] [--ca-file FILE] [--insecure]\n"
	"                [-j JOBS] -o DIR REFERENCE\n";

static void usage(int full)
{
	fputs(usage_line, full ? stdout : stderr);
	if (full)
		fputs("\nPulls REFERENCE ([registry/]name[:tag|@digest]) into the OCI image\n"
		      "layout DIR and prints the digest of the manifest it recorded.\n\n"
		      "  -o, --output DIR         the OCI image layout (created when missing)\n"
		      "      --platform P         os/arch[/variant] to pick from an index (default: host)\n"
		      "      --all-platforms      keep the whole index and every platform\n"
		      "      --username USER      authenticate as USER ...\n"
		      "      --password-stdin     ... with the password read from stdin\n"
		      "      --ca-file FILE       trust the CA certificates in FILE\n"
		      "      --insecure           no TLS verification, plain HTTP allowed\n"
		      "  -j, --jobs N             parallel blob downloads (default 4)\n"
		      "  -q, --quiet              no progress on stderr\n"
		      "      --json               print a JSON summary instead of the digest\n"
		      "  -h, --help, --version\n",
		      stdout);
	exit(full ? 0 : EXIT_USAGE);
}

/* One manifest of the image, with the bytes that name it. */
struct image_manifest {
	char *body;
	size_t len;
	struct digest digest;
	struct manifest m;
	const char *platform_os, *platform_arch, *platform_variant;
};

struct pull {
	struct ref ref;
	struct registry reg;
	struct store store;
	struct platform platform;
	int all_platforms;
	/* The top-level document: a manifest, or an index. */
	char *top_body;
	size_t top_len;
	struct digest top_digest;
	struct manifest top;
	struct image_manifest *ims;
	size_t nims;
	struct blob_job *jobs;
	size_t njobs;
	/* The store opens on a thread while the registry is asked for the
	 * manifest: its directories, which the downloads wait for, then its
	 * files, created and synced the first time, which only index.json
	 * waits for. */
	const char *store_dir;
	pthread_t opener;
	int opening;
	pthread_mutex_t open_lock;
	pthread_cond_t dirs_made;
	int dirs_done, dirs_rc, init_rc;
};

static char *read_password(void)
{
	char *buf = xmalloc(PASSWORD_MAX + 1);
	size_t n = 0;
	ssize_t r;

	while (n < PASSWORD_MAX && (r = read(0, buf + n, PASSWORD_MAX - n)) != 0) {
		if (r < 0)
			die("reading the password from stdin:");
		n += (size_t)r;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	if (n == 0)
		die("empty password on stdin");
	return buf;
}

/* GETs a manifest by tag or digest and checks it is the one named. */
static int get_manifest(struct pull *p, const char *ref, const struct digest *want,
			char **body, size_t *len, struct manifest *m, struct digest *out)
{
	char *path = xasprintf("/v2/%s/manifests/%s", p->reg.repo, ref);
	char *what = xasprintf("manifest %s", ref), err[256];
	struct reg_resp resp = { 0 };
	struct digest got, hdr;
	int rc = -1;

	if (reg_get(&p->reg, what, path, MANIFEST_ACCEPT, MANIFEST_MAX, body, len, &resp) < 0)
		goto out;
	/* A tag names whatever the registry says; its Docker-Content-Digest
	 * header, when present, must still agree with the bytes. */
	if (!want && resp.docker_digest[0] && digest_parse(resp.docker_digest, &hdr) == 0)
		want = &hdr;
	digest_buffer(want ? want->alg : DIGEST_SHA256, *body, *len, &got);
	if (want && !digest_equal(&got, want)) {
		char gs[DIGEST_MAX_STR + 1], ws[DIGEST_MAX_STR + 1];
		digest_format(&got, gs);
		digest_format(want, ws);
		warnf("%s: digest mismatch: expected %s, received %s", what, ws, gs);
		goto fail;
	}
	if (manifest_parse(*body, *len, resp.content_type, m, err, sizeof err) < 0) {
		warnf("%s: %s", what, err);
		goto fail;
	}
	*out = got;
	rc = 0;
	goto out;
fail:
	free(*body);
	*body = NULL;
out:
	reg_resp_free(&resp);
	free(what);
	free(path);
	return rc;
}

static void add_job(struct pull *p, const struct desc *d)
{
	for (size_t i = 0; i < p->njobs; i++)
		if (digest_equal(&p->jobs[i].desc->digest, &d->digest))
			return;
	p->jobs = xrealloc(p->jobs, (p->njobs + 1) * sizeof *p->jobs);
	p->jobs[p->njobs++] = (struct blob_job){ .desc = d };
}

static struct image_manifest *add_manifest(struct pull *p)
{
	p->ims = xrealloc(p->ims, (p->nims + 1) * sizeof *p->ims);
	memset(&p->ims[p->nims], 0, sizeof *p->ims);
	return &p->ims[p->nims++];
}

/* Fetches the platform manifests an index points to. */
static int resolve_index(struct pull *p)
{
	char ps[100];
	size_t i;

	for (i = 0; i < p->top.nmanifests; i++) {
		const struct desc *d = &p->top.manifests[i];
		if (p->all_platforms) {
			if (d->attestation) {
				debugf("skipping attestation manifest %s", d->digest_str);
				continue;
			}
		} else if (d != manifest_select(&p->top, &p->platform)) {
			continue;
		}
		if (d->kind != MT_MANIFEST) {
			warnf("index entry %s: unsupported media type %s", d->digest_str,
			      d->kind == MT_INDEX ? "(nested index)" : "");
			return -1;
		}
		struct image_manifest *im = add_manifest(p);
		if (get_manifest(p, d->digest_str, &d->digest, &im->body, &im->len, &im->m,
				 &im->digest) < 0)
			return -1;
		if (im->m.kind != MT_MANIFEST) {
			warnf("manifest %s: is not an image manifest", d->digest_str);
			return -1;
		}
		im->platform_os = d->os;
		im->platform_arch = d->arch;
		im->platform_variant = d->variant;
	}
	if (p->nims == 0) {
		platform_format(&p->platform, ps, sizeof ps);
		warnf("%s: no manifest for %s%s", p->ref.name, p->all_platforms ? "any platform" : ps,
		      p->all_platforms ? "" : " (see --platform)");
		return -1;
	}
	return 0;
}

static void print_json(struct pull *p, const struct store_ref *sr)
{
	yajl_gen g = json_gen_new(1);
	const unsigned char *out;
	size_t outlen, i, j, k;

	yajl_gen_map_open(g);
	json_gen_kv(g, "reference", p->ref.name);
	json_gen_kv(g, "digest", sr->digest);
	json_gen_kv(g, "mediaType", sr->media_type);
	json_gen_kint(g, "size", (long long)sr->size);
	json_gen_str(g, "manifests");
	yajl_gen_array_open(g);
	for (i = 0; i < p->nims; i++) {
		struct image_manifest *im = &p->ims[i];
		char ds[DIGEST_MAX_STR + 1];
		digest_format(&im->digest, ds);
		yajl_gen_map_open(g);
		json_gen_kv(g, "digest", ds);
		json_gen_kv(g, "mediaType", im->m.media_type);
		json_gen_kint(g, "size", (long long)im->len);
		if (im->platform_os) {
			char *pl = xasprintf("%s/%s%s%s", im->platform_os, im->platform_arch,
					     im->platform_variant[0] ? "/" : "", im->platform_variant);
			json_gen_kv(g, "platform", pl);
			free(pl);
		}
		for (k = 0; k <= im->m.nlayers; k++) {
			const struct desc *d = k == 0 ? &im->m.config : &im->m.layers[k - 1];
			const char *status = "nondistributable";
			if (k == 0)
				json_gen_str(g, "config");
			else if (k == 1)
				json_gen_str(g, "layers");
			if (k == 1)
				yajl_gen_array_open(g);
			for (j = 0; j < p->njobs; j++)
				if (digest_equal(&p->jobs[j].desc->digest, &d->digest))
					status = blob_status_name(p->jobs[j].status);
			yajl_gen_map_open(g);
			json_gen_kv(g, "digest", d->digest_str);
			json_gen_kv(g, "mediaType", d->media_type);
			json_gen_kint(g, "size", (long long)d->size);
			json_gen_kv(g, "status", status);
			yajl_gen_map_close(g);
		}
		if (im->m.nlayers == 0) {
			json_gen_str(g, "layers");
			yajl_gen_array_open(g);
		}
		yajl_gen_array_close(g);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &out, &outlen);
	fwrite(out, 1, outlen, stdout);
	yajl_gen_free(g);
}

/* Starts a manifest (or the index) on its way into blobs/: written and
 * synced by q while the blobs download, published after them. it->fd
 * stays -1 when the store already has it. */
static int stage(struct pull *p, struct syncer *q, struct syncer_item *it,
		 const struct digest *d, const char *body, size_t len)
{
	int fd, r = store_stage_buffer(&p->store, d, body, len, &it->tmp, &fd);

	it->fd = -1;
	if (r != 0)
		return r < 0 ? -1 : 0;
	it->fd = fd;
	it->digest = *d;
	it->sync_only = 1;
	it->unlink_on_fail = 1;
	syncer_add(q, it);
	return 0;
}

/* After syncer_finish: publishes the staged files in order, while ok;
 * removes them when not. */
static int publish(struct pull *p, struct syncer_item *st, size_t n, int ok)
{
	for (size_t i = 0; i < n; i++) {
		if (st[i].fd < 0)
			continue;
		if (st[i].err) {
			errno = st[i].err;
			warnf("manifest %s:%s: %s:", digest_alg_name(st[i].digest.alg),
			      st[i].digest.hex, st[i].step);
			ok = 0;
		} else if (ok && store_publish(&p->store, st[i].fd, st[i].tmp, &st[i].digest) < 0) {
			ok = 0;
		}
		if (!ok && st[i].tmp)
			unlink(st[i].tmp);
		close(st[i].fd);
		free(st[i].tmp);
	}
	return ok ? 0 : -1;
}

/* The digest algorithms of everything index.json will reach. */
static unsigned used_algs(const struct pull *p)
{
	unsigned algs = 1u << p->top_digest.alg;

	for (size_t i = 0; i < p->njobs; i++)
		algs |= 1u << p->jobs[i].desc->digest.alg;
	for (size_t i = 0; i < p->nims; i++)
		algs |= 1u << p->ims[i].digest.alg;
	return algs;
}

static void *open_store(void *arg)
{
	struct pull *p = arg;
	int rc = store_open(&p->store, p->store_dir);

	pthread_mutex_lock(&p->open_lock);
	p->dirs_rc = rc;
	p->dirs_done = 1;
	pthread_cond_signal(&p->dirs_made);
	pthread_mutex_unlock(&p->open_lock);
	p->init_rc = rc < 0 ? -1 : store_init(&p->store);
	return NULL;
}

static void store_start(struct pull *p, const char *dir)
{
	p->store_dir = dir;
	pthread_mutex_init(&p->open_lock, NULL);
	pthread_cond_init(&p->dirs_made, NULL);
	if (pthread_create(&p->opener, NULL, open_store, p) == 0)
		p->opening = 1;
	else
		open_store(p);
}

/* 0 once the store's directories are there. */
static int store_dirs_ready(struct pull *p)
{
	pthread_mutex_lock(&p->open_lock);
	while (!p->dirs_done)
		pthread_cond_wait(&p->dirs_made, &p->open_lock);
	pthread_mutex_unlock(&p->open_lock);
	return p->dirs_rc;
}

/* 0 once its files are too. */
static int store_ready(struct pull *p)
{
	if (p->opening) {
		pthread_join(p->opener, NULL);
		p->opening = 0;
	}
	return p->init_rc;
}

/* Blobs, then manifests, then the index into the store, and index.json
 * last (the caller): the store never points at what it lacks. The
 * manifests are written and synced while the blobs download. */
static int store_blobs(struct pull *p, int jobs)
{
	struct syncer_item *st;
	struct syncer q;
	size_t i;
	int ok = 1;

	if (store_dirs_ready(p) < 0)
		return -1;
	st = xcalloc(p->nims + 1, sizeof *st);
	for (i = 0; i <= p->nims; i++)
		st[i].fd = -1;
	syncer_init(&q, &p->store);
	for (i = 0; i < p->nims && ok; i++)
		ok = stage(p, &q, &st[i], &p->ims[i].digest, p->ims[i].body, p->ims[i].len) == 0;
	if (ok && p->all_platforms && p->top_body)
		ok = stage(p, &q, &st[p->nims], &p->top_digest, p->top_body, p->top_len) == 0;
	if (ok)
		ok = fetch_blobs(&p->reg, &p->store, &q, p->jobs, p->njobs, jobs) == 0;
	syncer_finish(&q);
	ok = publish(p, st, p->nims + 1, ok) == 0;
	free(st);
	return ok ? 0 : -1;
}

static int pull(struct pull *p, int jobs, int json)
{
	struct store_ref sr = { .name = p->ref.name };
	char top_ds[DIGEST_MAX_STR + 1];
	size_t i, k;
	struct digest want;

	if (p->ref.digest)
		digest_parse(p->ref.digest, &want);
	if (get_manifest(p, p->ref.digest ? p->ref.digest : p->ref.tag,
			 p->ref.digest ? &want : NULL, &p->top_body, &p->top_len, &p->top,
			 &p->top_digest) < 0)
		return -1;
	digest_format(&p->top_digest, top_ds);
	if (p->top.kind == MT_INDEX) {
		if (resolve_index(p) < 0)
			return -1;
	} else {
		struct image_manifest *im = add_manifest(p);
		im->body = p->top_body;
		im->len = p->top_len;
		im->digest = p->top_digest;
		im->m = p->top;
		p->top_body = NULL;
		memset(&p->top, 0, sizeof p->top);
	}
	for (i = 0; i < p->nims; i++) {
		struct manifest *m = &p->ims[i].m;
		add_job(p, &m->config);
		for (k = 0; k < m->nlayers; k++) {
			if (m->layers[k].kind == MT_LAYER_NONDIST)
				warnf("layer %s is non-distributable (%s): not fetched",
				      m->layers[k].digest_str, m->layers[k].media_type);
			else
				add_job(p, &m->layers[k]);
		}
	}
	if (store_blobs(p, jobs) < 0)
		return -1;
	if (p->all_platforms && p->top_body) {
		sr.media_type = p->top.media_type;
		sr.digest = top_ds;
		sr.size = p->top_len;
	} else {
		static char ds[DIGEST_MAX_STR + 1];
		digest_format(&p->ims[0].digest, ds);
		sr.media_type = p->ims[0].m.media_type;
		sr.digest = ds;
		sr.size = p->ims[0].len;
		sr.os = p->ims[0].platform_os;
		sr.arch = p->ims[0].platform_arch;
		sr.variant = p->ims[0].platform_variant;
	}
	if (store_ready(p) < 0 || store_add_ref(&p->store, &sr, used_algs(p)) < 0)
		return -1;
	if (json)
		print_json(p, &sr);
	else
		printf("%s\n", sr.digest);
	if (fflush(stdout) == EOF)
		die("stdout:");
	return 0;
}

static void pull_free(struct pull *p)
{
	for (size_t i = 0; i < p->nims; i++) {
		free(p->ims[i].body);
		manifest_free(&p->ims[i].m);
	}
	free(p->ims);
	free(p->jobs);
	free(p->top_body);
	manifest_free(&p->top);
	reg_free(&p->reg);
	pthread_cond_destroy(&p->dirs_made);
	pthread_mutex_destroy(&p->open_lock);
	store_close(&p->store);
	ref_free(&p->ref);
}

int main(int argc, char **argv)
{
	enum { OPT_PLATFORM = 256, OPT_ALL, OPT_USER, OPT_PWSTDIN, OPT_CA, OPT_INSECURE,
	       OPT_JSON, OPT_VERSION };
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "platform", required_argument, NULL, OPT_PLATFORM },
		{ "all-platforms", no_argument, NULL, OPT_ALL },
		{ "username", required_argument, NULL, OPT_USER },
		{ "password-stdin", no_argument, NULL, OPT_PWSTDIN },
		{ "ca-file", required_argument, NULL, OPT_CA },
		{ "insecure", no_argument, NULL, OPT_INSECURE },
		{ "jobs", required_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct pull p;
	struct creds creds = { 0 };
	const char *out = NULL, *user = NULL, *ca_file = NULL, *platform = NULL;
	int c, pwstdin = 0, insecure = 0, quiet = 0, json = 0, jobs = DEFAULT_JOBS, rc;
	char err[256], *end;

	setprogname(argv[0]);
	/* libcurl mallocs a receive buffer of BLOB_READ_SIZE for each
	 * transfer and frees it at the end: from the heap, and kept there,
	 * the next transfer reuses its pages instead of faulting in new
	 * ones (a fault costs microseconds in a VM). */
	mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
	mallopt(M_TRIM_THRESHOLD, 32 * 1024 * 1024);
	memset(&p, 0, sizeof p);
	while ((c = getopt_long(argc, argv, "o:j:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case OPT_PLATFORM: platform = optarg; break;
		case OPT_ALL: p.all_platforms = 1; break;
		case OPT_USER: user = optarg; break;
		case OPT_PWSTDIN: pwstdin = 1; break;
		case OPT_CA: ca_file = optarg; break;
		case OPT_INSECURE: insecure = 1; break;
		case 'j':
			jobs = (int)strtol(optarg, &end, 10);
			if (*end || jobs < 1 || jobs > MAX_JOBS) {
				warnf("-j: want a number from 1 to %d", MAX_JOBS);
				usage(0);
			}
			break;
		case 'q': quiet = 1; break;
		case OPT_JSON: json = 1; break;
		case 'h': usage(1); break;
		case OPT_VERSION: printf("oci-pull %s\n", VERSION); return 0;
		default: usage(0);
		}
	}
	if (optind != argc - 1 || !out)
		usage(0);
	if (!!user != pwstdin) {
		warnf("--username and --password-stdin go together");
		usage(0);
	}
	if (platform && p.all_platforms) {
		warnf("--platform and --all-platforms exclude each other");
		usage(0);
	}
	if (platform) {
		if (platform_parse(platform, &p.platform) < 0) {
			warnf("--platform %s: want os/arch[/variant]", platform);
			usage(0);
		}
	} else {
		platform_host(&p.platform);
	}
	if (ref_parse(argv[optind], &p.ref, err, sizeof err) < 0) {
		warnf("%s: %s", argv[optind], err);
		return EXIT_USAGE;
	}
	if (sodium_init() < 0)
		die("libsodium failed to initialise");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		die("libcurl failed to initialise");
	progress_init(quiet);
	if (user) {
		creds.user = xstrdup(user);
		creds.pass = read_password();
	} else if (creds_lookup(p.ref.domain, &creds) < 0) {
		warnf("%s: ignoring the broken credentials configuration", p.ref.domain);
	}
	rc = EXIT_FAIL;
	store_start(&p, out);
	reg_init(&p.reg, ref_api_host(&p.ref), p.ref.path, ca_file, insecure, &creds);
	if (reg_connect(&p.reg) < 0)
		goto out;
	if (pull(&p, jobs, json) == 0)
		rc = 0;
out:
	store_ready(&p);
	if (rc != 0)
		warnf("pulling %s failed", p.ref.name);
	pull_free(&p);
	curl_global_cleanup();
	return rc;
}
