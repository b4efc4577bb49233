/* layout.h: reading an image out of an OCI image layout
 * (image-spec image-layout.md): index.json, manifests, config, blobs. */
#ifndef OCI_UNPACK_LAYOUT_H
#define OCI_UNPACK_LAYOUT_H

#include "digest.h"
#include "json.h"

/* Manifests, indexes and configs are small; layers are streamed. */
#define LAYOUT_MAX_JSON (16u << 20)
/* Indexes nested in indexes. */
#define LAYOUT_MAX_NESTING 4

enum compression { COMP_NONE, COMP_GZIP, COMP_ZSTD };

/* One entry of manifest.layers (image-spec manifest.md) with its
 * diff_id from the config (config.md, rootfs.diff_ids). */
struct layer {
	struct digest digest;
	long long size;
	enum compression comp;
	char *media_type;
	struct digest diff_id;
};

struct image {
	struct digest manifest_digest;
	char *config_json;
	size_t config_len;
	yajl_val config;
	struct layer *layers;
	size_t nlayers;
};

/* Finds REFERENCE (a ref.name annotation, a bare tag or a digest) in
 * the layout open at dirfd, picks the manifest for platform
 * ("os/arch[/variant]", NULL for the host's) and reads its config.
 * Dies with a message on any failure. */
void image_load(int dirfd, const char *ref, const char *platform,
		struct image *img);
void image_free(struct image *img);

/* Opens the blob named by d for reading; -1 with errno. */
int blob_open(int dirfd, const struct digest *d);

/* Parses a media type of a layer; -1 if it is not one we apply. */
int layer_compression(const char *media_type, enum compression *c);

/* Picks the host platform as "os/arch[/variant]" into buf. */
void host_platform(char *buf, size_t len);

#endif
