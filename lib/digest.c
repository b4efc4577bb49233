/* digest.c: see digest.h. Hashing is OpenSSL's libcrypto. */
#include "digest.h"
#include "err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static size_t hexlen(enum digest_alg alg)
{
	return alg == DIGEST_SHA256 ? 64 : 128;
}

const char *digest_alg_name(enum digest_alg alg)
{
	return alg == DIGEST_SHA256 ? "sha256" : "sha512";
}

int digest_parse(const char *s, struct digest *d)
{
	const char *colon = strchr(s, ':'), *p;
	size_t n;

	if (!colon)
		return -1;
	if ((size_t)(colon - s) == 6 && !strncmp(s, "sha256", 6))
		d->alg = DIGEST_SHA256;
	else if ((size_t)(colon - s) == 6 && !strncmp(s, "sha512", 6))
		d->alg = DIGEST_SHA512;
	else
		return -1;
	n = strlen(colon + 1);
	if (n != hexlen(d->alg))
		return -1;
	for (p = colon + 1; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return -1;
	memcpy(d->hex, colon + 1, n + 1);
	return 0;
}

void digest_format(const struct digest *d, char *out)
{
	snprintf(out, DIGEST_MAX_STR + 1, "%s:%s", digest_alg_name(d->alg),
		 d->hex);
}

int digest_equal(const struct digest *a, const struct digest *b)
{
	return a->alg == b->alg && !strcmp(a->hex, b->hex);
}

void hasher_init(struct hasher *h, enum digest_alg alg)
{
	h->alg = alg;
	if (alg == DIGEST_SHA256)
		SHA256_Init(&h->u.s256);
	else
		SHA512_Init(&h->u.s512);
}

void hasher_update(struct hasher *h, const void *buf, size_t len)
{
	if (h->alg == DIGEST_SHA256)
		SHA256_Update(&h->u.s256, buf, len);
	else
		SHA512_Update(&h->u.s512, buf, len);
}

void hasher_final(struct hasher *h, struct digest *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[SHA512_DIGEST_LENGTH];
	size_t i, n = h->alg == DIGEST_SHA256 ? SHA256_DIGEST_LENGTH
					      : SHA512_DIGEST_LENGTH;

	if (h->alg == DIGEST_SHA256)
		SHA256_Final(raw, &h->u.s256);
	else
		SHA512_Final(raw, &h->u.s512);
	out->alg = h->alg;
	for (i = 0; i < n; i++) {
		out->hex[2 * i] = hex[raw[i] >> 4];
		out->hex[2 * i + 1] = hex[raw[i] & 15];
	}
	out->hex[2 * n] = '\0';
}

void digest_buffer(enum digest_alg alg, const void *buf, size_t len,
		   struct digest *out)
{
	struct hasher h;

	hasher_init(&h, alg);
	hasher_update(&h, buf, len);
	hasher_final(&h, out);
}

int digest_file(const char *path, enum digest_alg alg, struct digest *out,
		unsigned long long *size)
{
	char buf[65536];
	struct hasher h;
	unsigned long long total = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	hasher_init(&h, alg);
	while ((n = read(fd, buf, sizeof buf)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int saved = errno;
			close(fd);
			errno = saved;
			return -1;
		}
		hasher_update(&h, buf, (size_t)n);
		total += (unsigned long long)n;
	}
	close(fd);
	hasher_final(&h, out);
	if (size)
		*size = total;
	return 0;
}
