/* registry.c: see registry.h. */
#include "registry.h"
#include "err.h"
#include "json.h"
#include "xalloc.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define USER_AGENT "cz-oci-pull/0.1"
#define CONNECT_TIMEOUT 30L
#define STALL_SECONDS 60L	/* no byte for this long: a dropped connection */
#define MAX_REDIRS 5L

int reg_init(struct registry *r, const char *host, const char *repo,
	     const char *ca_file, int insecure, struct creds *creds)
{
	memset(r, 0, sizeof *r);
	r->host = xstrdup(host);
	r->repo = xstrdup(repo);
	r->ca_file = ca_file;
	r->insecure = insecure;
	r->creds = *creds;
	memset(creds, 0, sizeof *creds);
	if (!(r->share = curl_share_init()))
		die("curl_share_init failed");
	curl_share_setopt(r->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	curl_share_setopt(r->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(r->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	return 0;
}

static void set_auth(struct registry *r, char *hdr)
{
	if (r->auth)
		sodium_memzero(r->auth, strlen(r->auth));
	free(r->auth);
	r->auth = hdr;
}

void reg_free(struct registry *r)
{
	set_auth(r, NULL);
	creds_free(&r->creds);
	curl_share_cleanup(r->share);
	free(r->base);
	free(r->host);
	free(r->repo);
	free(r->realm);
	free(r->service);
	free(r->scope);
	memset(r, 0, sizeof *r);
}

void reg_resp_reset(struct reg_resp *resp)
{
	free(resp->challenge);
	memset(resp, 0, sizeof *resp);
	resp->retry_after = -1;
}

void reg_resp_free(struct reg_resp *resp)
{
	free(resp->challenge);
	resp->challenge = NULL;
}

static void copy_trimmed(char *dst, size_t dstsz, const char *v, size_t n)
{
	while (n > 0 && isspace((unsigned char)v[n - 1]))
		n--;
	if (n >= dstsz)
		n = dstsz - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

/* Header lines of every response, redirects included: a status line
 * starts a new response, so only the last one's headers remain. */
static size_t header_cb(char *line, size_t size, size_t nmemb, void *arg)
{
	struct reg_resp *resp = arg;
	size_t n = size * nmemb, klen;
	const char *colon, *v;

	if (n >= 5 && !strncmp(line, "HTTP/", 5)) {
		reg_resp_reset(resp);
		return n;
	}
	if (!(colon = memchr(line, ':', n)))
		return n;
	klen = (size_t)(colon - line);
	v = colon + 1;
	while (v < line + n && (*v == ' ' || *v == '\t'))
		v++;
#define IS(name) (klen == sizeof name - 1 && !strncasecmp(line, name, klen))
	if (IS("Content-Type")) {
		copy_trimmed(resp->content_type, sizeof resp->content_type, v,
			     (size_t)(line + n - v));
		/* "application/json; charset=utf-8": the type only. */
		char *semi = strchr(resp->content_type, ';');
		if (semi)
			*semi = '\0';
	} else if (IS("Docker-Content-Digest")) {
		copy_trimmed(resp->docker_digest, sizeof resp->docker_digest, v,
			     (size_t)(line + n - v));
	} else if (IS("Content-Range")) {
		copy_trimmed(resp->content_range, sizeof resp->content_range, v,
			     (size_t)(line + n - v));
	} else if (IS("Retry-After")) {
		char tmp[64];
		copy_trimmed(tmp, sizeof tmp, v, (size_t)(line + n - v));
		if (tmp[0] >= '0' && tmp[0] <= '9') {
			resp->retry_after = strtol(tmp, NULL, 10);
		} else {
			time_t t = curl_getdate(tmp, NULL);
			if (t > 0)
				resp->retry_after = t > time(NULL) ? (long)(t - time(NULL)) : 0;
		}
	} else if (IS("WWW-Authenticate") && !resp->challenge) {
		size_t vl = (size_t)(line + n - v);
		if (vl < 4096) {
			resp->challenge = xmalloc(vl + 1);
			copy_trimmed(resp->challenge, vl + 1, v, vl);
		}
	}
#undef IS
	return n;
}

CURL *reg_easy(struct registry *r, const char *url, struct reg_resp *resp)
{
	CURL *e = curl_easy_init();

	if (!e)
		die("curl_easy_init failed");
	reg_resp_reset(resp);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_SHARE, r->share);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, USER_AGENT);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	/* Redirects are followed; libcurl (>= 7.83) sends a custom
	 * Authorization header only to the original host and port. */
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(e, CURLOPT_UNRESTRICTED_AUTH, 0L);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, MAX_REDIRS);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, STALL_SECONDS);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, resp);
	if (r->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, r->ca_file);
	if (r->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	return e;
}

int reg_retryable(CURLcode cc, long status)
{
	switch (cc) {
	case CURLE_OK:
		return status == 408 || status == 429 ||
		       (status >= 500 && status <= 599 && status != 501 && status != 505);
	case CURLE_COULDNT_CONNECT:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_GOT_NOTHING:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

long reg_backoff_ms(int n, const struct reg_resp *resp)
{
	long ms = REG_BACKOFF_MS;

	if (resp && resp->retry_after >= 0)
		return (resp->retry_after > REG_RETRY_AFTER_MAX ? REG_RETRY_AFTER_MAX
								: resp->retry_after) * 1000;
	for (int i = 1; i < n && ms < 8000; i++)
		ms *= 2;
	return ms;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0)
		;
}

void reg_error_text(long status, const char *body, size_t len, char *buf,
		    size_t bufsz)
{
	char jerr[64];
	yajl_val v = NULL, errs;
	size_t off, i;

	off = (size_t)snprintf(buf, bufsz, "HTTP %ld", status);
	if (body && len > 0 && len < REG_ERRBODY_MAX && strlen(body) == len)
		v = json_parse(body, len, jerr, sizeof jerr);
	errs = json_get_arr(v, "errors");
	for (i = 0; i < json_arr_len(errs) && off < bufsz; i++) {
		yajl_val e = json_arr_at(errs, i);
		const char *msg = json_get_str(e, "message"), *code = json_get_str(e, "code");
		if (!msg && !code)
			continue;
		off += (size_t)snprintf(buf + off, bufsz - off, "%s %s%s%s%s",
					i ? ";" : ":", msg ? msg : "",
					code ? " (" : "", code ? code : "", code ? ")" : "");
	}
	json_free(v);
	/* What a server says goes to a terminal: printable ASCII only. */
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
}

struct membuf {
	char *p;
	size_t len, cap;
	int too_big;
};

static size_t mem_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct membuf *m = arg;
	size_t n = size * nmemb;

	if (n > m->cap - m->len) {
		m->too_big = 1;
		return 0;
	}
	m->p = xrealloc(m->p, m->len + n + 1);
	memcpy(m->p + m->len, data, n);
	m->len += n;
	m->p[m->len] = '\0';
	return n;
}

/* One GET into memory, no retries. */
static CURLcode get_once(struct registry *r, const char *url,
			 struct curl_slist *hdrs, struct membuf *m,
			 struct reg_resp *resp, char *errbuf)
{
	CURL *e = reg_easy(r, url, resp);
	CURLcode cc;

	free(m->p);
	m->p = NULL;
	m->len = 0;
	m->too_big = 0;
	errbuf[0] = '\0';
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, mem_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, m);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	cc = curl_easy_perform(e);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &resp->status);
	curl_easy_cleanup(e);
	return cc;
}

static const char *curl_why(CURLcode cc, const char *errbuf)
{
	return errbuf[0] ? errbuf : curl_easy_strerror(cc);
}

/* Parses a challenge: scheme, then key="value" or key=token pairs. */
static int parse_challenge(const char *s, char **scheme, char **realm,
			   char **service, char **scope)
{
	const char *p = s;
	size_t n;

	*scheme = *realm = *service = *scope = NULL;
	n = strcspn(p, " \t");
	if (n == 0)
		return -1;
	*scheme = xstrndup(p, n);
	p += n;
	for (;;) {
		char *key, *val;
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		n = strcspn(p, "= \t");
		if (p[n] != '=')
			return -1;
		key = xstrndup(p, n);
		p += n + 1;
		if (*p == '"') {
			size_t cap = strlen(p), o = 0;
			val = xmalloc(cap + 1);
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && p[1])
					p++;
				val[o++] = *p;
			}
			val[o] = '\0';
			if (*p == '"')
				p++;
		} else {
			n = strcspn(p, ", \t");
			val = xstrndup(p, n);
			p += n;
		}
		char **slot = !strcasecmp(key, "realm") ? realm
			      : !strcasecmp(key, "service") ? service
			      : !strcasecmp(key, "scope") ? scope : NULL;
		if (slot && !*slot)
			*slot = val;
		else
			free(val);
		free(key);
	}
	return 0;
}

static char *basic_header(const struct creds *c)
{
	char *raw = xasprintf("%s:%s", c->user, c->pass);
	size_t n = strlen(raw);
	size_t blen = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	char *b64 = xmalloc(blen), *hdr;

	sodium_bin2base64(b64, blen, (unsigned char *)raw, n,
			  sodium_base64_VARIANT_ORIGINAL);
	hdr = xasprintf("Authorization: Basic %s", b64);
	sodium_memzero(raw, n);
	sodium_memzero(b64, blen);
	free(raw);
	free(b64);
	return hdr;
}

/* GETs a token from the realm (token authentication spec), with the
 * credentials as basic auth when there are any. */
static int fetch_token(struct registry *r)
{
	CURL *esc = curl_easy_init();
	char *svc = r->service ? curl_easy_escape(esc, r->service, 0) : NULL;
	char *scp = curl_easy_escape(esc, r->scope, 0);
	char *url = xasprintf("%s%cscope=%s%s%s", r->realm,
			      strchr(r->realm, '?') ? '&' : '?', scp,
			      svc ? "&service=" : "", svc ? svc : "");
	struct curl_slist *hdrs = NULL;
	struct membuf m = { .cap = REG_TOKEN_MAX };
	struct reg_resp resp = { 0 };
	char errbuf[CURL_ERROR_SIZE], jerr[128], text[512];
	char *basic = r->creds.user ? basic_header(&r->creds) : NULL;
	CURLcode cc;
	yajl_val v;
	int rc = -1, attempt;

	curl_free(svc);
	curl_free(scp);
	curl_easy_cleanup(esc);
	if (basic)
		hdrs = curl_slist_append(hdrs, basic);
	debugf("token: GET %s", url);
	for (attempt = 1;; attempt++) {
		cc = get_once(r, url, hdrs, &m, &resp, errbuf);
		if (attempt < REG_MAX_ATTEMPTS && reg_retryable(cc, resp.status)) {
			sleep_ms(reg_backoff_ms(attempt, &resp));
			continue;
		}
		break;
	}
	if (cc != CURLE_OK) {
		warnf("token server %s: %s", r->realm, curl_why(cc, errbuf));
		goto out;
	}
	if (resp.status != 200) {
		reg_error_text(resp.status, m.p, m.len, text, sizeof text);
		warnf("token server %s: %s", r->realm, text);
		goto out;
	}
	if (!m.p || !(v = json_parse(m.p, m.len, jerr, sizeof jerr))) {
		warnf("token server %s: bad answer: %s", r->realm, m.p ? jerr : "empty");
		goto out;
	}
	const char *tok = json_get_str(v, "token");
	if (!tok || !*tok)
		tok = json_get_str(v, "access_token");
	long long ttl = 60;
	if (json_get_int(v, "expires_in", &ttl) < 0 || ttl <= 0)
		ttl = 60;
	if (!tok || !*tok || strpbrk(tok, "\r\n")) {
		warnf("token server %s: no usable token in its answer", r->realm);
	} else {
		set_auth(r, xasprintf("Authorization: Bearer %s", tok));
		r->bearer = 1;
		/* Refresh a little early, so a request never carries a
		 * token that expires on the way. */
		r->expiry = time(NULL) + (time_t)(ttl > 20 ? ttl - 10 : ttl / 2 + 1);
		rc = 0;
	}
	json_free(v);
out:
	if (m.p)
		sodium_memzero(m.p, m.len);
	free(m.p);
	if (basic)
		sodium_memzero(basic, strlen(basic));
	free(basic);
	curl_slist_free_all(hdrs);
	reg_resp_free(&resp);
	free(url);
	return rc;
}

static int auth_from_challenge(struct registry *r, const char *challenge)
{
	char *scheme = NULL, *realm = NULL, *service = NULL, *scope = NULL;
	int rc = -1;

	if (!challenge || parse_challenge(challenge, &scheme, &realm, &service, &scope) < 0) {
		warnf("%s: unparsable WWW-Authenticate challenge", r->host);
		free(scheme);
		free(realm);
		free(service);
		free(scope);
		return -1;
	}
	if (!strcasecmp(scheme, "Basic")) {
		if (r->creds.user) {
			set_auth(r, basic_header(&r->creds));
			r->bearer = 0;
			rc = 0;
		}
	} else if (!strcasecmp(scheme, "Bearer") && realm) {
		free(r->realm);
		free(r->service);
		r->realm = realm;
		r->service = service;
		realm = service = NULL;
		if (!r->scope || scope) {
			free(r->scope);
			r->scope = scope ? scope : xasprintf("repository:%s:pull", r->repo);
			scope = NULL;
		}
		rc = fetch_token(r);
	} else {
		warnf("%s: unsupported authentication scheme %s", r->host, scheme);
	}
	free(scheme);
	free(realm);
	free(service);
	free(scope);
	return rc;
}

int reg_reauth(struct registry *r, const struct reg_resp *resp)
{
	if (resp->challenge)
		return auth_from_challenge(r, resp->challenge);
	if (r->bearer)
		return fetch_token(r);
	return -1;
}

const char *reg_auth_header(struct registry *r)
{
	if (r->bearer && r->expiry && time(NULL) >= r->expiry) {
		debugf("token expired, refreshing");
		if (fetch_token(r) < 0)
			warnf("%s: token refresh failed; trying the old one", r->host);
	}
	return r->auth;
}

static int is_loopback(const char *host)
{
	return !strncmp(host, "localhost", 9) && (host[9] == '\0' || host[9] == ':')
		? 1
		: !strncmp(host, "127.", 4) || !strncmp(host, "[::1]", 5);
}

/* Whether a plain-HTTP ping reached a TLS server: Go and nginx answer
 * 400 naming HTTPS, others close the connection or send a TLS alert. */
static int speaks_tls(CURLcode cc, const struct reg_resp *resp, const struct membuf *m)
{
	switch (cc) {
	case CURLE_OK:
		return resp->status == 400 && m->p && strcasestr(m->p, "HTTPS");
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_UNSUPPORTED_PROTOCOL:	/* binary bytes: "HTTP/0.9" */
		return 1;
	default:
		return 0;
	}
}

int reg_connect(struct registry *r)
{
	struct membuf m = { .cap = REG_ERRBODY_MAX };
	struct reg_resp resp = { 0 };
	char errbuf[CURL_ERROR_SIZE], *url;
	CURLcode cc;
	int attempt, rc = -1, loopback = is_loopback(r->host);
	/* Loopback registries are mostly plain HTTP, and a TLS hello to one
	 * costs a round trip and a fresh connection: ask in plain HTTP
	 * first. Each direction is switched to at most once. */
	int https = !loopback, to_https = 0, to_http = 0;

	for (attempt = 1;; attempt++) {
		free(r->base);
		r->base = xasprintf("%s://%s", https ? "https" : "http", r->host);
		url = xasprintf("%s/v2/", r->base);
		cc = get_once(r, url, NULL, &m, &resp, errbuf);
		free(url);
		if (!https && !to_https && loopback && speaks_tls(cc, &resp, &m)) {
			debugf("%s: plain HTTP failed (%s), trying TLS", r->host,
			       cc == CURLE_OK ? "HTTP 400" : curl_why(cc, errbuf));
			https = to_https = 1;
			attempt = 0;
			continue;
		}
		/* A plain-HTTP server answers a TLS hello with garbage. Only
		 * loopback and --insecure registries may fall back; a
		 * certificate that fails verification is another error. */
		if (https && !to_http && cc == CURLE_SSL_CONNECT_ERROR &&
		    (r->insecure || loopback)) {
			debugf("%s: TLS failed (%s), trying plain HTTP", r->host,
			       curl_why(cc, errbuf));
			https = 0;
			to_http = 1;
			attempt = 0;
			continue;
		}
		if (attempt < REG_MAX_ATTEMPTS && reg_retryable(cc, resp.status)) {
			sleep_ms(reg_backoff_ms(attempt, &resp));
			continue;
		}
		break;
	}
	if (cc != CURLE_OK) {
		warnf("%s: %s", r->base, curl_why(cc, errbuf));
		goto out;
	}
	debugf("ping %s/v2/: HTTP %ld", r->base, resp.status);
	if (resp.status == 401) {
		/* Without credentials a Basic challenge leaves us anonymous;
		 * the request that needs them will say so. */
		if (auth_from_challenge(r, resp.challenge) < 0 && r->bearer)
			goto out;
		if (resp.challenge && !strncasecmp(resp.challenge, "Bearer", 6) && !r->auth)
			goto out;
	} else if (resp.status / 100 != 2 && resp.status != 404) {
		char text[512];
		reg_error_text(resp.status, m.p, m.len, text, sizeof text);
		warnf("%s/v2/: %s", r->base, text);
		goto out;
	}
	rc = 0;
out:
	free(m.p);
	reg_resp_free(&resp);
	return rc;
}

int reg_get(struct registry *r, const char *what, const char *path,
	    const char *accept, size_t cap, char **body, size_t *len,
	    struct reg_resp *resp)
{
	struct membuf m = { .cap = cap };
	char errbuf[CURL_ERROR_SIZE], text[1024];
	char *url = xasprintf("%s%s", r->base, path), *acc = NULL;
	int attempt, reauthed = 0, rc = -1;
	CURLcode cc;

	if (accept)
		acc = xasprintf("Accept: %s", accept);
	for (attempt = 1;; attempt++) {
		struct curl_slist *hdrs = NULL;
		const char *auth = reg_auth_header(r);
		if (acc)
			hdrs = curl_slist_append(hdrs, acc);
		if (auth)
			hdrs = curl_slist_append(hdrs, auth);
		debugf("GET %s", url);
		cc = get_once(r, url, hdrs, &m, resp, errbuf);
		curl_slist_free_all(hdrs);
		if (m.too_big) {
			warnf("%s: larger than %zu bytes, refused", what, cap);
			goto out;
		}
		if (cc == CURLE_OK && resp->status == 401 && !reauthed) {
			reauthed = 1;
			if (reg_reauth(r, resp) == 0) {
				attempt--;
				continue;
			}
		}
		if (attempt < REG_MAX_ATTEMPTS && reg_retryable(cc, resp->status)) {
			long ms = reg_backoff_ms(attempt, resp);
			debugf("%s: retry in %ld ms", what, ms);
			sleep_ms(ms);
			continue;
		}
		break;
	}
	if (cc != CURLE_OK) {
		warnf("%s: %s", what, curl_why(cc, errbuf));
		goto out;
	}
	if (resp->status / 100 != 2) {
		reg_error_text(resp->status, m.p, m.len, text, sizeof text);
		warnf("%s: %s", what, text);
		goto out;
	}
	*body = m.p ? m.p : xstrdup("");
	*len = m.len;
	m.p = NULL;
	rc = 0;
out:
	free(m.p);
	free(acc);
	free(url);
	return rc;
}
