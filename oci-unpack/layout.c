/* layout.c: index.json, reference and platform selection, manifest and
 * config, each blob checked against its digest before it is parsed. */
#include "layout.h"
#include "err.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define REF_NAME "org.opencontainers.image.ref.name"

/* Layer media types (image-spec layer.md, media-types.md, and Docker's
 * image manifest v2 schema 2). */
static const struct {
	const char *type;
	enum compression comp;
} layer_types[] = {
	{ "application/vnd.oci.image.layer.v1.tar", COMP_NONE },
	{ "application/vnd.oci.image.layer.v1.tar+gzip", COMP_GZIP },
	{ "application/vnd.oci.image.layer.v1.tar+zstd", COMP_ZSTD },
	{ "application/vnd.oci.image.layer.nondistributable.v1.tar", COMP_NONE },
	{ "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", COMP_GZIP },
	{ "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", COMP_ZSTD },
	{ "application/vnd.docker.image.rootfs.diff.tar", COMP_NONE },
	{ "application/vnd.docker.image.rootfs.diff.tar.gzip", COMP_GZIP },
	{ "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", COMP_GZIP },
	{ "application/vnd.docker.image.rootfs.diff.tar.zstd", COMP_ZSTD },
};

int layer_compression(const char *mt, enum compression *c)
{
	size_t i;

	for (i = 0; i < sizeof(layer_types) / sizeof(layer_types[0]); i++)
		if (!strcmp(mt, layer_types[i].type)) {
			*c = layer_types[i].comp;
			return 0;
		}
	return -1;
}

void host_platform(char *buf, size_t len)
{
	static const struct { const char *uname, *oci; } arch[] = {
		{ "x86_64", "amd64" }, { "aarch64", "arm64" },
		{ "i686", "386" }, { "i386", "386" }, { "armv7l", "arm/v7" },
		{ "armv6l", "arm/v6" }, { "ppc64le", "ppc64le" },
		{ "s390x", "s390x" }, { "riscv64", "riscv64" },
	};
	struct utsname u;
	const char *a = NULL;
	size_t i;

	if (uname(&u) < 0)
		die("uname:");
	for (i = 0; i < sizeof(arch) / sizeof(arch[0]) && !a; i++)
		if (!strcmp(u.machine, arch[i].uname))
			a = arch[i].oci;
	snprintf(buf, len, "linux/%s", a ? a : u.machine);
}

int blob_open(int dirfd, const struct digest *d)
{
	char path[DIGEST_MAX_STR + 16];

	snprintf(path, sizeof(path), "blobs/%s/%s", digest_alg_name(d->alg),
		 d->hex);
	return openat(dirfd, path, O_RDONLY | O_CLOEXEC);
}

static int read_at(int dirfd, int fd, const char *what, char **out,
		   size_t *outlen)
{
	size_t len = 0, cap = 4096;
	char *buf = xmalloc(cap);
	ssize_t n;

	(void)dirfd;
	for (;;) {
		if (len + 1 >= cap) {
			if (cap > LAYOUT_MAX_JSON)
				die("%s: larger than %u bytes", what,
				    LAYOUT_MAX_JSON);
			buf = xrealloc(buf, cap *= 2);
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("%s: read:", what);
		if (n == 0)
			break;
		len += n;
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;
}

/* Reads a JSON blob, checks its size (when known) and digest. */
static yajl_val read_blob_json(int dirfd, const struct digest *d,
			       long long size, char **raw, size_t *rawlen)
{
	char want[DIGEST_MAX_STR + 1], got[DIGEST_MAX_STR + 1], err[256];
	struct digest gd;
	size_t len;
	char *buf;
	yajl_val v;
	int fd;

	digest_format(d, want);
	if ((fd = blob_open(dirfd, d)) < 0)
		die("blob %s:", want);
	read_at(dirfd, fd, want, &buf, &len);
	close(fd);
	if (size >= 0 && (long long)len != size)
		die("blob %s: size %zu, descriptor says %lld", want, len, size);
	digest_buffer(d->alg, buf, len, &gd);
	if (!digest_equal(d, &gd)) {
		digest_format(&gd, got);
		die("blob %s: digest mismatch: expected %s, got %s", want,
		    want, got);
	}
	if (!(v = json_parse(buf, len, err, sizeof(err))))
		die("blob %s: %s", want, err);
	if (raw) {
		*raw = buf;
		*rawlen = len;
	} else {
		free(buf);
	}
	return v;
}

/* A descriptor (image-spec descriptor.md): digest, size, media type. */
static void parse_desc(yajl_val desc, const char *what, struct digest *d,
		       long long *size)
{
	const char *ds = json_get_str(desc, "digest");

	if (!ds || digest_parse(ds, d) < 0)
		die("%s: descriptor without a valid digest", what);
	if (json_get_int(desc, "size", size) < 0 || *size < 0)
		die("%s: descriptor %s without a valid size", what, ds);
}

static int platform_match(yajl_val desc, const char *platform)
{
	yajl_val p = json_get_obj(desc, "platform");
	const char *os, *arch, *variant;
	char want[128], *wos, *warch, *wvar;

	if (!p)
		return 0;
	os = json_get_str(p, "os");
	arch = json_get_str(p, "architecture");
	variant = json_get_str(p, "variant");
	snprintf(want, sizeof(want), "%s", platform);
	wos = want;
	if (!(warch = strchr(wos, '/')))
		return 0;
	*warch++ = '\0';
	if ((wvar = strchr(warch, '/')))
		*wvar++ = '\0';
	if (!os || !arch || strcmp(os, wos) || strcmp(arch, warch))
		return 0;
	return !wvar || (variant && !strcmp(variant, wvar));
}

static const char *ref_name(yajl_val desc)
{
	return json_get_str(json_get_obj(desc, "annotations"), REF_NAME);
}

/* "host/repo:tag" -> "tag"; NULL when the reference has no tag. */
static const char *ref_tag(const char *ref)
{
	const char *c = strrchr(ref, ':');

	return c && !strchr(c, '/') ? c + 1 : NULL;
}

/* The index.json entries that REFERENCE names: an exact ref.name, else
 * the same tag written bare (skopeo, umoci) or in full (oci-pull). */
static size_t find_refs(yajl_val mans, const char *ref, yajl_val *out,
			size_t max)
{
	const char *tag = ref_tag(ref), *name, *t;
	size_t i, n = 0, pass;

	for (pass = 0; pass < 3 && n == 0; pass++)
		for (i = 0; i < json_arr_len(mans) && n < max; i++) {
			yajl_val m = json_arr_at(mans, i);
			if (!(name = ref_name(m)))
				continue;
			if (pass == 0 ? !strcmp(name, ref) :
			    pass == 1 ? tag && !strcmp(name, tag) :
			    (t = ref_tag(name)) && !strchr(ref, ':') &&
			    !strchr(ref, '/') && !strcmp(t, ref))
				out[n++] = m;
		}
	return n;
}

/* A bare tag that ends several different names picks none of them. */
static void check_ambiguous(const char *ref, yajl_val *found, size_t n)
{
	char list[1024];
	size_t i, j, o = 0;
	int ambiguous = 0;

	list[0] = '\0';
	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++)
			if (!strcmp(ref_name(found[i]), ref_name(found[j])))
				break;
		if (j < i)
			continue;	/* the same name for another platform */
		ambiguous |= i > 0;
		if (o < sizeof(list))
			o += snprintf(list + o, sizeof(list) - o, "%s%s",
				      i ? ", " : "", ref_name(found[i]));
	}
	if (ambiguous)
		die("%s: ambiguous, it names %s (give the full name)", ref,
		    list);
}

static const char *media_of(yajl_val desc, yajl_val blob)
{
	const char *mt = json_get_str(blob, "mediaType");

	if (!mt)
		mt = json_get_str(desc, "mediaType");
	if (!mt && json_get_arr(blob, "manifests"))
		mt = MT_OCI_INDEX;
	if (!mt && json_get_arr(blob, "layers"))
		mt = MT_OCI_MANIFEST;
	return mt ? mt : "";
}

static void load_manifest(int dirfd, yajl_val m, const char *dstr,
			  struct image *img)
{
	yajl_val cfgd = json_get_obj(m, "config"), layers, diffs;
	struct digest cd;
	long long size;
	char *mt;
	size_t i;

	if (!cfgd)
		die("manifest %s: no config", dstr);
	parse_desc(cfgd, dstr, &cd, &size);
	img->config = read_blob_json(dirfd, &cd, size, &img->config_json,
				     &img->config_len);
	layers = json_get_arr(m, "layers");
	diffs = json_get_arr(json_get_obj(img->config, "rootfs"), "diff_ids");
	if (!layers)
		die("manifest %s: no layers", dstr);
	if (json_arr_len(diffs) != json_arr_len(layers))
		die("manifest %s: %zu layers but %zu diff_ids in its config",
		    dstr, json_arr_len(layers), json_arr_len(diffs));
	img->nlayers = json_arr_len(layers);
	img->layers = xcalloc(img->nlayers + 1, sizeof(*img->layers));
	for (i = 0; i < img->nlayers; i++) {
		struct layer *l = &img->layers[i];
		yajl_val ld = json_arr_at(layers, i);
		yajl_val dv = json_arr_at(diffs, i);
		const char *lmt = json_get_str(ld, "mediaType");

		parse_desc(ld, dstr, &l->digest, &l->size);
		mt = xstrdup(lmt ? lmt : "");
		l->media_type = mt;
		if (layer_compression(mt, &l->comp) < 0)
			die("manifest %s: layer %zu: unsupported media type "
			    "\"%s\"", dstr, i, mt);
		if (!YAJL_IS_STRING(dv) ||
		    digest_parse(dv->u.string, &l->diff_id) < 0)
			die("config of %s: diff_id %zu is not a digest", dstr,
			    i);
	}
}

static void resolve(int dirfd, yajl_val desc, const struct digest *d,
		    long long size, const char *platform, struct image *img,
		    int depth)
{
	char dstr[DIGEST_MAX_STR + 1];
	yajl_val blob, mans, pick = NULL;
	const char *mt;
	struct digest nd;
	long long nsize;
	size_t i;

	digest_format(d, dstr);
	if (depth > LAYOUT_MAX_NESTING)
		die("%s: indexes nested too deep", dstr);
	blob = read_blob_json(dirfd, d, size, NULL, NULL);
	mt = media_of(desc, blob);
	if (!strcmp(mt, MT_OCI_MANIFEST) || !strcmp(mt, MT_DOCKER_MANIFEST)) {
		img->manifest_digest = *d;
		load_manifest(dirfd, blob, dstr, img);
	} else if (!strcmp(mt, MT_OCI_INDEX) || !strcmp(mt, MT_DOCKER_LIST)) {
		mans = json_get_arr(blob, "manifests");
		for (i = 0; i < json_arr_len(mans) && !pick; i++)
			if (platform_match(json_arr_at(mans, i), platform))
				pick = json_arr_at(mans, i);
		if (!pick)
			die("%s: no manifest for platform %s", dstr, platform);
		parse_desc(pick, dstr, &nd, &nsize);
		resolve(dirfd, pick, &nd, nsize, platform, img, depth + 1);
	} else {
		die("%s: unsupported media type \"%s\"", dstr, mt);
	}
	json_free(blob);
}

void image_load(int dirfd, const char *ref, const char *platform,
		struct image *img)
{
	yajl_val index, mans, found[64], pick = NULL;
	char *buf, err[256], host[64];
	const char *at;
	struct digest d;
	long long size = -1;
	size_t len, n, i;
	int fd;

	memset(img, 0, sizeof(*img));
	if (!platform) {
		host_platform(host, sizeof(host));
		platform = host;
	}
	if ((fd = openat(dirfd, "index.json", O_RDONLY | O_CLOEXEC)) < 0)
		die("index.json:");
	read_at(dirfd, fd, "index.json", &buf, &len);
	close(fd);
	if (!(index = json_parse(buf, len, err, sizeof(err))))
		die("index.json: %s", err);
	free(buf);
	mans = json_get_arr(index, "manifests");
	at = strrchr(ref, '@');
	if (digest_parse(at ? at + 1 : ref, &d) == 0) {
		for (i = 0; i < json_arr_len(mans) && !pick; i++) {
			const char *ds = json_get_str(json_arr_at(mans, i),
						      "digest");
			struct digest md;
			if (ds && digest_parse(ds, &md) == 0 &&
			    digest_equal(&md, &d))
				pick = json_arr_at(mans, i);
		}
		if (pick)
			parse_desc(pick, "index.json", &d, &size);
	} else {
		n = find_refs(mans, ref, found, sizeof(found) / sizeof(*found));
		if (n == 0)
			die("%s: not found in index.json", ref);
		check_ambiguous(ref, found, n);
		/* One name may be given to a manifest per platform. */
		for (i = 0; i < n && !pick; i++)
			if (n == 1 || platform_match(found[i], platform))
				pick = found[i];
		if (!pick)
			die("%s: no manifest for platform %s", ref, platform);
		parse_desc(pick, "index.json", &d, &size);
	}
	resolve(dirfd, pick, &d, size, platform, img, 0);
	json_free(index);
}

void image_free(struct image *img)
{
	size_t i;

	for (i = 0; i < img->nlayers; i++)
		free(img->layers[i].media_type);
	free(img->layers);
	json_free(img->config);
	free(img->config_json);
	memset(img, 0, sizeof(*img));
}
