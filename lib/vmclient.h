/* vmclient.h: the host side of the vminit protocol (man/vminit.8), used by
 * vmexec and vmboot. A control connection sends requests and reads their
 * replies; each stdio stream of a process is a connection of its own.
 *
 * Addresses: "unix:PATH" reaches a vminit listening on a Unix socket (host
 * mode); "PATH" or "vsock:PATH" a VM through its vsock Unix socket in the
 * Firecracker convention ("CONNECT 1024\n", answered "OK ...\n").
 *
 * Running a process, as vmboot does:
 *	c = vmc_connect(addr) or vmc_adopt(fd, addr)	(guest-initiated)
 *	spec_load(&s, "config.json", ...)			(lib/spec.h)
 *	proto_init(&m, OP_CTR_CREATE, 0, 0); A_CTR, A_ROOTFS;
 *	spec_ctr_attrs(&s, &m); vmc_call(c, &m, ...)
 *	proto_init(&m, OP_PROC_CREATE, 0, 0); A_CTR; spec_proc_attrs(&s, &m);
 *	vmc_proc_create(c, &m, &io, &id)
 *	vmc_run(c, id, &io, &exit)	streams, start, relay, signals, wait
 */
#ifndef CZ_VMCLIENT_H
#define CZ_VMCLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct vmc;

/* A control connection, HELLO exchanged. NULL with err set. */
struct vmc *vmc_connect(const char *addr, char *err, size_t errlen);
/* A connection vminit opened to us (guest-initiated): reads its READY.
 * addr is how to reach vminit for stream connections. */
struct vmc *vmc_adopt(int fd, const char *addr, char *err, size_t errlen);
void vmc_close(struct vmc *c);
int vmc_fd(const struct vmc *c);

/* Sends req (its id is assigned here) and waits for its reply. 0 and the
 * reply in *reply (free() it; NULL allowed) or -1 with errno and err set
 * to vminit's message. */
int vmc_call(struct vmc *c, struct proto_msg *req, uint8_t **reply,
	     size_t *rlen, char *err, size_t errlen);
/* Sends without waiting; the reply is read and dropped by vmc_run. */
int vmc_send(struct vmc *c, struct proto_msg *req, char *err, size_t errlen);

/* Our side of a process's stdio: fds to relay (-1: none). With terminal,
 * stdin and stdout are used, stderr is merged by the pty. sigfd, if not
 * -1, is a signalfd: SIGWINCH resizes the terminal from fd[1], the rest
 * are sent to the process. */
struct vmc_io {
	int fd[STREAM_MAX];
	int terminal;
	uint32_t rows, cols;
	int sigfd;
	int pgroup;		/* signals go to the process group */
};

/* Completes and sends an OP_PROC_CREATE built by the caller (A_CTR and the
 * process attributes), adding the streams and terminal of io. */
int vmc_proc_create(struct vmc *c, struct proto_msg *req, const struct vmc_io *io,
		    uint32_t *id, char *err, size_t errlen);

struct vmc_exit {
	int code;		/* 0-255; 128+N when killed by signal N */
	int signal, core, oom;
	uint64_t time_ns;	/* CLOCK_REALTIME */
};
/* Opens the streams, starts the process, relays until it has exited and
 * its output ended. -1 with err when it could not start; *start_errno
 * then holds vminit's errno and exec_failed says the exec step failed. */
int vmc_run(struct vmc *c, uint32_t id, const struct vmc_io *io,
	    struct vmc_exit *ex, int *start_errno, char *err, size_t errlen);

int vmc_kill(struct vmc *c, uint32_t id, int sig, int pgroup, char *err,
	     size_t errlen);
int vmc_resize(struct vmc *c, uint32_t id, uint32_t rows, uint32_t cols,
	       char *err, size_t errlen);

/* Opens a connection and exchanges HELLO (stream >= 0: a process's
 * stream). Returns the fd, or -1 with err. */
int vmc_open(const char *addr, uint32_t proc, int stream, char *err, size_t errlen);

#endif
