/* proto.h: the vminit wire protocol codec, shared by vminit (musl) and the
 * host tools. A message is a 12-byte header and a run of attributes shaped
 * as netlink attributes. Full description: man/vminit.8, PROTOCOL. */
#ifndef CZ_PROTO_H
#define CZ_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define PROTO_VERSION 1
/* No message may be larger; a peer announcing more is dropped. */
#define PROTO_MAX_MSG (1u << 20)
#define PROTO_HDR_LEN 12u
#define PROTO_ATTR_HDR_LEN 4u
/* The largest attribute payload (16-bit length, 4-byte header). */
#define PROTO_MAX_ATTR (0xffffu - PROTO_ATTR_HDR_LEN)
#define PROTO_ALIGN(n) (((n) + 3u) & ~(size_t)3u)
/* Nesting deeper than this is refused by proto_validate. */
#define PROTO_MAX_DEPTH 4
/* Error messages are cut to this many bytes. */
#define PROTO_MAX_ERRMSG 1024
/* vminit listens on this vsock port; the host's default port is the same. */
#define PROTO_VSOCK_PORT 1024

/* Message header; integers little-endian (PROTOCOL in vminit.8). */
struct proto_hdr {
	uint32_t len;		/* whole message, header included */
	uint8_t version;	/* PROTO_VERSION */
	uint8_t flags;		/* PROTO_F_* */
	uint16_t type;		/* enum proto_op */
	uint32_t id;		/* request id, echoed in the reply */
};

enum {
	PROTO_F_REPLY = 1,	/* an answer to the request with the same id */
	PROTO_F_ERROR = 2,	/* with REPLY: failed; A_ERRNO and A_ERRMSG */
	PROTO_F_EVENT = 4,	/* unsolicited, from vminit */
};

enum proto_op {
	OP_HELLO = 1,		/* first message of every connection */
	OP_READY,		/* event: vminit is up (guest-initiated link) */
	OP_CTR_CREATE,		/* mount a rootfs, make a cgroup */
	OP_PROC_CREATE,		/* describe a process; reply A_PROC */
	OP_PROC_START,		/* start it once its streams are attached */
	OP_KILL,
	OP_WAIT,		/* answered when the process has exited */
	OP_RESIZE,
	OP_CLOSE_STDIN,
	OP_MOUNT,
	OP_NET_LINK,
	OP_NET_ADDR,
	OP_NET_ROUTE,
	OP_DNS,
	OP_HOSTS,
	OP_HOSTNAME,
	OP_SYSCTL,
	OP_SET_TIME,
	OP_WRITE_FILE,
	OP_BINFMT,
	OP_STATS,
	OP_SHUTDOWN,
	OP_CTR_DELETE,		/* kill its processes, unmount, remove cgroup */
	OP_MAX
};

/* Attribute types: one number space for every operation. */
enum proto_attr_type {
	A_VERSION = 1,		/* u32 */
	A_ERRNO,		/* u32 */
	A_ERRMSG,		/* string */
	A_CTR,			/* string: container id */
	A_PROC,			/* u32: process id assigned by vminit */
	A_STREAM,		/* u32: 0 stdin, 1 stdout, 2 stderr */
	A_ARG,			/* string, repeated in order */
	A_ENV,			/* string "K=V", repeated */
	A_CWD,			/* string */
	A_USER,			/* string: name, uid, name:group or uid:gid */
	A_UID,			/* u32 */
	A_GID,			/* u32 */
	A_GROUP,		/* u32, repeated: additional groups */
	A_RLIMIT,		/* nested: A_RLIMIT_RES, A_RLIMIT_SOFT, A_RLIMIT_HARD */
	A_RLIMIT_RES,		/* u32: RLIMIT_* number */
	A_RLIMIT_SOFT,		/* u64 */
	A_RLIMIT_HARD,		/* u64 */
	A_CAP_BOUNDING,		/* u64 masks of CAP_* bits */
	A_CAP_EFFECTIVE,
	A_CAP_PERMITTED,
	A_CAP_INHERITABLE,
	A_CAP_AMBIENT,
	A_NO_NEW_PRIVS,		/* flag (empty) */
	A_TERMINAL,		/* flag */
	A_ROWS,			/* u32 */
	A_COLS,			/* u32 */
	A_STDIO,		/* u32 mask: 1 stdin, 2 stdout, 4 stderr */
	A_ROOTFS,		/* string: block device of the rootfs */
	A_FSTYPE,		/* string */
	A_READONLY,		/* flag */
	A_HOSTNAME,		/* string */
	A_RESOLV_CONF,		/* string: whole file */
	A_HOSTS,		/* string: whole file */
	A_MEM_LIMIT,		/* u64 bytes */
	A_PIDS_LIMIT,		/* u64 */
	A_CPU_QUOTA,		/* u64 microseconds per period */
	A_CPU_PERIOD,		/* u64 microseconds */
	A_MASKED,		/* string, repeated: paths hidden in the container */
	A_RO_PATH,		/* string, repeated: paths made read-only */
	A_SIGNAL,		/* u32 */
	A_PGROUP,		/* flag: signal the process group */
	A_EXIT_CODE,		/* u32: 0-255, 128+N when killed by signal N */
	A_EXIT_SIGNAL,		/* u32: the signal that killed it */
	A_CORE,			/* flag: it dumped core */
	A_EXIT_TIME,		/* u64: CLOCK_REALTIME nanoseconds */
	A_OOM,			/* flag: the kernel's OOM killer ended it */
	A_SOURCE,		/* string */
	A_TARGET,		/* string */
	A_MOUNT_FLAGS,		/* u64 MS_* */
	A_DATA,			/* string: mount data */
	A_KEY,			/* string: sysctl name, dots or slashes */
	A_VALUE,		/* string */
	A_TIME,			/* u64: CLOCK_REALTIME nanoseconds */
	A_PATH,			/* string */
	A_CONTENT,		/* bytes */
	A_MODE,			/* u32 */
	A_BINFMT,		/* string: a binfmt_misc register line */
	A_STAT_MEM,		/* u64 bytes in use */
	A_STAT_PIDS,		/* u64 */
	A_STAT_CPU_USEC,	/* u64 */
	A_STAT_OOM_KILLS,	/* u64 */
	A_REBOOT,		/* flag: reboot instead of power off */
	A_REASON,		/* string */
	A_IFNAME,		/* string */
	A_ADDR,			/* string: address/prefix */
	A_GATEWAY,		/* string */
	A_MTU,			/* u32 */
	A_UP,			/* flag */
	A_NAMESERVER,		/* string, repeated */
	A_SEARCH,		/* string, repeated */
	A_PID,			/* u32: pid in vminit's namespace */
	A_MONO_NS,		/* u64: CLOCK_MONOTONIC nanoseconds */
	A_STEP,			/* string */
	A_NO_MASKED,		/* flag: no masked paths, not the defaults */
	A_NO_RO_PATHS,		/* flag: no read-only paths, not the defaults */
	A_MAX
};

/* Process streams. */
enum { STREAM_STDIN, STREAM_STDOUT, STREAM_STDERR, STREAM_MAX };

/* A message being built; the buffer grows as attributes are added. */
struct proto_msg {
	uint8_t *buf;
	size_t len, cap;
};

void proto_init(struct proto_msg *m, uint16_t type, uint8_t flags, uint32_t id);
void proto_put(struct proto_msg *m, uint16_t type, const void *data, size_t len);
void proto_put_u32(struct proto_msg *m, uint16_t type, uint32_t v);
void proto_put_u64(struct proto_msg *m, uint16_t type, uint64_t v);
void proto_put_str(struct proto_msg *m, uint16_t type, const char *s);
void proto_put_flag(struct proto_msg *m, uint16_t type);
/* Opens a nested attribute; returns its offset for proto_nest_end. */
size_t proto_nest_start(struct proto_msg *m, uint16_t type);
void proto_nest_end(struct proto_msg *m, size_t off);
/* Writes the final length into the header; returns the message length,
 * or 0 when it would exceed PROTO_MAX_MSG. */
size_t proto_finish(struct proto_msg *m);
void proto_free(struct proto_msg *m);
/* An error reply: errno and a message. */
void proto_error(struct proto_msg *m, uint16_t type, uint32_t id, int err,
		 const char *msg);

/* Decodes the header of buf; -1 with a reason when it is malformed, the
 * announced length is out of bounds, or the version is not ours. */
int proto_hdr_decode(const uint8_t *buf, size_t len, struct proto_hdr *h,
		     const char **why);

/* Walks a run of attributes. */
struct proto_attr {
	uint16_t type;
	int nested;
	const uint8_t *data;
	size_t len;
};
struct proto_iter {
	const uint8_t *p, *end;
};
void proto_iter_init(struct proto_iter *it, const void *data, size_t len);
/* The attributes of a message body (after the header). */
void proto_iter_msg(struct proto_iter *it, const uint8_t *msg, size_t len);
/* 1 with the next attribute, 0 at the end, -1 when malformed. */
int proto_next(struct proto_iter *it, struct proto_attr *a);
/* 0 when every attribute (nested too) is well formed, else -1. */
int proto_validate(const void *data, size_t len);

/* Typed getters: -1 when the payload has the wrong size or shape. */
int proto_get_u32(const struct proto_attr *a, uint32_t *v);
int proto_get_u64(const struct proto_attr *a, uint64_t *v);
/* The string, or NULL when it is not NUL-terminated or holds a NUL. */
const char *proto_get_str(const struct proto_attr *a);

const char *proto_op_name(unsigned op);

#endif
