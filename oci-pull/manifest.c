/* manifest.c: see manifest.h. */
#include "manifest.h"
#include "json.h"
#include "xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Sizes beyond this are not blobs anyone can store: a hostile number. */
#define DESC_SIZE_MAX (1ULL << 44)

static const struct {
	const char *mt;
	enum mt_kind kind;
} media_types[] = {
	{ MT_OCI_INDEX, MT_INDEX },
	{ MT_DOCKER_LIST, MT_INDEX },
	{ MT_OCI_MANIFEST, MT_MANIFEST },
	{ MT_DOCKER_MANIFEST, MT_MANIFEST },
	{ "application/vnd.oci.image.config.v1+json", MT_CONFIG },
	{ "application/vnd.docker.container.image.v1+json", MT_CONFIG },
	{ "application/vnd.oci.image.layer.v1.tar", MT_LAYER },
	{ "application/vnd.oci.image.layer.v1.tar+gzip", MT_LAYER },
	{ "application/vnd.oci.image.layer.v1.tar+zstd", MT_LAYER },
	{ "application/vnd.docker.image.rootfs.diff.tar.gzip", MT_LAYER },
	{ "application/vnd.docker.image.rootfs.diff.tar.zstd", MT_LAYER },
	{ "application/vnd.oci.image.layer.nondistributable.v1.tar", MT_LAYER_NONDIST },
	{ "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", MT_LAYER_NONDIST },
	{ "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", MT_LAYER_NONDIST },
	{ "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", MT_LAYER_NONDIST },
};

enum mt_kind media_type_kind(const char *mt)
{
	if (!mt)
		return MT_UNKNOWN;
	for (size_t i = 0; i < sizeof media_types / sizeof media_types[0]; i++)
		if (!strcmp(mt, media_types[i].mt))
			return media_types[i].kind;
	return MT_UNKNOWN;
}

static void desc_free(struct desc *d)
{
	free(d->media_type);
	free(d->os);
	free(d->arch);
	free(d->variant);
}

void manifest_free(struct manifest *m)
{
	size_t i;

	free(m->media_type);
	desc_free(&m->config);
	for (i = 0; i < m->nlayers; i++)
		desc_free(&m->layers[i]);
	for (i = 0; i < m->nmanifests; i++)
		desc_free(&m->manifests[i]);
	free(m->layers);
	free(m->manifests);
	memset(m, 0, sizeof *m);
}

/* Printable, for messages quoting what a server sent. */
static void quote(char *dst, size_t n, const char *s)
{
	size_t i;

	for (i = 0; s && s[i] && i + 1 < n && i < 80; i++)
		dst[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
	dst[i] = '\0';
}

static void norm_arch(char *arch, size_t an, char *variant, size_t vn)
{
	if (!strcmp(arch, "x86_64") || !strcmp(arch, "x86-64"))
		snprintf(arch, an, "amd64");
	else if (!strcmp(arch, "i386") || !strcmp(arch, "i686"))
		snprintf(arch, an, "386");
	else if (!strcmp(arch, "aarch64"))
		snprintf(arch, an, "arm64");
	else if (!strcmp(arch, "armhf")) {
		snprintf(arch, an, "arm");
		snprintf(variant, vn, "v7");
	} else if (!strcmp(arch, "armel")) {
		snprintf(arch, an, "arm");
		snprintf(variant, vn, "v6");
	}
	if (!strcmp(arch, "arm64") && (!strcmp(variant, "v8") || !strcmp(variant, "8")))
		variant[0] = '\0';
	if (!strcmp(arch, "arm")) {
		if (!variant[0])
			snprintf(variant, vn, "v7");
		else if (variant[0] >= '5' && variant[0] <= '8' && !variant[1]) {
			char c = variant[0];
			snprintf(variant, vn, "v%c", c);
		}
	}
}

static int parse_desc(yajl_val v, struct desc *d, int in_index, const char *where,
		      char *err, size_t errlen)
{
	const char *mt = json_get_str(v, "mediaType"), *dg = json_get_str(v, "digest");
	long long size;
	char q[96];

	if (!YAJL_IS_OBJECT(v) || !mt || !dg || json_get_int(v, "size", &size) < 0) {
		snprintf(err, errlen, "%s: descriptor needs mediaType, digest and size", where);
		return -1;
	}
	if (digest_parse(dg, &d->digest) < 0) {
		quote(q, sizeof q, dg);
		snprintf(err, errlen, "%s: invalid digest \"%s\"", where, q);
		return -1;
	}
	if (size < 0 || (unsigned long long)size > DESC_SIZE_MAX) {
		snprintf(err, errlen, "%s: invalid size %lld", where, size);
		return -1;
	}
	digest_format(&d->digest, d->digest_str);
	d->size = (unsigned long long)size;
	d->media_type = xstrdup(mt);
	d->kind = media_type_kind(mt);
	if (in_index) {
		yajl_val p = json_get_obj(v, "platform");
		yajl_val ann = json_get_obj(v, "annotations");
		const char *os = json_get_str(p, "os"), *arch = json_get_str(p, "architecture");
		const char *var = json_get_str(p, "variant");
		char a[32], vv[32];
		if (os && arch && strlen(os) < 32 && strlen(arch) < 32 &&
		    (!var || strlen(var) < 32)) {
			snprintf(a, sizeof a, "%s", arch);
			snprintf(vv, sizeof vv, "%s", var ? var : "");
			norm_arch(a, sizeof a, vv, sizeof vv);
			d->os = xstrdup(os);
			d->arch = xstrdup(a);
			d->variant = xstrdup(vv);
		}
		d->attestation = (os && arch && !strcmp(os, "unknown") && !strcmp(arch, "unknown")) ||
				 json_get(ann, "vnd.docker.reference.type") != NULL;
	}
	return 0;
}

int manifest_parse(const char *buf, size_t len, const char *content_type,
		   struct manifest *m, char *err, size_t errlen)
{
	char jerr[128], q[96];
	const char *mt;
	enum mt_kind ck;
	long long sv;
	yajl_val v, arr;
	size_t i, n;
	int rc = -1;

	memset(m, 0, sizeof *m);
	if (len > MANIFEST_MAX) {
		snprintf(err, errlen, "manifest larger than %d bytes", MANIFEST_MAX);
		return -1;
	}
	if (!(v = json_parse(buf, len, jerr, sizeof jerr))) {
		snprintf(err, errlen, "malformed manifest: %s", jerr);
		return -1;
	}
	if (!YAJL_IS_OBJECT(v)) {
		snprintf(err, errlen, "malformed manifest: not a JSON object");
		goto out;
	}
	if (json_get_int(v, "schemaVersion", &sv) < 0 || sv != 2) {
		snprintf(err, errlen, "unsupported manifest schemaVersion (only 2; Docker schema 1 is not supported)");
		goto out;
	}
	mt = json_get_str(v, "mediaType");
	ck = media_type_kind(content_type);
	if (mt && (ck == MT_INDEX || ck == MT_MANIFEST) && strcmp(mt, content_type)) {
		quote(q, sizeof q, mt);
		snprintf(err, errlen, "manifest mediaType \"%s\" disagrees with Content-Type %s", q, content_type);
		goto out;
	}
	if (!mt && (ck == MT_INDEX || ck == MT_MANIFEST))
		mt = content_type;
	if (!mt) /* OCI allows an unlabelled document: its shape says what. */
		mt = json_get(v, "manifests") ? MT_OCI_INDEX : MT_OCI_MANIFEST;
	m->media_type = xstrdup(mt);
	m->kind = media_type_kind(mt);
	if (m->kind == MT_INDEX) {
		arr = json_get_arr(v, "manifests");
		n = json_arr_len(arr);
		if (!arr || n > MANIFEST_MAX_ENTRIES) {
			snprintf(err, errlen, "index: \"manifests\" missing or too long");
			goto out;
		}
		m->manifests = xcalloc(n ? n : 1, sizeof *m->manifests);
		for (i = 0; i < n; i++, m->nmanifests++)
			if (parse_desc(json_arr_at(arr, i), &m->manifests[i], 1,
				       "index entry", err, errlen) < 0)
				goto out;
	} else if (m->kind == MT_MANIFEST) {
		if (parse_desc(json_get_obj(v, "config"), &m->config, 0, "config", err, errlen) < 0)
			goto out;
		if (m->config.kind != MT_CONFIG) {
			quote(q, sizeof q, m->config.media_type);
			snprintf(err, errlen, "unknown config media type \"%s\"", q);
			goto out;
		}
		arr = json_get_arr(v, "layers");
		n = json_arr_len(arr);
		if (!arr || n > MANIFEST_MAX_ENTRIES) {
			snprintf(err, errlen, "manifest: \"layers\" missing or too long");
			goto out;
		}
		m->layers = xcalloc(n ? n : 1, sizeof *m->layers);
		for (i = 0; i < n; i++, m->nlayers++) {
			if (parse_desc(json_arr_at(arr, i), &m->layers[i], 0, "layer", err, errlen) < 0)
				goto out;
			if (m->layers[i].kind != MT_LAYER && m->layers[i].kind != MT_LAYER_NONDIST) {
				quote(q, sizeof q, m->layers[i].media_type);
				snprintf(err, errlen, "unknown layer media type \"%s\"", q);
				m->nlayers++;
				goto out;
			}
		}
	} else {
		quote(q, sizeof q, mt);
		snprintf(err, errlen, "unknown manifest media type \"%s\"", q);
		goto out;
	}
	rc = 0;
out:
	json_free(v);
	if (rc < 0)
		manifest_free(m);
	return rc;
}

int platform_parse(const char *s, struct platform *p)
{
	const char *a, *b;
	size_t n;

	memset(p, 0, sizeof *p);
	if (!(a = strchr(s, '/')))
		return -1;
	b = strchr(a + 1, '/');
	if ((n = (size_t)(a - s)) == 0 || n >= sizeof p->os)
		return -1;
	memcpy(p->os, s, n);
	n = b ? (size_t)(b - a - 1) : strlen(a + 1);
	if (n == 0 || n >= sizeof p->arch)
		return -1;
	memcpy(p->arch, a + 1, n);
	if (b) {
		if (!b[1] || strlen(b + 1) >= sizeof p->variant || strchr(b + 1, '/'))
			return -1;
		strcpy(p->variant, b + 1);
	}
	for (char *c = p->os; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	for (char *c = p->arch; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	norm_arch(p->arch, sizeof p->arch, p->variant, sizeof p->variant);
	return 0;
}

void platform_host(struct platform *p)
{
#if defined(__x86_64__)
	platform_parse("linux/amd64", p);
#elif defined(__aarch64__)
	platform_parse("linux/arm64", p);
#elif defined(__arm__)
	platform_parse("linux/arm", p);
#elif defined(__i386__)
	platform_parse("linux/386", p);
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	platform_parse("linux/ppc64le", p);
#elif defined(__s390x__)
	platform_parse("linux/s390x", p);
#elif defined(__riscv) && __riscv_xlen == 64
	platform_parse("linux/riscv64", p);
#else
	platform_parse("linux/unknown", p);
#endif
}

void platform_format(const struct platform *p, char *buf, size_t n)
{
	snprintf(buf, n, "%s/%s%s%s", p->os, p->arch, p->variant[0] ? "/" : "", p->variant);
}

const struct desc *manifest_select(const struct manifest *idx,
				   const struct platform *p)
{
	const struct desc *any = NULL;
	size_t i;

	for (i = 0; i < idx->nmanifests; i++) {
		const struct desc *d = &idx->manifests[i];
		if (d->attestation || !d->os || strcmp(d->os, p->os) || strcmp(d->arch, p->arch))
			continue;
		if (!strcmp(d->variant, p->variant))
			return d;
		/* No variant asked for: any variant of the architecture. */
		if (!p->variant[0] && !any)
			any = d;
	}
	return any;
}
