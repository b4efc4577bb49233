/* ref.h: image references as docker/distribution's reference grammar
 * defines them, with Docker Hub's normalisation:
 *   [domain/]path[:tag][@digest]
 * "busybox" is "docker.io/library/busybox:latest". */
#ifndef OCI_PULL_REF_H
#define OCI_PULL_REF_H

#include <stddef.h>

#define REF_MAX_NAME 255	/* domain + path, as distribution limits it */
#define REF_MAX_TAG 128

struct ref {
	char *domain;	/* "docker.io", "127.0.0.1:5000", "[::1]:5000" */
	char *path;	/* "library/busybox" */
	char *tag;	/* NULL when only a digest was given */
	char *digest;	/* validated "alg:hex", or NULL */
	char *name;	/* normalised full reference, the ref.name annotation */
};

/* 0 on success; -1 with a reason in err. */
int ref_parse(const char *s, struct ref *r, char *err, size_t errlen);
void ref_free(struct ref *r);
/* The host the registry API answers on (docker.io -> registry-1.docker.io). */
const char *ref_api_host(const struct ref *r);

#endif
