/* lib-test.c: unit tests of lib/, printing TAP. */
#include "digest.h"
#include "err.h"
#include "fsutil.h"
#include "json.h"
#include "path.h"
#include "progress.h"
#include "xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tap.h"


static void test_digest(void)
{
	struct digest d, e;
	char s[DIGEST_MAX_STR + 1];
	const char *empty =
	    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

	ok(digest_parse(empty, &d) == 0, "digest: sha256 parses");
	digest_format(&d, s);
	ok(!strcmp(s, empty), "digest: formats back unchanged");
	digest_buffer(DIGEST_SHA256, "", 0, &e);
	ok(digest_equal(&d, &e), "digest: sha256 of nothing");
	digest_buffer(DIGEST_SHA256, "abc", 3, &e);
	digest_format(&e, s);
	ok(!strcmp(s, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
	   "digest: sha256 of abc");
	digest_buffer(DIGEST_SHA512, "abc", 3, &e);
	ok(!strncmp(e.hex, "ddaf35a193617aba", 16) && strlen(e.hex) == 128,
	   "digest: sha512 of abc");
	ok(digest_parse("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", &d) < 0,
	   "digest: uppercase hex refused");
	ok(digest_parse("sha256:../../../../etc/passwd", &d) < 0,
	   "digest: a path is refused");
	ok(digest_parse("sha256:e3b0", &d) < 0, "digest: short hex refused");
	ok(digest_parse("md5:d41d8cd98f00b204e9800998ecf8427e", &d) < 0,
	   "digest: unknown algorithm refused");
	ok(digest_parse("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", &d) < 0,
	   "digest: missing algorithm refused");
}

static void test_path(void)
{
	char *j;

	ok(path_is_contained("a/b/c"), "path: relative is contained");
	ok(path_is_contained("a/..b/c"), "path: ..b is a name");
	ok(!path_is_contained("/etc"), "path: absolute is not");
	ok(!path_is_contained("a/../../b"), "path: .. is not");
	ok(!path_is_contained(".."), "path: bare .. is not");
	ok(!path_is_contained(""), "path: empty is not");
	j = path_join("dir//", "/x");
	ok(!strcmp(j, "dir/x"), "path: join folds slashes");
	free(j);
}

static void test_json(void)
{
	char err[128];
	const char *doc = "{\"a\":\"s\",\"n\":42,\"o\":{\"x\":[1,2]}}";
	char deep[300];
	yajl_val v;
	long long i;

	v = json_parse(doc, strlen(doc), err, sizeof err);
	ok(v != NULL, "json: parses");
	ok(v && !strcmp(json_get_str(v, "a"), "s"), "json: string member");
	ok(v && json_get_int(v, "n", &i) == 0 && i == 42, "json: integer member");
	ok(v && json_get_str(v, "n") == NULL, "json: wrong type is NULL");
	ok(v && json_arr_len(json_get_arr(json_get_obj(v, "o"), "x")) == 2,
	   "json: nested array");
	json_free(v);
	memset(deep, '[', sizeof deep - 1);
	deep[sizeof deep - 1] = '\0';
	ok(json_parse(deep, strlen(deep), err, sizeof err) == NULL &&
		   strstr(err, "deeper"), "json: deep nesting refused");
	ok(json_parse("{\"a\":", 5, err, sizeof err) == NULL && err[0],
	   "json: truncated document refused with a reason");
	ok(json_parse("{}\0{}", 5, err, sizeof err) == NULL, "json: NUL refused");
}

static void test_files(const char *dir)
{
	char *p = path_join(dir, "a/b/c"), *f, *buf;
	size_t len;
	struct stat st;

	ok(mkdir_p(p, 0755) == 0 && stat(p, &st) == 0 && S_ISDIR(st.st_mode),
	   "mkdir_p: makes the whole path");
	ok(mkdir_p(p, 0755) == 0, "mkdir_p: again is fine");
	f = path_join(p, "file");
	ok(write_file_atomic(f, "hello", 5) == 0, "write_file_atomic: writes");
	ok(read_file(f, 100, &buf, &len) == 0 && len == 5 && !strcmp(buf, "hello"),
	   "read_file: reads it back");
	free(buf);
	errno = 0;
	ok(read_file(f, 4, &buf, &len) < 0 && errno == EFBIG,
	   "read_file: over the cap is EFBIG");
	ok(mkdir_p(f, 0755) < 0 && errno == ENOTDIR,
	   "mkdir_p: a file in the way is ENOTDIR");
	unlink(f);
	free(f);
	free(p);
}

static void test_human(void)
{
	char b[16];

	ok(!strcmp(human_size(512, b), "512 B"), "human_size: bytes");
	ok(!strcmp(human_size(1536, b), "1.5 KiB"), "human_size: KiB");
	ok(!strcmp(human_size(3ULL << 30, b), "3.0 GiB"), "human_size: GiB");
}

int main(int argc, char **argv)
{
	char tmpl[] = "/tmp/cz-lib-test.XXXXXX";
	char *dir;

	(void)argc;
	setprogname(argv[0]);
	dir = mkdtemp(tmpl);
	if (!dir)
		die("mkdtemp:");
	test_digest();
	test_path();
	test_json();
	test_files(dir);
	test_human();
	char *cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		warnf("cannot remove %s", dir);
	free(cmd);
	return done_testing();
}
