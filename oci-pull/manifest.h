/* manifest.h: OCI image manifests and indexes (manifest.md,
 * image-index.md) and their Docker schema 2 equivalents (manifest,
 * manifest list): parsing untrusted documents into descriptors, and
 * choosing a platform's manifest from an index. */
#ifndef OCI_PULL_MANIFEST_H
#define OCI_PULL_MANIFEST_H

#include "digest.h"

#include <stddef.h>

#define MANIFEST_MAX (4 << 20)		/* bytes; a larger one is refused */
#define MANIFEST_MAX_ENTRIES 4096	/* layers or index entries */

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
/* What a GET of a manifest accepts, most wanted first. */
#define MANIFEST_ACCEPT MT_OCI_INDEX ", " MT_OCI_MANIFEST ", " \
	MT_DOCKER_LIST ", " MT_DOCKER_MANIFEST

enum mt_kind {
	MT_UNKNOWN,
	MT_INDEX,
	MT_MANIFEST,
	MT_CONFIG,
	MT_LAYER,
	MT_LAYER_NONDIST,	/* non-distributable ("foreign"): not fetched */
};

enum mt_kind media_type_kind(const char *mt);

/* descriptor.md: mediaType, digest, size; platform in an index. */
struct desc {
	char *media_type;
	struct digest digest;
	char digest_str[DIGEST_MAX_STR + 1];
	unsigned long long size;
	enum mt_kind kind;
	char *os, *arch, *variant;	/* index entries only, normalised */
	int attestation;	/* unknown/unknown or vnd.docker.reference.type */
};

struct manifest {
	char *media_type;
	enum mt_kind kind;	/* MT_INDEX or MT_MANIFEST */
	struct desc config;
	struct desc *layers;	/* MT_MANIFEST */
	size_t nlayers;
	struct desc *manifests;	/* MT_INDEX */
	size_t nmanifests;
};

/* content_type is the response's Content-Type (may be NULL or empty). */
int manifest_parse(const char *buf, size_t len, const char *content_type,
		   struct manifest *m, char *err, size_t errlen);
void manifest_free(struct manifest *m);

struct platform {
	char os[32], arch[32], variant[32];
};

/* "os/arch[/variant]", normalised (aarch64 -> arm64, arm64/v8 -> arm64,
 * arm -> arm/v7). -1 when malformed. */
int platform_parse(const char *s, struct platform *p);
void platform_host(struct platform *p);
void platform_format(const struct platform *p, char *buf, size_t n);
/* The entry of an index for p, or NULL. Attestations never match. */
const struct desc *manifest_select(const struct manifest *idx,
				   const struct platform *p);

#endif
