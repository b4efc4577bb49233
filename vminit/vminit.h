/* vminit.h: the pieces of vminit and the state they share. */
#ifndef VMINIT_H
#define VMINIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto.h"

#define ERRLEN PROTO_MAX_ERRMSG

/* Event loop (main.c): an fd with a callback. */
struct watch {
	int fd;
	void (*cb)(struct watch *w, uint32_t events);
	void *owner;	/* the object it belongs to, for ev_free_later */
};
int ev_add(struct watch *w, uint32_t events);
int ev_mod(struct watch *w, uint32_t events);
void ev_del(struct watch *w);
/* Frees p after the current batch of events; its watches stay silent. */
void ev_free_later(void *p);
_Noreturn void vminit_shutdown(int rebooting, const char *why);
int vminit_host_mode(void);
/* Monotonic step log on stderr (the console), read by the benchmark. */
void tlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint64_t now_ns(int clock);
extern const char *run_dir;

/* cgroup.c: v2, or v1 memory and pids hierarchies where v2 lacks them. */
struct cgroup {
	char *v2;		/* the container's cgroup2 directory, or NULL */
	char *mem, *pids, *cpu;	/* v1 directories, or NULL */
};
struct cgroup_limits {
	uint64_t mem, pids, cpu_quota, cpu_period;	/* 0: none */
};
int cgroup_create(struct cgroup *cg, const char *id,
		  const struct cgroup_limits *l, char *err, size_t errlen);
/* Moves the calling process in; for a child between fork and exec. */
int cgroup_join(const struct cgroup *cg, char *err, size_t errlen);
uint64_t cgroup_oom_kills(const struct cgroup *cg);
struct proto_msg;
void cgroup_stats(const struct cgroup *cg, struct proto_msg *m);
void cgroup_destroy(struct cgroup *cg);
/* SIGKILL to every process in it (cgroup.kill where there is one). */
void cgroup_kill(const struct cgroup *cg);
/* 1 while any process is in it. */
int cgroup_populated(const struct cgroup *cg);
/* rmdir of each directory, gone ones forgotten; -1 naming the first
 * that would not go. */
int cgroup_remove(struct cgroup *cg, char *err, size_t errlen);

/* A process description, from OP_PROC_CREATE. */
struct rlim {
	uint32_t res;
	uint64_t soft, hard;
};
struct procspec {
	char **argv, **envp;	/* NULL-terminated */
	size_t argc, envc;
	char *cwd, *user;
	int has_uid;
	uint32_t uid, gid;
	uint32_t *groups;
	size_t ngroups;
	struct rlim *rlimits;
	size_t nrlimits;
	int has_caps;
	uint64_t cap_bnd, cap_eff, cap_prm, cap_inh, cap_amb;
	int nnp, terminal;
	uint32_t rows, cols, stdio;
};
void procspec_free(struct procspec *s);

/* A container: a mounted rootfs, a cgroup, and its namespaces once its
 * main process runs. */
struct ctr {
	struct ctr *next;
	char *id, *dir, *root;
	char *hostname;
	char **masked, **ropaths;
	size_t nmasked, nropaths;
	int has_resolv, has_hosts;
	struct cgroup cg;
	pid_t shim;		/* PID 1 of its namespace, 0 before start */
	struct proc *main;
	int deleting;		/* OP_CTR_DELETE pending: answered later */
	uint64_t del_conn, del_deadline;
	uint32_t del_req;
};
extern struct ctr *ctrs;
struct ctr *ctr_find(const char *id);
/* Unlinks and frees a container whose processes are all gone. */
void ctr_destroy(struct ctr *c);

/* delete.c: OP_CTR_DELETE kills every process of the container, waits
 * for them to be reaped (ctr_delete_poll, after each batch of events and
 * every DELETE_POLL_MS while one is pending), then unmounts and removes. */
#define DELETE_POLL_MS 20
struct req;
int ctr_delete(struct req *r);
/* 1 while a deletion waits for its processes to die. */
int ctr_delete_pending(void);
void ctr_delete_poll(void);

/* container.c: run in the first child, inside the new namespaces. */
int ctr_setup(struct ctr *c, char *err, size_t errlen);
/* The container's PID 1: reaps orphans, forwards signals to main, and
 * reports main's wait status on statusfd. Never returns. */
_Noreturn void ctr_shim(pid_t main, int statusfd, int ctlfd);
/* Joins the namespaces of a running container (a vmexec process). */
enum { NS_PID, NS_MNT, NS_UTS, NS_IPC, NS_ROOT, NS_MAX };
int ctr_enter(const int nsfd[NS_MAX], char *err, size_t errlen);
int ctr_open_ns(struct ctr *c, int nsfd[NS_MAX], char *err, size_t errlen);

/* relay.c: bytes from one fd to another without blocking PID 1, for a
 * pty master and its stream connections. Both fds are the relay's. */
struct relay;
struct relay *relay_new(int in, int out, int close_out_at_eof);
/* Stops reading; the buffered bytes still go out. */
void relay_stop(struct relay *r);
void relay_free(struct relay *r);

enum proc_state { P_CREATED, P_STARTING, P_RUNNING, P_EXITED };
struct waiter {
	uint64_t conn;
	uint32_t req;
};
struct proc {
	struct proc *next;
	uint32_t id;
	struct ctr *ctr;
	struct procspec spec;
	enum proc_state state;
	int main;		/* the container's main process */
	int stream[STREAM_MAX];	/* attached connections, -1 */
	pid_t pid;		/* what vminit waits for: the shim for main */
	pid_t leader;		/* main: its pid as the shim sees it */
	struct watch errw;	/* start errors and the pty master */
	char errbuf[ERRLEN];
	size_t errlen;
	int errnum;
	uint64_t start_conn;	/* the pending OP_PROC_START */
	uint32_t start_req;
	int statusfd, ctlfd;	/* main: from and to the shim */
	int master;		/* pty master, -1 */
	struct relay *rin, *rout;
	int start_done;		/* the start reply is sent */
	int waited;		/* an exit status was delivered */
	uint64_t oom_before;
	int wstatus, oom;
	uint64_t exit_time;
	struct waiter *waiters;
	size_t nwaiters, capwaiters;
};
extern struct proc *procs;
struct proc *proc_find(uint32_t id);

/* process.c */
struct req;
int proc_create(struct req *r);
int proc_start(struct req *r);
int proc_kill(struct req *r);
int proc_wait(struct req *r);
int proc_resize(struct req *r);
int proc_close_stdin(struct req *r);
/* A container's processes: how many are live, SIGKILL to them, and
 * freeing what is left once none is (waiters get ESRCH). */
int proc_ctr_live(const struct ctr *c);
void proc_ctr_kill(const struct ctr *c);
void proc_ctr_forget(struct ctr *c);
/* A reaped child; 0 when it was none of ours. */
int proc_reaped(pid_t pid, int wstatus);
/* A stdio connection announced itself: 0 and the fd is the process's. */
int proc_attach(uint32_t id, uint32_t stream, int fd, char *err, size_t errlen);
/* In the child: everything from stdio to execve. Returns on failure
 * with err set. */
void proc_exec(struct proc *p, int errsock, char *err, size_t errlen);

/* user.c: resolution against the container's /etc/passwd and /etc/group. */
struct ids {
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	size_t ngroups;
	char *home;
};
int user_resolve(const struct procspec *s, struct ids *out, char *err,
		 size_t errlen);

/* caps.c */
int caps_bounding(const struct procspec *s, char *err, size_t errlen);
int caps_apply(const struct procspec *s, char *err, size_t errlen);
/* rlimit.c */
int rlimits_apply(const struct procspec *s, char *err, size_t errlen);

/* mounts.c: the machine's own mounts, and helpers. */
int mounts_machine(char *err, size_t errlen);
/* Closes every fd from 3 up except those in keep. */
void close_except(const int *keep, size_t n);

/* server.c: connections and requests. */
struct conn;
struct req {
	struct conn *c;
	struct proto_hdr h;
	const uint8_t *msg;
	struct proto_msg reply;
	int errnum;
	char err[ERRLEN];
};
/* Sets an error on r: returns -1 for the handler to return. */
int req_fail(struct req *r, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
uint64_t conn_serial(const struct conn *c);
/* Sends on the connection with that serial, if it is still open. */
void conn_send_to(uint64_t serial, struct proto_msg *m);
void reply_error_to(uint64_t serial, uint16_t type, uint32_t id, int errnum,
		    const char *msg);
int server_listen(const char *addr, char *err, size_t errlen);
int server_connect(const char *addr, char *err, size_t errlen);
/* Handlers return 0 (reply OK with r->reply), -1 (reply the error), or
 * 1 (the handler answers later). */
int ctr_create(struct req *r);
int ops_dispatch(struct req *r);
/* net.c: NET_LINK, NET_ADDR, NET_ROUTE. */
int net_op(struct req *r);

#endif
