/* ref.c: see ref.h. The grammar is docker/distribution's
 * reference/regexp.go, written out by hand. */
#include "ref.h"
#include "digest.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HUB_DOMAIN "docker.io"
#define HUB_API_HOST "registry-1.docker.io"

static int is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* path-component: [a-z0-9]+ ( ( [._] | __ | -+ ) [a-z0-9]+ )* */
static int valid_component(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
		return 0;
	while (i < n) {
		if (is_lower_alnum(s[i])) {
			i++;
			continue;
		}
		size_t j = i;
		if (s[i] == '.') {
			j++;
		} else if (s[i] == '_') {
			j++;
			if (j < n && s[j] == '_')
				j++;
		} else if (s[i] == '-') {
			while (j < n && s[j] == '-')
				j++;
		} else {
			return 0;
		}
		if (j >= n || !is_lower_alnum(s[j]))
			return 0;
		i = j;
	}
	return 1;
}

/* domain: host[:port], host a dotted name of [a-zA-Z0-9-] labels
 * (no leading or trailing '-') or a bracketed IPv6 address. */
static int valid_domain(const char *s, size_t n)
{
	size_t i = 0, hostend;
	const char *colon;

	if (n == 0)
		return 0;
	if (s[0] == '[') {
		const char *rb = memchr(s, ']', n);
		if (!rb || rb == s + 1)
			return 0;
		for (const char *p = s + 1; p < rb; p++)
			if (!(is_alnum(*p) || *p == ':' || *p == '.'))
				return 0;
		hostend = (size_t)(rb - s) + 1;
	} else {
		colon = memchr(s, ':', n);
		hostend = colon ? (size_t)(colon - s) : n;
		size_t start = 0;
		if (hostend == 0)
			return 0;
		for (i = 0; i <= hostend; i++) {
			if (i == hostend || s[i] == '.') {
				if (i == start || s[start] == '-' || s[i - 1] == '-')
					return 0;
				start = i + 1;
			} else if (!is_alnum(s[i]) && s[i] != '-') {
				return 0;
			}
		}
	}
	if (hostend == n)
		return 1;
	if (s[hostend] != ':' || hostend + 1 == n || n - hostend - 1 > 5)
		return 0;
	for (i = hostend + 1; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127} */
static int valid_tag(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > REF_MAX_TAG || !(is_alnum(s[0]) || s[0] == '_'))
		return 0;
	for (i = 1; i < n; i++)
		if (!(is_alnum(s[i]) || s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return 0;
	return 1;
}

static int fail(char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "%s", why);
	return -1;
}

int ref_parse(const char *s, struct ref *r, char *err, size_t errlen)
{
	char *buf, *at, *slash, *colon, *name, *first_end;
	size_t n;
	struct digest d;
	int rc = -1;

	memset(r, 0, sizeof *r);
	if (!*s)
		return fail(err, errlen, "empty reference");
	if (strlen(s) > 4096)
		return fail(err, errlen, "reference too long");
	buf = xstrdup(s);
	if ((at = strchr(buf, '@'))) {
		*at++ = '\0';
		if (digest_parse(at, &d) < 0) {
			fail(err, errlen, "invalid digest (want sha256:<64 hex> or sha512:<128 hex>)");
			goto out;
		}
		r->digest = xstrdup(at);
	}
	slash = strrchr(buf, '/');
	colon = strrchr(slash ? slash : buf, ':');
	if (colon) {
		*colon++ = '\0';
		if (!valid_tag(colon)) {
			fail(err, errlen, "invalid tag");
			goto out;
		}
		r->tag = xstrdup(colon);
	}
	name = buf;
	first_end = strchr(name, '/');
	/* The first component names a registry when it looks like a host:
	 * it has a '.' or ':', is "localhost", or has upper case. */
	if (first_end) {
		size_t fl = (size_t)(first_end - name);
		int is_domain = memchr(name, '.', fl) || memchr(name, ':', fl) ||
				(fl == 9 && !strncmp(name, "localhost", 9));
		for (size_t i = 0; i < fl && !is_domain; i++)
			if (name[i] >= 'A' && name[i] <= 'Z')
				is_domain = 1;
		if (is_domain) {
			if (!valid_domain(name, fl)) {
				fail(err, errlen, "invalid registry host");
				goto out;
			}
			r->domain = xstrndup(name, fl);
			name = first_end + 1;
		}
	}
	if (!r->domain)
		r->domain = xstrdup(HUB_DOMAIN);
	if (!strcmp(r->domain, "index.docker.io")) {
		free(r->domain);
		r->domain = xstrdup(HUB_DOMAIN);
	}
	/* Validate every path component. */
	for (char *p = name;;) {
		char *e = strchr(p, '/');
		n = e ? (size_t)(e - p) : strlen(p);
		if (!valid_component(p, n)) {
			fail(err, errlen, *p ? "invalid repository name (lower-case letters, digits and . _ - separators)"
					     : "empty repository name component");
			goto out;
		}
		if (!e)
			break;
		p = e + 1;
	}
	if (!strcmp(r->domain, HUB_DOMAIN) && !strchr(name, '/'))
		r->path = xasprintf("library/%s", name);
	else
		r->path = xstrdup(name);
	if (strlen(r->domain) + 1 + strlen(r->path) > REF_MAX_NAME) {
		fail(err, errlen, "repository name longer than 255 characters");
		goto out;
	}
	if (!r->tag && !r->digest)
		r->tag = xstrdup("latest");
	r->name = xasprintf("%s/%s%s%s%s%s", r->domain, r->path,
			    r->tag ? ":" : "", r->tag ? r->tag : "",
			    r->digest ? "@" : "", r->digest ? r->digest : "");
	rc = 0;
out:
	free(buf);
	if (rc < 0)
		ref_free(r);
	return rc;
}

void ref_free(struct ref *r)
{
	free(r->domain);
	free(r->path);
	free(r->tag);
	free(r->digest);
	free(r->name);
	memset(r, 0, sizeof *r);
}

const char *ref_api_host(const struct ref *r)
{
	return strcmp(r->domain, HUB_DOMAIN) ? r->domain : HUB_API_HOST;
}
