/* spec-test.c: lib/spec, config.json to vminit attributes, printing TAP
 * (run by tests/vmexec-spec-parse.sh). */
#include "proto.h"
#include "spec.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include "tap.h"


static const char full[] =
	"{\"ociVersion\":\"1.0.2\",\"process\":{\"terminal\":true,"
	"\"user\":{\"uid\":1000,\"gid\":100,\"additionalGids\":[5,6]},"
	"\"args\":[\"sh\",\"-c\",\"echo hi\"],"
	"\"env\":[\"PATH=/bin\",\"A=b=c\"],\"cwd\":\"/work\","
	"\"capabilities\":{\"bounding\":[\"CAP_KILL\",\"CAP_CHOWN\"],"
	"\"effective\":[\"CAP_KILL\"],\"permitted\":[\"CAP_KILL\"],"
	"\"ambient\":[\"CAP_CHECKPOINT_RESTORE\"]},"
	"\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":1024,\"hard\":4096},"
	"{\"type\":\"RLIMIT_CORE\",\"soft\":18446744073709551615,\"hard\":18446744073709551615}],"
	"\"noNewPrivileges\":true,\"apparmorProfile\":\"x\"},"
	"\"root\":{\"path\":\"rootfs\",\"readonly\":true},\"hostname\":\"box\","
	"\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\"}],"
	"\"linux\":{\"resources\":{\"memory\":{\"limit\":33554432},"
	"\"pids\":{\"limit\":-1},\"cpu\":{\"quota\":50000,\"period\":100000}},"
	"\"maskedPaths\":[\"/proc/kcore\"],\"readonlyPaths\":[\"/proc/sys\",\"/proc/bus\"],"
	"\"namespaces\":[{\"type\":\"pid\"}]},\"annotations\":{\"k\":\"v\","
	"\"org.opencontainers.image.architecture\":\"arm64\"}}";

static int parse(struct spec *s, const char *json, char *err, size_t errlen)
{
	return spec_parse(s, json, strlen(json), "config.json", "/b", err, errlen);
}

/* The attributes of m as one line: "type=value ..." */
static char *dump(struct proto_msg *m)
{
	struct proto_iter it;
	struct proto_attr a;
	char *out = xstrdup(""), *o;
	uint64_t u64;
	uint32_t u32;

	proto_finish(m);
	proto_iter_msg(&it, m->buf, m->len);
	while (proto_next(&it, &a) > 0) {
		char val[256];
		if (a.nested) {
			struct proto_iter in;
			struct proto_attr b;
			uint32_t res = 0;
			uint64_t soft = 0, hard = 0;
			proto_iter_init(&in, a.data, a.len);
			while (proto_next(&in, &b) > 0) {
				if (b.type == A_RLIMIT_RES) proto_get_u32(&b, &res);
				if (b.type == A_RLIMIT_SOFT) proto_get_u64(&b, &soft);
				if (b.type == A_RLIMIT_HARD) proto_get_u64(&b, &hard);
			}
			snprintf(val, sizeof val, "%u:%llu:%llu", res, (unsigned long long)soft,
				 (unsigned long long)hard);
		} else if (a.len == 0) {
			snprintf(val, sizeof val, "!");
		} else if (proto_get_str(&a)) {
			snprintf(val, sizeof val, "%s", proto_get_str(&a));
		} else if (proto_get_u64(&a, &u64) == 0) {
			snprintf(val, sizeof val, "%#llx", (unsigned long long)u64);
		} else if (proto_get_u32(&a, &u32) == 0) {
			snprintf(val, sizeof val, "%u", u32);
		} else {
			snprintf(val, sizeof val, "?");
		}
		o = xasprintf("%s%s%u=%s", out, *out ? " " : "", a.type, val);
		free(out);
		out = o;
	}
	return out;
}

static void test_full(void)
{
	struct spec s;
	struct proto_msg m = { 0 };
	char err[512], *d, want[1024];

	ok(parse(&s, full, err, sizeof err) == 0, "a full config parses");
	if (s.args == NULL)
		printf("# %s\n", err);
	ok(s.nargs == 3 && !strcmp(s.args[2], "echo hi") && s.args[3] == NULL, "process.args");
	ok(s.nenv == 2 && !strcmp(s.env[1], "A=b=c"), "process.env");
	is_str(s.cwd, "/work", "process.cwd");
	ok(s.has_uid && s.uid == 1000 && s.gid == 100 && s.ngroups == 2 &&
	   s.groups[1] == 6, "process.user");
	ok(s.terminal && s.nnp, "terminal, noNewPrivileges");
	ok(s.has_caps && s.caps[SPEC_CAP_BOUNDING] == 0x21 &&
	   s.caps[SPEC_CAP_EFFECTIVE] == 0x20 && s.caps[SPEC_CAP_INHERITABLE] == 0 &&
	   s.caps[SPEC_CAP_AMBIENT] == 1ull << 40, "capabilities, by name, to masks");
	ok(s.nrlimits == 2 && s.rlimits[0].res == RLIMIT_NOFILE &&
	   s.rlimits[1].soft == UINT64_MAX, "rlimits, 2^64-1 included");
	is_str(s.root, "/b/rootfs", "root.path against the bundle");
	ok(s.readonly, "root.readonly");
	is_str(s.hostname, "box", "hostname");
	ok(s.mem == 33554432 && s.pids == 0 && s.cpu_quota == 50000 &&
	   s.cpu_period == 100000, "resources: memory, pids -1 as none, cpu");
	ok(s.nmasked == 1 && s.nropaths == 2, "maskedPaths, readonlyPaths");
	is_str(s.arch, "arm64", "the image's architecture from its annotation");

	proto_init(&m, OP_CTR_CREATE, 0, 0);
	spec_ctr_attrs(&s, &m);
	d = dump(&m);
	snprintf(want, sizeof want, "%u=! %u=box %u=0x2000000 %u=0xc350 %u=0x186a0 "
		 "%u=/proc/kcore %u=/proc/sys %u=/proc/bus", A_READONLY, A_HOSTNAME,
		 A_MEM_LIMIT, A_CPU_QUOTA, A_CPU_PERIOD, A_MASKED, A_RO_PATH, A_RO_PATH);
	is_str(d, want, "container attributes");
	free(d);
	proto_free(&m);

	proto_init(&m, OP_PROC_CREATE, 0, 0);
	spec_proc_attrs(&s, &m);
	d = dump(&m);
	snprintf(want, sizeof want, "%u=sh %u=-c %u=echo hi %u=PATH=/bin %u=A=b=c %u=/work "
		 "%u=1000 %u=100 %u=5 %u=6 %u=7:1024:4096 %u=4:18446744073709551615:18446744073709551615 "
		 "%u=0x21 %u=0x20 %u=0x20 %u=0 %u=0x10000000000 %u=!",
		 A_ARG, A_ARG, A_ARG, A_ENV, A_ENV, A_CWD, A_UID, A_GID, A_GROUP, A_GROUP,
		 A_RLIMIT, A_RLIMIT, A_CAP_BOUNDING, A_CAP_EFFECTIVE, A_CAP_PERMITTED,
		 A_CAP_INHERITABLE, A_CAP_AMBIENT, A_NO_NEW_PRIVS);
	is_str(d, want, "process attributes");
	free(d);
	proto_free(&m);

	/* Command-line overrides. */
	spec_setenv(&s, "PATH=/usr/bin");
	spec_setenv(&s, "NEW=1");
	ok(s.nenv == 3 && !strcmp(s.env[0], "PATH=/usr/bin") && !strcmp(s.env[2], "NEW=1"),
	   "setenv replaces a key and adds a new one");
	spec_set_user(&s, "nobody");
	ok(!s.has_uid && s.ngroups == 0 && !strcmp(s.user, "nobody"),
	   "a user string replaces uid, gid and groups");
	spec_set_rlimit(&s, RLIMIT_NOFILE, 1, 2);
	ok(s.nrlimits == 2 && s.rlimits[0].soft == 1, "an rlimit replaces the same resource");
	{
		char *argv[] = { "true" };
		spec_set_args(&s, argv, 1);
		ok(s.nargs == 1 && !strcmp(s.args[0], "true") && !s.args[1], "args replaced");
	}
	spec_free(&s);
}

static void test_empty(void)
{
	struct spec s;
	struct proto_msg m = { 0 };
	char err[256], *d;

	ok(parse(&s, "{}", err, sizeof err) == 0, "an empty object is a valid (empty) spec");
	ok(s.arch == NULL, "no annotation: no architecture (the host's)");
	proto_init(&m, OP_PROC_CREATE, 0, 0);
	spec_proc_attrs(&s, &m);
	spec_ctr_attrs(&s, &m);
	d = dump(&m);
	is_str(d, "", "and gives no attributes: vminit's defaults");
	free(d);
	proto_free(&m);
	spec_free(&s);
}

static void test_errors(void)
{
	static const struct { const char *json, *err; } cases[] = {
		{ "{\"process\":{\"args\":\"sh\"}}",
		  "config.json: process.args: not an array of strings" },
		{ "{\"process\":{\"args\":[\"sh\",1]}}",
		  "config.json: process.args: not an array of strings" },
		{ "{\"process\":{\"args\":[]}}", "config.json: process.args: empty" },
		{ "{\"process\":{\"args\":[\"sh\"],\"env\":[\"NOEQUALS\"]}}",
		  "config.json: process.env: \"NOEQUALS\" is not KEY=VALUE" },
		{ "{\"process\":{\"cwd\":\"work\"}}",
		  "config.json: process.cwd: \"work\" is not an absolute path" },
		{ "{\"process\":{\"cwd\":7}}", "config.json: process.cwd: not a string" },
		{ "{\"process\":{\"user\":{\"uid\":-1,\"gid\":0}}}",
		  "config.json: process.user.uid: not an unsigned integer" },
		{ "{\"process\":{\"user\":{\"uid\":4294967295,\"gid\":0}}}",
		  "config.json: process.user.uid: 4294967295 is not a uid or gid" },
		{ "{\"process\":{\"user\":{\"uid\":0,\"gid\":1.5}}}",
		  "config.json: process.user.gid: not an unsigned integer" },
		{ "{\"process\":{\"user\":{\"uid\":0,\"gid\":0,\"additionalGids\":[\"x\"]}}}",
		  "config.json: process.user.additionalGids: not an unsigned integer" },
		{ "{\"process\":{\"user\":[]}}", "config.json: process.user: not an object" },
		{ "{\"process\":{\"capabilities\":{\"bounding\":[\"CAP_FLY\"]}}}",
		  "config.json: process.capabilities.bounding: unknown capability \"CAP_FLY\"" },
		{ "{\"process\":{\"capabilities\":{\"effective\":\"CAP_KILL\"}}}",
		  "config.json: process.capabilities.effective: not an array of capability names" },
		{ "{\"process\":{\"rlimits\":[{\"type\":\"RLIMIT_FOO\",\"soft\":1,\"hard\":1}]}}",
		  "config.json: process.rlimits: unknown type \"RLIMIT_FOO\"" },
		{ "{\"process\":{\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":2,\"hard\":1}]}}",
		  "config.json: process.rlimits: RLIMIT_NOFILE: soft 2 above hard 1" },
		{ "{\"process\":{\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":2}]}}",
		  "config.json: process.rlimits: RLIMIT_NOFILE: needs soft and hard" },
		{ "{\"process\":{\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":18446744073709551616,\"hard\":1}]}}",
		  "config.json: process.rlimits.soft: not an unsigned integer" },
		{ "{\"process\":{\"terminal\":\"yes\"}}",
		  "config.json: process.terminal: not true or false" },
		{ "{\"root\":{\"readonly\":1}}", "config.json: root.readonly: not true or false" },
		{ "{\"hostname\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
		  "config.json: hostname: not a host name of up to 64 bytes" },
		{ "{\"linux\":{\"resources\":{\"memory\":{\"limit\":-5}}}}",
		  "config.json: linux.resources.memory.limit: not an integer limit" },
		{ "{\"linux\":{\"resources\":{\"cpu\":{\"period\":1e5}}}}",
		  "config.json: linux.resources.cpu.period: not an unsigned integer" },
		{ "{\"linux\":{\"maskedPaths\":[\"proc/kcore\"]}}",
		  "config.json: linux.maskedPaths: \"proc/kcore\" is not an absolute path" },
		{ "{\"linux\":{\"resources\":7}}", "config.json: linux.resources: not an object" },
		{ "[]", "config.json: not a JSON object" },
		{ "{\"process\":", NULL },	/* yajl's own message */
		{ "{\"ociVersion\":1}", "config.json: ociVersion: not a string" },
		{ "{\"annotations\":{\"org.opencontainers.image.architecture\":64}}",
		  "config.json: annotations.org.opencontainers.image.architecture: not a string" },
		{ "{\"annotations\":[]}", "config.json: annotations: not an object" },
	};
	struct spec s;
	char err[512], what[200];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int rc = parse(&s, cases[i].json, err, sizeof err);
		snprintf(what, sizeof what, "refused: %.120s", cases[i].json);
		ok(rc < 0 && s.args == NULL, what);
		if (cases[i].err)
			is_str(err, cases[i].err, "  with the field named");
		else
			ok(!strncmp(err, "config.json: ", 13), "  with the file named");
	}
}

static void test_limits(void)
{
	struct spec s;
	char err[512];
	size_t cap = 5u << 20, len;
	char *buf = xmalloc(cap), *p;

	/* 4097 arguments: one over. */
	p = buf + sprintf(buf, "{\"process\":{\"args\":[");
	for (int i = 0; i <= SPEC_MAX_ARGS; i++)
		p += sprintf(p, "%s\"a\"", i ? "," : "");
	strcpy(p, "]}}");
	ok(parse(&s, buf, err, sizeof err) < 0 &&
	   !strcmp(err, "config.json: process.args: more than 4096 entries"), "too many args");
	/* One argument longer than a protocol attribute could carry. */
	p = buf + sprintf(buf, "{\"process\":{\"args\":[\"");
	memset(p, 'x', SPEC_MAX_STR + 1);
	strcpy(p + SPEC_MAX_STR + 1, "\"]}}");
	ok(parse(&s, buf, err, sizeof err) < 0 &&
	   !strcmp(err, "config.json: process.args: longer than 4096 bytes"), "an arg too long");
	/* Deeper than the parser allows. */
	p = buf + sprintf(buf, "{\"x\":");
	for (int i = 0; i < 100; i++)
		*p++ = '[';
	for (int i = 0; i < 100; i++)
		*p++ = ']';
	strcpy(p, "}");
	ok(parse(&s, buf, err, sizeof err) < 0 && strstr(err, "nested deeper"), "too deep");
	/* Larger than SPEC_MAX_SIZE. */
	len = SPEC_MAX_SIZE + 10;
	memset(buf, ' ', len);
	buf[0] = '{', buf[len - 1] = '}', buf[len] = '\0';
	ok(spec_parse(&s, buf, len, "config.json", NULL, err, sizeof err) < 0 &&
	   strstr(err, "larger than"), "too large");
	/* NUL inside. */
	ok(spec_parse(&s, "{}\0{}", 5, "config.json", NULL, err, sizeof err) < 0,
	   "a NUL byte inside");
	free(buf);
}

static void test_load(void)
{
	char dir[] = "/tmp/spec-test.XXXXXX", path[64], err[512];
	struct spec s;
	FILE *f;

	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof path, "%s/config.json", dir);
	ok(spec_load(&s, path, err, sizeof err) < 0 && strstr(err, "No such file"),
	   "a missing file is named");
	f = fopen(path, "w");
	fputs("{\"root\":{\"path\":\"rootfs\"}}", f);
	fclose(f);
	ok(spec_load(&s, path, err, sizeof err) == 0 && s.root &&
	   !strcmp(s.root + strlen(dir), "/rootfs") && !strncmp(s.root, dir, strlen(dir)),
	   "root.path is relative to the file's directory");
	spec_free(&s);
	f = fopen(path, "w");
	for (int i = 0; i < 120000; i++)
		fputs("          ", f);
	fclose(f);
	ok(spec_load(&s, path, err, sizeof err) < 0 && strstr(err, "larger than"),
	   "a file over 1 MiB is refused before parsing");
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	test_full();
	test_empty();
	test_errors();
	test_limits();
	test_load();
	ok(spec_cap_num("CAP_SYS_ADMIN") == 21 && spec_cap_num("CAP_NOPE") == -1,
	   "capability names");
	return done_testing();
}
