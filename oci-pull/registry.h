/* registry.h: the client side of the OCI distribution spec (pull only):
 * the /v2/ ping, token and basic authentication (the Docker token
 * authentication spec: WWW-Authenticate realm, service, scope), manifest
 * GETs, and the policy shared with the blob downloader: retries with
 * backoff, and the registry's JSON error message. */
#ifndef OCI_PULL_REGISTRY_H
#define OCI_PULL_REGISTRY_H

#include "creds.h"

#include <curl/curl.h>
#include <stddef.h>
#include <time.h>

#define REG_MAX_ATTEMPTS 5		/* per request, the first included */
#define REG_BACKOFF_MS 250		/* doubled each retry */
#define REG_RETRY_AFTER_MAX 60		/* seconds; a longer wait is capped */
#define REG_ERRBODY_MAX (64 << 10)	/* error bodies kept for their message */
#define REG_TOKEN_MAX (1 << 20)

struct registry {
	char *base;		/* "https://host:port" */
	char *host;		/* host:port as in the reference */
	char *repo;		/* "library/busybox" */
	const char *ca_file;
	int insecure;		/* --insecure: no TLS verification, http fallback */
	struct creds creds;
	CURLSH *share;		/* connections, DNS and TLS sessions */
	/* Authentication state. */
	char *auth;		/* "Authorization: ..." or NULL */
	int bearer;		/* auth came from a token server */
	char *realm, *service, *scope;
	time_t expiry;		/* of the bearer token; 0: none */
};

/* Headers a response carried that the client needs. */
struct reg_resp {
	long status;
	char content_type[256];
	char docker_digest[160];	/* Docker-Content-Digest */
	char content_range[128];
	long retry_after;		/* seconds, -1 when absent */
	char *challenge;		/* WWW-Authenticate, heap */
};

int reg_init(struct registry *r, const char *host, const char *repo,
	     const char *ca_file, int insecure, struct creds *creds);
void reg_free(struct registry *r);
/* Pings /v2/, choosing http or https, and authenticates. 0, or -1 after
 * printing why. */
int reg_connect(struct registry *r);
/* A GET of base + path into a buffer of at most cap bytes, retried and
 * authenticated. Returns 0 on 2xx; -1 after printing the error
 * (including the registry's message). */
int reg_get(struct registry *r, const char *what, const char *path,
	    const char *accept, size_t cap, char **body, size_t *len,
	    struct reg_resp *resp);

/* For the downloader. An easy handle with the client's TLS, redirect,
 * timeout and sharing settings, its header callback filling resp. */
CURL *reg_easy(struct registry *r, const char *url, struct reg_resp *resp);
void reg_resp_reset(struct reg_resp *resp);
void reg_resp_free(struct reg_resp *resp);
/* The current Authorization header (refreshing an expiring token), or
 * NULL when anonymous. */
const char *reg_auth_header(struct registry *r);
/* After a 401: re-authenticates from its challenge. 0 when a retry may
 * succeed. */
int reg_reauth(struct registry *r, const struct reg_resp *resp);
/* Whether a result is worth another attempt. */
int reg_retryable(CURLcode cc, long status);
/* Milliseconds to wait before attempt number n (1 = first retry). */
long reg_backoff_ms(int n, const struct reg_resp *resp);
/* A message for a failed response: the JSON errors[].message list of
 * the body when it has one, else the status. Into buf. */
void reg_error_text(long status, const char *body, size_t len, char *buf,
		    size_t bufsz);

#endif
