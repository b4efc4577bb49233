/* bundle.c: an OCI runtime-spec config.json built from the image config
 * the way image-spec conversion.md maps it: Entrypoint and Cmd to
 * process.args, Env, WorkingDir, User (names looked up in the image's
 * /etc/passwd and /etc/group), ExposedPorts and Labels to annotations. */
#include "output.h"
#include "err.h"
#include "fsutil.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PASSWD_MAX (4u << 20)
#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

char *tree_read_file(struct tree *t, const struct spool *sp,
		     const char *path, size_t cap)
{
	struct node *n = tree_lookup(t, path);
	char *buf, name[STAGE_NAME_MAX];
	size_t len;
	int fd = sp->fd;

	if (!n || !S_ISREG(n->ino->mode))
		return NULL;
	len = n->ino->size < (int64_t)cap ? (size_t)n->ino->size : cap;
	buf = xmalloc(len + 1);
	if (len && sp->stage >= 0) {
		stage_name(n->ino->data_off, name);
		if ((fd = openat(sp->stage, name, O_RDONLY | O_NOFOLLOW |
				 O_CLOEXEC)) < 0)
			die("%s: staged data:", path);
	}
	if (len && pread(fd, buf, len, sp->stage >= 0 ? 0 :
			 n->ino->data_off) != (ssize_t)len)
		die("spool: %s: short read", path);
	if (fd != sp->fd)
		close(fd);
	buf[len] = '\0';
	return buf;
}

/* Field 3 (and 4) of the line whose field 1 is name: passwd or group. */
static int db_lookup(const char *db, const char *name, long *id, long *gid)
{
	const char *line = db;
	size_t nl = strlen(name);

	while (line && *line) {
		const char *end = strchr(line, '\n');
		if (!strncmp(line, name, nl) && line[nl] == ':') {
			const char *f = strchr(line + nl + 1, ':');
			char *e;
			if (!f)
				return -1;
			*id = strtol(f + 1, &e, 10);
			if (gid && *e == ':')
				*gid = strtol(e + 1, NULL, 10);
			return 0;
		}
		line = end ? end + 1 : NULL;
	}
	return -1;
}

static long user_id(const char *s, const char *db, const char *what,
		    long *gid)
{
	char *e;
	long v = strtol(s, &e, 10);

	if (*s && !*e && v >= 0)
		return v;
	if (!db || db_lookup(db, s, &v, gid) < 0)
		die("User: %s \"%s\" not found in the image", what, s);
	return v;
}

static void gen_user(yajl_gen g, const char *user, struct tree *t,
		     const struct spool *sp)
{
	char *u = xstrdup(user ? user : ""), *grp = strchr(u, ':');
	char *passwd = NULL, *group = NULL;
	long uid = 0, gid = 0;

	if (grp)
		*grp++ = '\0';
	if (*u) {
		passwd = tree_read_file(t, sp, "etc/passwd", PASSWD_MAX);
		uid = user_id(u, passwd, "user", &gid);
	}
	if (grp && *grp) {
		group = tree_read_file(t, sp, "etc/group", PASSWD_MAX);
		gid = user_id(grp, group, "group", NULL);
	}
	json_gen_str(g, "user");
	yajl_gen_map_open(g);
	json_gen_kint(g, "uid", uid);
	json_gen_kint(g, "gid", gid);
	yajl_gen_map_close(g);
	free(passwd);
	free(group);
	free(u);
}

static void gen_mount(yajl_gen g, const char *dest, const char *type,
		      const char *src, const char *opts)
{
	char *o = xstrdup(opts), *s, *save = NULL;

	yajl_gen_map_open(g);
	json_gen_kv(g, "destination", dest);
	json_gen_kv(g, "type", type);
	json_gen_kv(g, "source", src);
	json_gen_str(g, "options");
	yajl_gen_array_open(g);
	for (s = strtok_r(o, ",", &save); s; s = strtok_r(NULL, ",", &save))
		json_gen_str(g, s);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	free(o);
}

static void gen_strs(yajl_gen g, const char *key, const char *const *v)
{
	json_gen_str(g, key);
	yajl_gen_array_open(g);
	for (; *v; v++)
		json_gen_str(g, *v);
	yajl_gen_array_close(g);
}

void bundle_write(const struct image *img, struct tree *t,
		  const struct spool *sp, const char *dir)
{
	static const char *const caps[] = { "CAP_AUDIT_WRITE", "CAP_KILL",
		"CAP_NET_BIND_SERVICE", NULL };
	static const char *const masked[] = { "/proc/acpi", "/proc/kcore",
		"/proc/keys", "/proc/latency_stats", "/proc/timer_list",
		"/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
		"/proc/scsi", NULL };
	static const char *const ro[] = { "/proc/asound", "/proc/bus",
		"/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
		NULL };
	static const char *const ns[] = { "pid", "network", "ipc", "uts",
		"mount", NULL };
	static const char *const sets[] = { "bounding", "effective",
		"permitted", NULL };
	yajl_val cfg = json_get_obj(img->config, "config");
	yajl_val ep = json_get_arr(cfg, "Entrypoint"), cmd = json_get_arr(cfg, "Cmd");
	yajl_val env = json_get_arr(cfg, "Env"), ports = json_get_obj(cfg, "ExposedPorts");
	yajl_val labels = json_get_obj(cfg, "Labels");
	const char *wd = json_get_str(cfg, "WorkingDir"), *v;
	const unsigned char *out;
	size_t i, len, nargs = 0;
	int has_path = 0;
	char *path, *pl = NULL;
	yajl_gen g = json_gen_new(1);

	yajl_gen_map_open(g);
	json_gen_kv(g, "ociVersion", "1.0.2");
	json_gen_str(g, "process");
	yajl_gen_map_open(g);
	json_gen_str(g, "terminal");
	yajl_gen_bool(g, 0);
	gen_user(g, json_get_str(cfg, "User"), t, sp);
	json_gen_str(g, "args");
	yajl_gen_array_open(g);
	for (i = 0; i < json_arr_len(ep); i++)
		if (YAJL_IS_STRING(json_arr_at(ep, i)))
			json_gen_str(g, json_arr_at(ep, i)->u.string), nargs++;
	for (i = 0; i < json_arr_len(cmd); i++)
		if (YAJL_IS_STRING(json_arr_at(cmd, i)))
			json_gen_str(g, json_arr_at(cmd, i)->u.string), nargs++;
	if (!nargs)
		json_gen_str(g, "sh");
	yajl_gen_array_close(g);
	json_gen_str(g, "env");
	yajl_gen_array_open(g);
	for (i = 0; i < json_arr_len(env); i++)
		if (YAJL_IS_STRING(json_arr_at(env, i))) {
			v = json_arr_at(env, i)->u.string;
			has_path |= !strncmp(v, "PATH=", 5);
			json_gen_str(g, v);
		}
	if (!has_path)
		json_gen_str(g, DEFAULT_PATH);
	yajl_gen_array_close(g);
	json_gen_kv(g, "cwd", wd && *wd == '/' ? wd : "/");
	json_gen_str(g, "capabilities");
	yajl_gen_map_open(g);
	for (i = 0; sets[i]; i++)
		gen_strs(g, sets[i], caps);
	yajl_gen_map_close(g);
	json_gen_str(g, "rlimits");
	yajl_gen_array_open(g);
	yajl_gen_map_open(g);
	json_gen_kv(g, "type", "RLIMIT_NOFILE");
	json_gen_kint(g, "hard", 1024);
	json_gen_kint(g, "soft", 1024);
	yajl_gen_map_close(g);
	yajl_gen_array_close(g);
	json_gen_str(g, "noNewPrivileges");
	yajl_gen_bool(g, 1);
	yajl_gen_map_close(g);

	json_gen_str(g, "root");
	yajl_gen_map_open(g);
	json_gen_kv(g, "path", "rootfs");
	json_gen_str(g, "readonly");
	yajl_gen_bool(g, 0);
	yajl_gen_map_close(g);
	json_gen_kv(g, "hostname", "cz");
	json_gen_str(g, "mounts");
	yajl_gen_array_open(g);
	gen_mount(g, "/proc", "proc", "proc", "nosuid,noexec,nodev");
	gen_mount(g, "/dev", "tmpfs", "tmpfs", "nosuid,strictatime,mode=755,size=65536k");
	gen_mount(g, "/dev/pts", "devpts", "devpts", "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5");
	gen_mount(g, "/dev/shm", "tmpfs", "shm", "nosuid,noexec,nodev,mode=1777,size=65536k");
	gen_mount(g, "/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev");
	gen_mount(g, "/sys", "sysfs", "sysfs", "nosuid,noexec,nodev,ro");
	yajl_gen_array_close(g);

	json_gen_str(g, "annotations");
	yajl_gen_map_open(g);
	for (i = 0; labels && i < labels->u.object.len; i++)
		if (YAJL_IS_STRING(labels->u.object.values[i]))
			json_gen_kv(g, labels->u.object.keys[i],
				    labels->u.object.values[i]->u.string);
	if ((v = json_get_str(img->config, "os")))
		json_gen_kv(g, "org.opencontainers.image.os", v);
	if ((v = json_get_str(img->config, "architecture")))
		json_gen_kv(g, "org.opencontainers.image.architecture", v);
	if ((v = json_get_str(img->config, "author")))
		json_gen_kv(g, "org.opencontainers.image.author", v);
	if ((v = json_get_str(img->config, "created")))
		json_gen_kv(g, "org.opencontainers.image.created", v);
	if ((v = json_get_str(cfg, "StopSignal")))
		json_gen_kv(g, "org.opencontainers.image.stopSignal", v);
	for (i = 0; ports && i < ports->u.object.len; i++) {
		char *n = xasprintf("%s%s%s", pl ? pl : "", pl ? "," : "",
				    ports->u.object.keys[i]);
		free(pl);
		pl = n;
	}
	if (pl)
		json_gen_kv(g, "org.opencontainers.image.exposedPorts", pl);
	free(pl);
	yajl_gen_map_close(g);

	json_gen_str(g, "linux");
	yajl_gen_map_open(g);
	json_gen_str(g, "namespaces");
	yajl_gen_array_open(g);
	for (i = 0; ns[i]; i++) {
		yajl_gen_map_open(g);
		json_gen_kv(g, "type", ns[i]);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	gen_strs(g, "maskedPaths", masked);
	gen_strs(g, "readonlyPaths", ro);
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);

	yajl_gen_get_buf(g, &out, &len);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		die("%s: mkdir:", dir);
	path = xasprintf("%s/config.json", dir);
	if (write_file_atomic(path, out, len) < 0)
		die("%s:", path);
	free(path);
	yajl_gen_free(g);
}
