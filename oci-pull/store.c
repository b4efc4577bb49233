/* store.c: see store.h. */
#include "store.h"
#include "err.h"
#include "fsutil.h"
#include "json.h"
#include "path.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define LAYOUT_JSON "{\"imageLayoutVersion\":\"1.0.0\"}"
#define EMPTY_INDEX "{\"schemaVersion\":2,\"manifests\":[]}"
#define REF_NAME_KEY "org.opencontainers.image.ref.name"

static int ensure_file(const char *dir, const char *name, const char *content)
{
	char *p = path_join(dir, name);
	int rc = 0;

	if (access(p, F_OK) < 0) {
		if (errno != ENOENT || write_file_atomic(p, content, strlen(content)) < 0) {
			warnf("%s:", p);
			rc = -1;
		}
	}
	free(p);
	return rc;
}

static int lock_store(const struct store *s)
{
	char *p = path_join(s->dir, ".lock");
	int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0)
		warnf("%s:", p);
	else if (flock(fd, LOCK_EX) < 0) {
		warnf("%s: lock:", p);
		close(fd);
		fd = -1;
	}
	free(p);
	return fd;
}

int store_open(struct store *s, const char *dir)
{
	char *p;
	int rc = 0;

	s->dir = xstrdup(dir);
	if (mkdir_p(dir, 0755) < 0) {
		warnf("%s:", dir);
		return -1;
	}
	for (const char *sub = "blobs/sha256\0blobs/sha512\0.partial\0"; *sub;
	     sub += strlen(sub) + 1) {
		p = path_join(dir, sub);
		if (mkdir_p(p, 0755) < 0) {
			warnf("%s:", p);
			rc = -1;
		}
		free(p);
	}
	return rc;
}

int store_init(const struct store *s)
{
	int lk, rc = 0;

	if ((lk = lock_store(s)) < 0)
		return -1;
	/* oci-layout last: its presence says the layout is complete. */
	if (ensure_file(s->dir, "index.json", EMPTY_INDEX) < 0 ||
	    ensure_file(s->dir, "oci-layout", LAYOUT_JSON) < 0)
		rc = -1;
	close(lk);
	return rc;
}

void store_close(struct store *s)
{
	free(s->dir);
	s->dir = NULL;
}

char *store_blob_path(const struct store *s, const struct digest *d)
{
	return xasprintf("%s/blobs/%s/%s", s->dir, digest_alg_name(d->alg), d->hex);
}

char *store_partial_path(const struct store *s, const struct digest *d)
{
	return xasprintf("%s/.partial/%s-%s", s->dir, digest_alg_name(d->alg), d->hex);
}

int store_has_blob(const struct store *s, const struct digest *d,
		   unsigned long long size)
{
	char *p = store_blob_path(s, d);
	struct stat st;
	int r = stat(p, &st) == 0 && S_ISREG(st.st_mode) &&
		(unsigned long long)st.st_size == size;

	free(p);
	return r;
}

int store_commit_fd(const struct store *s, int fd, const char *tmp,
		    const struct digest *d, const char **step)
{
	char *p = store_blob_path(s, d);
	int rc = -1, saved;

	/* Its data on disk before its name: a crash never leaves a blob
	 * under a digest it does not have. */
	if (fdatasync(fd) < 0)
		*step = "sync";
	else if (rename(tmp, p) < 0)
		*step = "rename into blobs/";
	else
		rc = 0;
	saved = errno;
	free(p);
	errno = saved;
	return rc;
}

/* The blob directories' entries reach the disk before index.json names
 * them; syncing only these costs far less than syncfs on a busy disk. */
static int sync_dir(const char *p)
{
	int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0 || fsync(fd) < 0) {
		warnf("%s: sync:", p);
		rc = -1;
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

static int sync_dirs(const struct store *s, unsigned algs)
{
	int rc = 0;

	for (int alg = DIGEST_SHA256; alg <= DIGEST_SHA512; alg++) {
		if (!(algs & 1u << alg))
			continue;
		char *p = xasprintf("%s/blobs/%s", s->dir, digest_alg_name(alg));
		if (sync_dir(p) < 0)
			rc = -1;
		free(p);
	}
	return rc;
}

int store_stage_buffer(const struct store *s, const struct digest *d,
		       const void *buf, size_t len, char **tmp, int *fd)
{
	struct digest got;
	char *dir;

	*tmp = NULL;
	digest_buffer(d->alg, buf, len, &got);
	if (!digest_equal(&got, d)) {
		warnf("blob %s:%s: digest mismatch", digest_alg_name(d->alg), d->hex);
		return -1;
	}
	if (store_has_blob(s, d, len))
		return 1;
	/* Unnamed until published: a killed run leaves nothing behind. */
	dir = path_join(s->dir, ".partial");
	*fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
	free(dir);
	if (*fd < 0) {
		*tmp = xasprintf("%s/.partial/tmp.%ld.XXXXXX", s->dir, (long)getpid());
		*fd = mkostemp(*tmp, O_CLOEXEC);
	}
	if (*fd < 0 || fchmod(*fd, 0644) < 0 || write_all(*fd, buf, len) < 0) {
		warnf("%s:", *tmp ? *tmp : "staging a blob in .partial");
		if (*fd >= 0) {
			close(*fd);
			if (*tmp)
				unlink(*tmp);
		}
		free(*tmp);
		*tmp = NULL;
		*fd = -1;
		return -1;
	}
	return 0;
}

int store_publish(const struct store *s, int fd, const char *tmp, const struct digest *d)
{
	char *p = store_blob_path(s, d), proc[64];
	int rc;

	if (tmp) {
		rc = rename(tmp, p);
	} else {
		snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
		rc = linkat(AT_FDCWD, proc, AT_FDCWD, p, AT_SYMLINK_FOLLOW);
		if (rc < 0 && errno == EEXIST)	/* another run's: same bytes */
			rc = 0;
	}
	if (rc < 0)
		warnf("%s:", p);
	free(p);
	return rc;
}

static void gen_descriptor(yajl_gen g, const struct store_ref *ref)
{
	yajl_gen_map_open(g);
	json_gen_kv(g, "mediaType", ref->media_type);
	json_gen_kv(g, "digest", ref->digest);
	json_gen_kint(g, "size", (long long)ref->size);
	json_gen_str(g, "annotations");
	yajl_gen_map_open(g);
	json_gen_kv(g, REF_NAME_KEY, ref->name);
	yajl_gen_map_close(g);
	if (ref->os && ref->arch) {
		json_gen_str(g, "platform");
		yajl_gen_map_open(g);
		json_gen_kv(g, "architecture", ref->arch);
		json_gen_kv(g, "os", ref->os);
		if (ref->variant && *ref->variant)
			json_gen_kv(g, "variant", ref->variant);
		yajl_gen_map_close(g);
	}
	yajl_gen_map_close(g);
}

struct dir_syncer {
	const struct store *s;
	unsigned algs;
	int rc;
};

static void *run_sync_dirs(void *arg)
{
	struct dir_syncer *ds = arg;

	ds->rc = sync_dirs(ds->s, ds->algs);
	return NULL;
}

/* Writes and syncs path's new content beside it; renamed once the blob
 * directories are durable too. */
static int write_synced(const char *tmp, const void *buf, size_t len)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		return -1;
	if (write_all(fd, buf, len) < 0 || fsync(fd) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return close(fd);
}

int store_add_ref(const struct store *s, const struct store_ref *ref, unsigned algs)
{
	char *path = path_join(s->dir, "index.json"), *buf = NULL, jerr[128], *tmp;
	const unsigned char *out;
	size_t len, outlen, i;
	yajl_val idx = NULL, mans;
	yajl_gen g;
	int lk, rc = -1;
	/* The directories sync alongside the new index.json: the two
	 * fsyncs can share a journal commit. */
	struct dir_syncer ds = { s, algs, 0 };
	pthread_t t;
	int threaded = pthread_create(&t, NULL, run_sync_dirs, &ds) == 0;

	if (!threaded)
		run_sync_dirs(&ds);
	if ((lk = lock_store(s)) < 0)
		goto out;
	if (read_file(path, STORE_INDEX_MAX, &buf, &len) < 0) {
		warnf("%s:", path);
		goto out_lock;
	}
	if (!(idx = json_parse(buf, len, jerr, sizeof jerr)) || !YAJL_IS_OBJECT(idx)) {
		warnf("%s: %s", path, idx ? "not a JSON object" : jerr);
		goto out_lock;
	}
	mans = json_get(idx, "manifests");
	if (mans && !YAJL_IS_ARRAY(mans)) {
		warnf("%s: \"manifests\" is not an array", path);
		goto out_lock;
	}
	/* Everything else in index.json is kept as it was. */
	g = json_gen_new(0);
	yajl_gen_map_open(g);
	json_gen_kint(g, "schemaVersion", 2);
	for (i = 0; i < idx->u.object.len; i++) {
		const char *k = idx->u.object.keys[i];
		if (!strcmp(k, "schemaVersion") || !strcmp(k, "manifests"))
			continue;
		json_gen_str(g, k);
		json_gen_value(g, idx->u.object.values[i]);
	}
	json_gen_str(g, "manifests");
	yajl_gen_array_open(g);
	for (i = 0; i < json_arr_len(mans); i++) {
		yajl_val m = json_arr_at(mans, i);
		const char *n = json_get_str(json_get_obj(m, "annotations"), REF_NAME_KEY);
		if (n && !strcmp(n, ref->name))
			continue;
		json_gen_value(g, m);
	}
	gen_descriptor(g, ref);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &out, &outlen);
	tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	if (write_synced(tmp, out, outlen) < 0) {
		warnf("%s:", tmp);
		unlink(tmp);
	} else {
		if (threaded)
			pthread_join(t, NULL);
		threaded = 0;
		if (ds.rc < 0)
			unlink(tmp);
		else if (rename(tmp, path) < 0)
			warnf("%s:", path);
		else	/* the new name itself must survive a crash */
			rc = sync_dir(s->dir);
	}
	free(tmp);
	yajl_gen_free(g);
out_lock:
	close(lk);
out:
	if (threaded)
		pthread_join(t, NULL);
	if (ds.rc < 0)
		rc = -1;
	json_free(idx);
	free(buf);
	free(path);
	return rc;
}
