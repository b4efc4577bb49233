/* cgroup.c: one cgroup per container, cgroup2 in the guest. Where the
 * v2 hierarchy lacks a controller (a host running vminit for tests with
 * the v1 layout), that controller's v1 hierarchy is used instead. */
#include "vminit.h"
#include "fsutil.h"
#include "path.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CG "/sys/fs/cgroup"

static int exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0;
}

static const char *v2_root(void)
{
	if (exists(CG "/cgroup.controllers"))
		return CG;
	if (exists(CG "/unified/cgroup.controllers"))
		return CG "/unified";
	return NULL;
}

/* 1 when the v2 root offers ctrl. */
static int v2_has(const char *root, const char *ctrl)
{
	char *path = path_join(root, "cgroup.controllers"), *buf, *t, *save;
	int found = 0;

	if (read_file(path, 4096, &buf, NULL) == 0) {
		for (t = strtok_r(buf, " \n", &save); t; t = strtok_r(NULL, " \n", &save))
			found |= strcmp(t, ctrl) == 0;
		free(buf);
	}
	free(path);
	return found;
}

static int put(const char *dir, const char *file, const char *val, char *err,
	       size_t errlen)
{
	char *path = path_join(dir, file);
	int fd = open(path, O_WRONLY | O_CLOEXEC), rc = 0;

	if (fd < 0 || write(fd, val, strlen(val)) < 0) {
		snprintf(err, errlen, "cgroup: write %s: %s", path, strerror(errno));
		rc = -1;
	}
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

static char *make(const char *root, const char *id, char *err, size_t errlen)
{
	char *dir = xasprintf("%s/cz/%s", root, id);

	if (mkdir_p(dir, 0755) < 0) {
		snprintf(err, errlen, "cgroup: mkdir %s: %s", dir, strerror(errno));
		free(dir);
		return NULL;
	}
	return dir;
}

int cgroup_create(struct cgroup *cg, const char *id,
		  const struct cgroup_limits *l, char *err, size_t errlen)
{
	const char *v2 = v2_root();
	int mem2 = v2 && v2_has(v2, "memory"), pids2 = v2 && v2_has(v2, "pids"),
	    cpu2 = v2 && v2_has(v2, "cpu");
	char val[64], ctl[64] = "", *czdir;

	memset(cg, 0, sizeof *cg);
	if (v2) {
		snprintf(ctl, sizeof ctl, "%s%s%s", mem2 ? "+memory " : "",
			 pids2 ? "+pids " : "", cpu2 ? "+cpu" : "");
		czdir = path_join(v2, "cz");
		mkdir(czdir, 0755);
		/* Best effort: the limits below fail by name if it did not. */
		if (*ctl) {
			char e[8];
			put(v2, "cgroup.subtree_control", ctl, e, sizeof e);
			put(czdir, "cgroup.subtree_control", ctl, e, sizeof e);
		}
		free(czdir);
		if (!(cg->v2 = make(v2, id, err, errlen)))
			return -1;
	}
	if (!mem2 && exists(CG "/memory/cgroup.procs") &&
	    !(cg->mem = make(CG "/memory", id, err, errlen)))
		return -1;
	if (!pids2 && exists(CG "/pids/cgroup.procs") &&
	    !(cg->pids = make(CG "/pids", id, err, errlen)))
		return -1;
	if (!cpu2 && exists(CG "/cpu/cgroup.procs") &&
	    !(cg->cpu = make(CG "/cpu", id, err, errlen)))
		return -1;
	if (l->mem) {
		snprintf(val, sizeof val, "%llu", (unsigned long long)l->mem);
		if (mem2 ? put(cg->v2, "memory.max", val, err, errlen) :
		    !cg->mem ? (snprintf(err, errlen, "cgroup: no memory controller"), -1) :
		    put(cg->mem, "memory.limit_in_bytes", val, err, errlen))
			return -1;
		/* The limit means RAM: no escape into swap. */
		if (mem2)
			put(cg->v2, "memory.swap.max", "0", val, sizeof val);
		else
			put(cg->mem, "memory.swappiness", "0", val, sizeof val);
	}
	if (l->pids) {
		const char *dir = pids2 ? cg->v2 : cg->pids;
		snprintf(val, sizeof val, "%llu", (unsigned long long)l->pids);
		if (!dir)
			return snprintf(err, errlen, "cgroup: no pids controller"), -1;
		if (put(dir, "pids.max", val, err, errlen) < 0)
			return -1;
	}
	if (l->cpu_quota) {
		unsigned long long period = l->cpu_period ? l->cpu_period : 100000;
		if (cpu2) {
			snprintf(val, sizeof val, "%llu %llu",
				 (unsigned long long)l->cpu_quota, period);
			if (put(cg->v2, "cpu.max", val, err, errlen) < 0)
				return -1;
		} else if (cg->cpu) {
			snprintf(val, sizeof val, "%llu", period);
			if (put(cg->cpu, "cpu.cfs_period_us", val, err, errlen) < 0)
				return -1;
			snprintf(val, sizeof val, "%llu", (unsigned long long)l->cpu_quota);
			if (put(cg->cpu, "cpu.cfs_quota_us", val, err, errlen) < 0)
				return -1;
		} else {
			return snprintf(err, errlen, "cgroup: no cpu controller"), -1;
		}
	}
	return 0;
}

int cgroup_join(const struct cgroup *cg, char *err, size_t errlen)
{
	const char *dirs[] = { cg->v2, cg->mem, cg->pids, cg->cpu };

	for (size_t i = 0; i < 4; i++)
		if (dirs[i] && put(dirs[i], "cgroup.procs", "0", err, errlen) < 0)
			return -1;
	return 0;
}

/* A "key value" line of a flat-keyed cgroup file. */
static uint64_t keyed(const char *dir, const char *file, const char *key)
{
	char *path, *buf, *p;
	uint64_t v = 0;
	size_t n = strlen(key);

	if (!dir)
		return 0;
	path = path_join(dir, file);
	if (read_file(path, 65536, &buf, NULL) == 0) {
		for (p = buf; p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
			if (strncmp(p, key, n) == 0 && p[n] == ' ') {
				v = strtoull(p + n + 1, NULL, 10);
				break;
			}
		free(buf);
	}
	free(path);
	return v;
}

static uint64_t single(const char *dir, const char *file)
{
	char *path, *buf;
	uint64_t v = 0;

	if (!dir)
		return 0;
	path = path_join(dir, file);
	if (read_file(path, 4096, &buf, NULL) == 0) {
		v = strtoull(buf, NULL, 10);
		free(buf);
	}
	free(path);
	return v;
}

uint64_t cgroup_oom_kills(const struct cgroup *cg)
{
	return cg->mem ? keyed(cg->mem, "memory.oom_control", "oom_kill")
		       : keyed(cg->v2, "memory.events", "oom_kill");
}

void cgroup_stats(const struct cgroup *cg, struct proto_msg *m)
{
	proto_put_u64(m, A_STAT_MEM, cg->mem ? single(cg->mem, "memory.usage_in_bytes")
					     : single(cg->v2, "memory.current"));
	proto_put_u64(m, A_STAT_PIDS, single(cg->pids ? cg->pids : cg->v2, "pids.current"));
	proto_put_u64(m, A_STAT_CPU_USEC, keyed(cg->v2, "cpu.stat", "usage_usec"));
	proto_put_u64(m, A_STAT_OOM_KILLS, cgroup_oom_kills(cg));
}

/* Calls fn on each pid in the cgroup's cgroup.procs files; the number. */
static int each_pid(const struct cgroup *cg, void (*fn)(pid_t))
{
	const char *dirs[] = { cg->v2, cg->mem, cg->pids, cg->cpu };
	char *path, *buf, *p, *end;
	int n = 0;

	for (size_t i = 0; i < 4; i++) {
		if (!dirs[i])
			continue;
		path = path_join(dirs[i], "cgroup.procs");
		if (read_file(path, 1u << 20, &buf, NULL) == 0) {
			for (p = buf; *p; p = end) {
				long pid = strtol(p, &end, 10);
				if (end == p)
					break;
				if (pid > 0) {
					n++;
					if (fn)
						fn((pid_t)pid);
				}
			}
			free(buf);
		}
		free(path);
	}
	return n;
}

static void sigkill(pid_t pid)
{
	kill(pid, SIGKILL);
}

void cgroup_kill(const struct cgroup *cg)
{
	char e[8];

	if (cg->v2)
		put(cg->v2, "cgroup.kill", "1", e, sizeof e);	/* 5.14 and later */
	each_pid(cg, sigkill);
}

int cgroup_populated(const struct cgroup *cg)
{
	return each_pid(cg, NULL) > 0;
}

int cgroup_remove(struct cgroup *cg, char *err, size_t errlen)
{
	char **dirs[] = { &cg->v2, &cg->mem, &cg->pids, &cg->cpu };

	for (size_t i = 0; i < 4; i++) {
		if (!*dirs[i])
			continue;
		if (rmdir(*dirs[i]) < 0 && errno != ENOENT) {
			snprintf(err, errlen, "cgroup: rmdir %s: %s", *dirs[i],
				 strerror(errno));
			return -1;
		}
		free(*dirs[i]);
		*dirs[i] = NULL;
	}
	return 0;
}

void cgroup_destroy(struct cgroup *cg)
{
	char **dirs[] = { &cg->v2, &cg->mem, &cg->pids, &cg->cpu };

	for (size_t i = 0; i < 4; i++) {
		if (*dirs[i])
			rmdir(*dirs[i]);
		free(*dirs[i]);
		*dirs[i] = NULL;
	}
}
