/* creds.c: see creds.h. */
#include "creds.h"
#include "err.h"
#include "fsutil.h"
#include "json.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CONFIG_MAX (1 << 20)
#define HELPER_OUT_MAX (64 << 10)

/* The keys a config may file Docker Hub under, besides "docker.io". */
static const char *const hub_keys[] = {
	"https://index.docker.io/v1/", "index.docker.io", "registry-1.docker.io",
	"https://registry-1.docker.io", NULL,
};

/* "https://host:port/v2/" style keys name the same registry as "host:port". */
static int key_matches(const char *key, const char *domain)
{
	size_t n = strlen(domain);

	if (!strncmp(key, "https://", 8))
		key += 8;
	else if (!strncmp(key, "http://", 7))
		key += 7;
	return !strncmp(key, domain, n) && (key[n] == '\0' || key[n] == '/');
}

static int is_hub(const char *domain)
{
	return !strcmp(domain, "docker.io");
}

static yajl_val find_entry(yajl_val obj, const char *domain)
{
	size_t i;

	if (!YAJL_IS_OBJECT(obj))
		return NULL;
	for (i = 0; i < obj->u.object.len; i++) {
		const char *k = obj->u.object.keys[i];
		if (key_matches(k, domain))
			return obj->u.object.values[i];
		if (is_hub(domain))
			for (const char *const *h = hub_keys; *h; h++)
				if (!strcmp(k, *h))
					return obj->u.object.values[i];
	}
	return NULL;
}

static int decode_auth(const char *b64, struct creds *c)
{
	size_t n = strlen(b64), len;
	char *raw = xmalloc(n + 1), *colon;

	if (sodium_base642bin((unsigned char *)raw, n, b64, n, "\n", &len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) < 0) {
		free(raw);
		return -1;
	}
	raw[len] = '\0';
	if (!(colon = strchr(raw, ':'))) {
		free(raw);
		return -1;
	}
	c->user = xstrndup(raw, (size_t)(colon - raw));
	c->pass = xstrdup(colon + 1);
	sodium_memzero(raw, len);
	free(raw);
	return 0;
}

/* Runs docker-credential-NAME get, the server name on its stdin. */
static int run_helper(const char *name, const char *server, struct creds *c)
{
	char *prog = xasprintf("docker-credential-%s", name);
	char out[HELPER_OUT_MAX + 1], jerr[128];
	int in[2], outp[2], st, rc = -1;
	size_t n = 0;
	ssize_t r;
	pid_t pid;
	yajl_val v;

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(outp, O_CLOEXEC) < 0) {
		warnf("pipe:");
		free(prog);
		return -1;
	}
	if ((pid = fork()) < 0) {
		warnf("fork:");
		goto out_pipes;
	}
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(outp[1], 1);
		execlp(prog, prog, "get", (char *)NULL);
		fprintf(stderr, "%s: %s: %s\n", progname, prog, strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(outp[1]);
	in[0] = outp[1] = -1;
	signal(SIGPIPE, SIG_IGN);
	if (write_all(in[1], server, strlen(server)) < 0)
		debugf("%s: writing to helper failed", prog);
	close(in[1]);
	in[1] = -1;
	while (n < HELPER_OUT_MAX &&
	       (r = read(outp[0], out + n, HELPER_OUT_MAX - n)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		n += (size_t)r;
	}
	out[n] = '\0';
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		/* "credentials not found" is an answer, not an error. */
		if (strstr(out, "not found"))
			rc = 0;
		else
			warnf("%s get %s failed: %.200s", prog, server, out);
		goto out_pipes;
	}
	if (!(v = json_parse(out, n, jerr, sizeof jerr))) {
		warnf("%s: bad answer: %s", prog, jerr);
		goto out_pipes;
	}
	const char *u = json_get_str(v, "Username"), *s = json_get_str(v, "Secret");
	if (u && s && *s) {
		c->user = xstrdup(u);
		c->pass = xstrdup(s);
	}
	json_free(v);
	rc = 0;
out_pipes:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (outp[i] >= 0)
			close(outp[i]);
	}
	sodium_memzero(out, sizeof out);
	free(prog);
	return rc;
}

int creds_lookup(const char *domain, struct creds *c)
{
	const char *dir = getenv("DOCKER_CONFIG"), *home = getenv("HOME");
	char *path, *buf, jerr[128];
	const char *helper, *server;
	size_t len;
	yajl_val cfg, e;
	int rc = 0;

	c->user = c->pass = NULL;
	if (dir)
		path = xasprintf("%s/config.json", dir);
	else if (home)
		path = xasprintf("%s/.docker/config.json", home);
	else
		return 0;
	if (read_file(path, CONFIG_MAX, &buf, &len) < 0) {
		if (errno != ENOENT) {
			warnf("%s:", path);
			rc = -1;
		}
		free(path);
		return rc;
	}
	if (!(cfg = json_parse(buf, len, jerr, sizeof jerr))) {
		warnf("%s: %s", path, jerr);
		rc = -1;
		goto out;
	}
	server = is_hub(domain) ? hub_keys[0] : domain;
	/* A per-registry helper wins over the store, which wins over auths. */
	e = find_entry(json_get_obj(cfg, "credHelpers"), domain);
	helper = YAJL_IS_STRING(e) ? e->u.string : json_get_str(cfg, "credsStore");
	if (helper && *helper) {
		rc = run_helper(helper, server, c);
		if (rc < 0 || c->user)
			goto out_cfg;
	}
	e = find_entry(json_get_obj(cfg, "auths"), domain);
	if (e) {
		const char *a = json_get_str(e, "auth");
		const char *u = json_get_str(e, "username"), *p = json_get_str(e, "password");
		if (a && *a) {
			if (decode_auth(a, c) < 0) {
				warnf("%s: bad \"auth\" for %s", path, domain);
				rc = -1;
			}
		} else if (u && p) {
			c->user = xstrdup(u);
			c->pass = xstrdup(p);
		}
	}
out_cfg:
	json_free(cfg);
out:
	sodium_memzero(buf, len);
	free(buf);
	free(path);
	return rc;
}

void creds_free(struct creds *c)
{
	if (c->pass)
		sodium_memzero(c->pass, strlen(c->pass));
	free(c->user);
	free(c->pass);
	c->user = c->pass = NULL;
}
