/* spec.h: an OCI runtime-spec config.json (config.md, config-linux.md) read
 * into the subset vminit runs, and written out as the attributes of
 * OP_CTR_CREATE and OP_PROC_CREATE (man/vminit.8). The file is untrusted:
 * sizes and counts are capped, and an error names the field at fault.
 * Host side only (yajl); vminit itself never sees JSON.
 *
 *	struct spec s;
 *	spec_load(&s, "ctr/config.json", err, sizeof err);
 *	...override fields from the command line (spec_setenv, ...)...
 *	spec_ctr_attrs(&s, &ctr_msg); spec_proc_attrs(&s, &proc_msg);
 *	spec_free(&s);
 */
#ifndef CZ_SPEC_H
#define CZ_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define SPEC_MAX_SIZE (1u << 20)	/* config.json itself */
#define SPEC_MAX_ARGS 4096		/* args, env: vminit's own limit */
#define SPEC_MAX_STR 4096		/* one arg, env entry, path */
#define SPEC_MAX_GROUPS 256		/* additionalGids */
#define SPEC_MAX_RLIMITS 64
#define SPEC_MAX_PATHS 128		/* maskedPaths, readonlyPaths */
#define SPEC_MAX_HOSTNAME 64		/* HOST_NAME_MAX */
#define SPEC_ARCH_ANNOTATION "org.opencontainers.image.architecture"

enum { SPEC_CAP_BOUNDING, SPEC_CAP_EFFECTIVE, SPEC_CAP_PERMITTED,
       SPEC_CAP_INHERITABLE, SPEC_CAP_AMBIENT, SPEC_CAP_SETS };

struct spec_rlimit {
	uint32_t res;			/* RLIMIT_* */
	uint64_t soft, hard;
};

/* What vminit takes from a config.json. Lists are NULL-terminated;
 * strings and lists are owned by the spec. */
struct spec {
	/* process */
	char **args, **env;
	size_t nargs, nenv;
	char *cwd;
	char *user;			/* A_USER: name, uid, name:group, uid:gid */
	int has_uid;
	uint32_t uid, gid;
	uint32_t *groups;
	size_t ngroups;
	struct spec_rlimit *rlimits;
	size_t nrlimits;
	int has_caps;
	uint64_t caps[SPEC_CAP_SETS];
	int nnp, terminal;
	/* container */
	char *root;			/* root.path, resolved against the bundle */
	int readonly;
	char *hostname;
	uint64_t mem, pids, cpu_quota, cpu_period;	/* 0: no limit */
	char **masked, **ropaths;
	size_t nmasked, nropaths;
	int has_masked, has_ropaths;	/* given, maybe empty */
	/* The image's architecture, from the annotation that oci-unpack
	 * --bundle copies from the image config (image-spec conversion.md);
	 * NULL when not said. vmboot picks an interpreter by it. */
	char *arch;
};

/* An empty spec: every field unset, vminit's defaults apply. */
void spec_init(struct spec *s);
/* Reads and checks path. -1 with err ("config.json: process.args: not an
 * array of strings"); s is then empty. */
int spec_load(struct spec *s, const char *path, char *err, size_t errlen);
/* The same from a NUL-terminated buffer; name prefixes errors, and
 * root.path is resolved against dir (NULL: left as it is). */
int spec_parse(struct spec *s, const char *buf, size_t len, const char *name,
	       const char *dir, char *err, size_t errlen);
void spec_free(struct spec *s);

/* Overrides, for command-line options. */
void spec_set_args(struct spec *s, char *const *argv, size_t n);
/* Adds "K=V", replacing an entry for K. */
void spec_setenv(struct spec *s, const char *kv);
/* A user string replaces the numeric user and the additional groups. */
void spec_set_user(struct spec *s, const char *user);
/* Adds an rlimit, replacing one for the same resource. */
void spec_set_rlimit(struct spec *s, uint32_t res, uint64_t soft, uint64_t hard);

/* Names to numbers: RLIMIT_NOFILE, CAP_KILL. -1 when unknown. */
int spec_rlimit_res(const char *name);
int spec_cap_num(const char *name);

/* Appends the attributes to a message started by proto_init. */
void spec_ctr_attrs(const struct spec *s, struct proto_msg *m);
void spec_proc_attrs(const struct spec *s, struct proto_msg *m);

#endif
