/* user.c: "name", "uid", "name:group" or "uid:gid" to ids, read from the
 * container's own /etc/passwd and /etc/group (we are inside its root). */
#include "vminit.h"
#include "fsutil.h"
#include "xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DB_MAX (4u << 20)
#define MAX_GROUPS 256

/* The colon-separated fields of a line, in place. */
static size_t fields(char *line, char **f, size_t max)
{
	size_t n = 0;

	while (n < max) {
		f[n++] = line;
		if (!(line = strchr(line, ':')))
			break;
		*line++ = '\0';
	}
	return n;
}

static int numeric(const char *s, unsigned long *v)
{
	char *end;

	if (!*s || *s < '0' || *s > '9')
		return 0;
	errno = 0;
	*v = strtoul(s, &end, 10);
	return !*end && errno == 0 && *v <= 0xfffffffful;
}

/* The passwd entry matching name (or uid when name is NULL). */
static int find_passwd(const char *name, unsigned long uid, struct ids *out,
		       char **pname)
{
	char *buf, *line, *save, *f[7];
	int found = 0;
	unsigned long v;

	if (read_file("/etc/passwd", DB_MAX, &buf, NULL) < 0)
		return 0;
	for (line = strtok_r(buf, "\n", &save); line && !found;
	     line = strtok_r(NULL, "\n", &save)) {
		if (fields(line, f, 7) < 7 || !numeric(f[2], &v))
			continue;
		if (name ? strcmp(f[0], name) != 0 : v != uid)
			continue;
		out->uid = (uid_t)v;
		out->gid = numeric(f[3], &v) ? (gid_t)v : 0;
		out->home = xstrdup(f[5]);
		*pname = xstrdup(f[0]);
		found = 1;
	}
	free(buf);
	return found;
}

/* A group by name into *gid, and every group listing user into ids. */
static int scan_groups(const char *gname, gid_t *gid, const char *user,
		       struct ids *ids)
{
	char *buf, *line, *save, *f[4], *m, *msave;
	int found = 0;
	unsigned long v;

	if (read_file("/etc/group", DB_MAX, &buf, NULL) < 0)
		return 0;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (fields(line, f, 4) < 4 || !numeric(f[2], &v))
			continue;
		if (gname && strcmp(f[0], gname) == 0 && !found)
			*gid = (gid_t)v, found = 1;
		if (!user)
			continue;
		for (m = strtok_r(f[3], ",", &msave); m; m = strtok_r(NULL, ",", &msave))
			if (strcmp(m, user) == 0 && ids->ngroups < MAX_GROUPS)
				ids->groups[ids->ngroups++] = (gid_t)v;
	}
	free(buf);
	return found;
}

int user_resolve(const struct procspec *s, struct ids *out, char *err,
		 size_t errlen)
{
	char *spec, *group, *pname = NULL;
	unsigned long v;
	int rc = -1;

	out->groups = xcalloc(MAX_GROUPS + s->ngroups, sizeof *out->groups);
	for (size_t i = 0; i < s->ngroups; i++)
		out->groups[out->ngroups++] = s->groups[i];
	if (!s->user) {
		/* Numeric ids from the spec: the passwd entry gives only HOME. */
		struct ids tmp = { 0 };
		out->uid = s->has_uid ? s->uid : 0;
		out->gid = s->has_uid ? s->gid : 0;
		if (find_passwd(NULL, out->uid, &tmp, &pname))
			out->home = tmp.home;
		free(pname);
		return 0;
	}
	spec = xstrdup(s->user);
	if ((group = strchr(spec, ':')))
		*group++ = '\0';
	if (numeric(spec, &v)) {
		out->uid = (uid_t)v;
		out->gid = 0;
		find_passwd(NULL, v, out, &pname);
	} else if (!find_passwd(spec, 0, out, &pname)) {
		snprintf(err, errlen, "user %s: no such user in /etc/passwd", spec);
		goto out;
	}
	if (group && numeric(group, &v)) {
		out->gid = (gid_t)v;
		group = NULL;
	}
	if (!scan_groups(group, &out->gid, pname, out) && group) {
		snprintf(err, errlen, "group %s: no such group in /etc/group", group);
		goto out;
	}
	rc = 0;
out:
	free(pname);
	free(spec);
	return rc;
}
