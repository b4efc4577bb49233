/* spec.c: see spec.h. */
#include "spec.h"
#include "fsutil.h"
#include "json.h"
#include "path.h"
#include "xalloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* The parse in progress: errors go to err, prefixed by the file's name. */
struct ctx {
	const char *name;
	char *err;
	size_t errlen;
};

static int bad(struct ctx *c, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int bad(struct ctx *c, const char *field, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "%s: %s: %s", c->name, field, msg);
	return -1;
}

static const struct { const char *name; int res; } rlimit_names[] = {
	{ "RLIMIT_AS", RLIMIT_AS }, { "RLIMIT_CORE", RLIMIT_CORE },
	{ "RLIMIT_CPU", RLIMIT_CPU }, { "RLIMIT_DATA", RLIMIT_DATA },
	{ "RLIMIT_FSIZE", RLIMIT_FSIZE }, { "RLIMIT_LOCKS", RLIMIT_LOCKS },
	{ "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK }, { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
	{ "RLIMIT_NICE", RLIMIT_NICE }, { "RLIMIT_NOFILE", RLIMIT_NOFILE },
	{ "RLIMIT_NPROC", RLIMIT_NPROC }, { "RLIMIT_RSS", RLIMIT_RSS },
	{ "RLIMIT_RTPRIO", RLIMIT_RTPRIO }, { "RLIMIT_RTTIME", RLIMIT_RTTIME },
	{ "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING }, { "RLIMIT_STACK", RLIMIT_STACK },
};

/* capability(7) numbers, as in linux/capability.h. */
static const char *const cap_names[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
	"CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
	"CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
	"CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
};

int spec_rlimit_res(const char *name)
{
	for (size_t i = 0; i < sizeof rlimit_names / sizeof rlimit_names[0]; i++)
		if (strcmp(name, rlimit_names[i].name) == 0)
			return rlimit_names[i].res;
	return -1;
}

int spec_cap_num(const char *name)
{
	for (size_t i = 0; i < sizeof cap_names / sizeof cap_names[0]; i++)
		if (strcmp(name, cap_names[i]) == 0)
			return (int)i;
	return -1;
}

void spec_init(struct spec *s)
{
	memset(s, 0, sizeof *s);
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void spec_free(struct spec *s)
{
	strv_free(s->args, s->nargs);
	strv_free(s->env, s->nenv);
	strv_free(s->masked, s->nmasked);
	strv_free(s->ropaths, s->nropaths);
	free(s->cwd);
	free(s->user);
	free(s->groups);
	free(s->rlimits);
	free(s->root);
	free(s->hostname);
	free(s->arch);
	spec_init(s);
}

static void strv_push(char ***v, size_t *n, const char *str)
{
	*v = xrealloc(*v, (*n + 2) * sizeof **v);
	(*v)[(*n)++] = xstrdup(str);
	(*v)[*n] = NULL;
}

/* --- typed fields ---------------------------------------------------- */

/* A JSON integer as text: yajl's own integer tops out at LLONG_MAX,
 * and runtime-spec's rlimits are uint64 (2^64-1 is "unlimited"). */
static int num(yajl_val v, int *neg, uint64_t *out)
{
	const char *r;
	char *end;

	if (!YAJL_IS_NUMBER(v) || !(r = v->u.number.r))
		return -1;
	*neg = *r == '-';
	r += *neg;
	if (*r < '0' || *r > '9')
		return -1;
	errno = 0;
	*out = strtoull(r, &end, 10);
	return *end || errno ? -1 : 0;
}

static int get_u64(struct ctx *c, yajl_val v, const char *field, uint64_t *out)
{
	int neg;

	if (num(v, &neg, out) < 0 || (neg && *out))
		return bad(c, field, "not an unsigned integer");
	return 0;
}

/* A signed limit where -1 (and for some, 0) means none. */
static int get_limit(struct ctx *c, yajl_val v, const char *field, uint64_t *out)
{
	int neg;

	if (num(v, &neg, out) < 0 || (neg && *out > 1) || (!neg && *out > INT64_MAX))
		return bad(c, field, "not an integer limit");
	if (neg)
		*out = 0;
	return 0;
}

static int get_id(struct ctx *c, yajl_val v, const char *field, uint32_t *out)
{
	uint64_t n;

	if (get_u64(c, v, field, &n) < 0)
		return -1;
	if (n >= 0xffffffffu)	/* (uid_t)-1 means "unchanged" to the kernel */
		return bad(c, field, "%llu is not a uid or gid", (unsigned long long)n);
	*out = (uint32_t)n;
	return 0;
}

static int get_bool(struct ctx *c, yajl_val v, const char *field, int *out)
{
	if (!v)
		return 0;
	if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v))
		return bad(c, field, "not true or false");
	*out = YAJL_IS_TRUE(v);
	return 0;
}

static int check_str(struct ctx *c, const char *s, const char *field, int absolute)
{
	size_t n = strlen(s);

	if (n > SPEC_MAX_STR)
		return bad(c, field, "longer than %u bytes", SPEC_MAX_STR);
	if (absolute && *s != '/')
		return bad(c, field, "\"%.64s\" is not an absolute path", s);
	return 0;
}

/* An optional string member; absent leaves *out alone. */
static int get_str(struct ctx *c, yajl_val obj, const char *key, const char *field,
		   int absolute, char **out)
{
	yajl_val v = json_get(obj, key);

	if (!v)
		return 0;
	if (!YAJL_IS_STRING(v))
		return bad(c, field, "not a string");
	if (check_str(c, v->u.string, field, absolute) < 0)
		return -1;
	free(*out);
	*out = xstrdup(v->u.string);
	return 0;
}

/* An optional array of strings; *given says it was there. */
static int get_strv(struct ctx *c, yajl_val obj, const char *key, const char *field,
		    size_t max, int absolute, char ***v, size_t *n, int *given)
{
	yajl_val a = json_get(obj, key);

	if (!a)
		return 0;
	if (!YAJL_IS_ARRAY(a))
		return bad(c, field, "not an array of strings");
	if (a->u.array.len > max)
		return bad(c, field, "more than %zu entries", max);
	for (size_t i = 0; i < a->u.array.len; i++) {
		yajl_val e = a->u.array.values[i];
		if (!YAJL_IS_STRING(e))
			return bad(c, field, "not an array of strings");
		if (check_str(c, e->u.string, field, absolute) < 0)
			return -1;
		strv_push(v, n, e->u.string);
	}
	if (given)
		*given = 1;
	return 0;
}

static yajl_val get_obj(struct ctx *c, yajl_val obj, const char *key,
			const char *field, int *fail)
{
	yajl_val v = json_get(obj, key);

	if (v && !YAJL_IS_OBJECT(v) && !YAJL_IS_NULL(v)) {
		bad(c, field, "not an object");
		*fail = 1;
	}
	return YAJL_IS_OBJECT(v) ? v : NULL;
}

/* --- sections -------------------------------------------------------- */

static int parse_user(struct ctx *c, struct spec *s, yajl_val u)
{
	yajl_val g = json_get(u, "additionalGids");
	char *name = NULL;

	if (json_get(u, "uid") && get_id(c, json_get(u, "uid"), "process.user.uid", &s->uid) < 0)
		return -1;
	if (json_get(u, "gid") && get_id(c, json_get(u, "gid"), "process.user.gid", &s->gid) < 0)
		return -1;
	s->has_uid = 1;
	if (g) {
		if (!YAJL_IS_ARRAY(g))
			return bad(c, "process.user.additionalGids", "not an array of gids");
		if (g->u.array.len > SPEC_MAX_GROUPS)
			return bad(c, "process.user.additionalGids", "more than %u groups",
				   SPEC_MAX_GROUPS);
		s->groups = xcalloc(g->u.array.len + 1, sizeof *s->groups);
		for (size_t i = 0; i < g->u.array.len; i++)
			if (get_id(c, g->u.array.values[i], "process.user.additionalGids",
				   &s->groups[s->ngroups++]) < 0)
				return -1;
	}
	/* Windows-only in the spec, but a name is what an image's User is. */
	if (get_str(c, u, "username", "process.user.username", 0, &name) < 0)
		return -1;
	if (name && (!*name || strchr(name, '\n'))) {
		free(name);
		return bad(c, "process.user.username", "empty or not one line");
	}
	if (name) {
		free(s->user);
		s->user = name;
	}
	return 0;
}

static int parse_rlimits(struct ctx *c, struct spec *s, yajl_val a)
{
	const char *f = "process.rlimits";

	if (!YAJL_IS_ARRAY(a))
		return bad(c, f, "not an array");
	if (a->u.array.len > SPEC_MAX_RLIMITS)
		return bad(c, f, "more than %u entries", SPEC_MAX_RLIMITS);
	for (size_t i = 0; i < a->u.array.len; i++) {
		yajl_val r = a->u.array.values[i];
		const char *type = json_get_str(r, "type");
		uint64_t soft, hard;
		int res;

		if (!YAJL_IS_OBJECT(r) || !type)
			return bad(c, f, "entry %zu: no type", i);
		if ((res = spec_rlimit_res(type)) < 0)
			return bad(c, f, "unknown type \"%.64s\"", type);
		if (!json_get(r, "soft") || !json_get(r, "hard"))
			return bad(c, f, "%s: needs soft and hard", type);
		if (get_u64(c, json_get(r, "soft"), "process.rlimits.soft", &soft) < 0 ||
		    get_u64(c, json_get(r, "hard"), "process.rlimits.hard", &hard) < 0)
			return -1;
		if (soft > hard)
			return bad(c, f, "%s: soft %llu above hard %llu", type,
				   (unsigned long long)soft, (unsigned long long)hard);
		spec_set_rlimit(s, (uint32_t)res, soft, hard);
	}
	return 0;
}

static int parse_caps(struct ctx *c, struct spec *s, yajl_val caps)
{
	static const char *const sets[SPEC_CAP_SETS] = { "bounding", "effective",
		"permitted", "inheritable", "ambient" };
	char field[64];

	s->has_caps = 1;
	for (int i = 0; i < SPEC_CAP_SETS; i++) {
		yajl_val a = json_get(caps, sets[i]);
		snprintf(field, sizeof field, "process.capabilities.%s", sets[i]);
		if (!a)
			continue;
		if (!YAJL_IS_ARRAY(a) || a->u.array.len > 256)
			return bad(c, field, "not an array of capability names");
		for (size_t j = 0; j < a->u.array.len; j++) {
			yajl_val e = a->u.array.values[j];
			int n;
			if (!YAJL_IS_STRING(e))
				return bad(c, field, "not an array of capability names");
			if ((n = spec_cap_num(e->u.string)) < 0)
				return bad(c, field, "unknown capability \"%.64s\"", e->u.string);
			s->caps[i] |= 1ull << n;
		}
	}
	return 0;
}

static int parse_process(struct ctx *c, struct spec *s, yajl_val p)
{
	yajl_val v;
	int fail = 0;

	if (get_bool(c, json_get(p, "terminal"), "process.terminal", &s->terminal) < 0 ||
	    get_strv(c, p, "args", "process.args", SPEC_MAX_ARGS, 0, &s->args,
		     &s->nargs, NULL) < 0 ||
	    get_strv(c, p, "env", "process.env", SPEC_MAX_ARGS, 0, &s->env,
		     &s->nenv, NULL) < 0 ||
	    get_str(c, p, "cwd", "process.cwd", 1, &s->cwd) < 0 ||
	    get_bool(c, json_get(p, "noNewPrivileges"), "process.noNewPrivileges",
		     &s->nnp) < 0)
		return -1;
	if (json_get(p, "args") && s->nargs == 0)
		return bad(c, "process.args", "empty");
	for (size_t i = 0; i < s->nenv; i++)
		if (!strchr(s->env[i], '=') || s->env[i][0] == '=')
			return bad(c, "process.env", "\"%.64s\" is not KEY=VALUE", s->env[i]);
	if ((v = get_obj(c, p, "user", "process.user", &fail)) && parse_user(c, s, v) < 0)
		return -1;
	if ((v = json_get(p, "rlimits")) && parse_rlimits(c, s, v) < 0)
		return -1;
	if ((v = get_obj(c, p, "capabilities", "process.capabilities", &fail)) &&
	    parse_caps(c, s, v) < 0)
		return -1;
	return fail ? -1 : 0;
}

static int parse_linux(struct ctx *c, struct spec *s, yajl_val l)
{
	yajl_val r, m, v;
	int fail = 0;

	if (get_strv(c, l, "maskedPaths", "linux.maskedPaths", SPEC_MAX_PATHS, 1,
		     &s->masked, &s->nmasked, &s->has_masked) < 0 ||
	    get_strv(c, l, "readonlyPaths", "linux.readonlyPaths", SPEC_MAX_PATHS, 1,
		     &s->ropaths, &s->nropaths, &s->has_ropaths) < 0)
		return -1;
	if (!(r = get_obj(c, l, "resources", "linux.resources", &fail)))
		return fail ? -1 : 0;
	if ((m = get_obj(c, r, "memory", "linux.resources.memory", &fail)) &&
	    (v = json_get(m, "limit")) &&
	    get_limit(c, v, "linux.resources.memory.limit", &s->mem) < 0)
		return -1;
	if ((m = get_obj(c, r, "pids", "linux.resources.pids", &fail)) &&
	    (v = json_get(m, "limit")) &&
	    get_limit(c, v, "linux.resources.pids.limit", &s->pids) < 0)
		return -1;
	if ((m = get_obj(c, r, "cpu", "linux.resources.cpu", &fail))) {
		if ((v = json_get(m, "quota")) &&
		    get_limit(c, v, "linux.resources.cpu.quota", &s->cpu_quota) < 0)
			return -1;
		if ((v = json_get(m, "period")) &&
		    get_u64(c, v, "linux.resources.cpu.period", &s->cpu_period) < 0)
			return -1;
	}
	return fail ? -1 : 0;
}

int spec_parse(struct spec *s, const char *buf, size_t len, const char *name,
	       const char *dir, char *err, size_t errlen)
{
	struct ctx c = { name, err, errlen };
	char jerr[256];
	yajl_val root, v;
	int rc = -1, fail = 0;

	spec_init(s);
	err[0] = '\0';
	if (len > SPEC_MAX_SIZE) {
		snprintf(err, errlen, "%s: larger than %u bytes", name, SPEC_MAX_SIZE);
		return -1;
	}
	if (!(root = json_parse(buf, len, jerr, sizeof jerr))) {
		snprintf(err, errlen, "%s: %s", name, jerr);
		return -1;
	}
	if (!YAJL_IS_OBJECT(root)) {
		snprintf(err, errlen, "%s: not a JSON object", name);
		goto out;
	}
	if ((v = json_get(root, "ociVersion")) && !YAJL_IS_STRING(v)) {
		bad(&c, "ociVersion", "not a string");
		goto out;
	}
	if ((v = get_obj(&c, root, "process", "process", &fail)) && parse_process(&c, s, v) < 0)
		goto out;
	if ((v = get_obj(&c, root, "root", "root", &fail))) {
		if (get_str(&c, v, "path", "root.path", 0, &s->root) < 0 ||
		    get_bool(&c, json_get(v, "readonly"), "root.readonly", &s->readonly) < 0)
			goto out;
		if (s->root && dir && s->root[0] != '/') {
			char *p = path_join(dir, s->root);
			free(s->root);
			s->root = p;
		}
	}
	if (get_str(&c, root, "hostname", "hostname", 0, &s->hostname) < 0)
		goto out;
	if (s->hostname && (strlen(s->hostname) > SPEC_MAX_HOSTNAME ||
			    strchr(s->hostname, '/') || strchr(s->hostname, '\n'))) {
		bad(&c, "hostname", "not a host name of up to %u bytes", SPEC_MAX_HOSTNAME);
		goto out;
	}
	if ((v = get_obj(&c, root, "linux", "linux", &fail)) && parse_linux(&c, s, v) < 0)
		goto out;
	if ((v = get_obj(&c, root, "annotations", "annotations", &fail)) &&
	    get_str(&c, v, SPEC_ARCH_ANNOTATION, "annotations." SPEC_ARCH_ANNOTATION, 0,
		    &s->arch) < 0)
		goto out;
	rc = fail ? -1 : 0;
out:
	json_free(root);
	if (rc < 0)
		spec_free(s);
	return rc;
}

int spec_load(struct spec *s, const char *path, char *err, size_t errlen)
{
	char *buf, *dir, *slash;
	size_t len;
	int rc;

	spec_init(s);
	if (read_file(path, SPEC_MAX_SIZE, &buf, &len) < 0) {
		snprintf(err, errlen, "%s: %s", path, errno == EFBIG ?
			 "larger than 1 MiB" : strerror(errno));
		return -1;
	}
	/* root.path is relative to the bundle: the file's directory. */
	dir = xstrdup(path);
	slash = strrchr(dir, '/');
	if (slash)
		slash[slash == dir] = '\0';
	rc = spec_parse(s, buf, len, path, slash ? dir : ".", err, errlen);
	free(dir);
	free(buf);
	return rc;
}

/* --- overrides ------------------------------------------------------- */

void spec_set_args(struct spec *s, char *const *argv, size_t n)
{
	strv_free(s->args, s->nargs);
	s->args = NULL;
	s->nargs = 0;
	for (size_t i = 0; i < n; i++)
		strv_push(&s->args, &s->nargs, argv[i]);
}

void spec_setenv(struct spec *s, const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t k = eq ? (size_t)(eq - kv) + 1 : strlen(kv);

	for (size_t i = 0; i < s->nenv; i++)
		if (strncmp(s->env[i], kv, k) == 0) {
			free(s->env[i]);
			s->env[i] = xstrdup(kv);
			return;
		}
	strv_push(&s->env, &s->nenv, kv);
}

void spec_set_user(struct spec *s, const char *user)
{
	free(s->user);
	s->user = xstrdup(user);
	s->has_uid = 0;
	s->uid = s->gid = 0;
	free(s->groups);
	s->groups = NULL;
	s->ngroups = 0;
}

void spec_set_rlimit(struct spec *s, uint32_t res, uint64_t soft, uint64_t hard)
{
	size_t i;

	for (i = 0; i < s->nrlimits && s->rlimits[i].res != res; i++)
		;
	if (i == s->nrlimits)
		s->rlimits = xrealloc(s->rlimits, ++s->nrlimits * sizeof *s->rlimits);
	s->rlimits[i] = (struct spec_rlimit){ res, soft, hard };
}

/* --- attributes ------------------------------------------------------ */

void spec_ctr_attrs(const struct spec *s, struct proto_msg *m)
{
	if (s->readonly)
		proto_put_flag(m, A_READONLY);
	if (s->hostname)
		proto_put_str(m, A_HOSTNAME, s->hostname);
	if (s->mem)
		proto_put_u64(m, A_MEM_LIMIT, s->mem);
	if (s->pids)
		proto_put_u64(m, A_PIDS_LIMIT, s->pids);
	if (s->cpu_quota)
		proto_put_u64(m, A_CPU_QUOTA, s->cpu_quota);
	if (s->cpu_period)
		proto_put_u64(m, A_CPU_PERIOD, s->cpu_period);
	/* An empty list in the file means none; vminit's defaults are
	 * for a spec that does not say. */
	if (s->has_masked && s->nmasked == 0)
		proto_put_flag(m, A_NO_MASKED);
	for (size_t i = 0; i < s->nmasked; i++)
		proto_put_str(m, A_MASKED, s->masked[i]);
	if (s->has_ropaths && s->nropaths == 0)
		proto_put_flag(m, A_NO_RO_PATHS);
	for (size_t i = 0; i < s->nropaths; i++)
		proto_put_str(m, A_RO_PATH, s->ropaths[i]);
}

void spec_proc_attrs(const struct spec *s, struct proto_msg *m)
{
	static const uint16_t cap_attr[SPEC_CAP_SETS] = { A_CAP_BOUNDING,
		A_CAP_EFFECTIVE, A_CAP_PERMITTED, A_CAP_INHERITABLE, A_CAP_AMBIENT };

	for (size_t i = 0; i < s->nargs; i++)
		proto_put_str(m, A_ARG, s->args[i]);
	for (size_t i = 0; i < s->nenv; i++)
		proto_put_str(m, A_ENV, s->env[i]);
	if (s->cwd)
		proto_put_str(m, A_CWD, s->cwd);
	if (s->user) {
		proto_put_str(m, A_USER, s->user);
	} else if (s->has_uid) {
		proto_put_u32(m, A_UID, s->uid);
		proto_put_u32(m, A_GID, s->gid);
	}
	for (size_t i = 0; i < s->ngroups; i++)
		proto_put_u32(m, A_GROUP, s->groups[i]);
	for (size_t i = 0; i < s->nrlimits; i++) {
		size_t nest = proto_nest_start(m, A_RLIMIT);
		proto_put_u32(m, A_RLIMIT_RES, s->rlimits[i].res);
		proto_put_u64(m, A_RLIMIT_SOFT, s->rlimits[i].soft);
		proto_put_u64(m, A_RLIMIT_HARD, s->rlimits[i].hard);
		proto_nest_end(m, nest);
	}
	if (s->has_caps)
		for (int i = 0; i < SPEC_CAP_SETS; i++)
			proto_put_u64(m, cap_attr[i], s->caps[i]);
	if (s->nnp)
		proto_put_flag(m, A_NO_NEW_PRIVS);
}
