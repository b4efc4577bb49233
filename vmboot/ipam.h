/* ipam.h: IPv4 addresses for VMs on a bridge, handed out from the bridge's
 * subnet. The leases live in one text file per bridge and subnet (so a
 * bridge re-made with another subnet starts afresh), one line each,
 *     ADDR PID STARTTIME
 * (STARTTIME: field 22 of /proc/PID/stat, so a reused pid is not taken for
 * the holder), rewritten in place under flock(LOCK_EX): concurrent vmboot
 * starts serialize on it. A lease whose process is gone is free again, so
 * a VM killed with SIGKILL gives its address back by itself; the file is
 * removed when its last lease is released.
 * Addresses are in host byte order. */
#ifndef VMBOOT_IPAM_H
#define VMBOOT_IPAM_H

#include <stdint.h>
#include <sys/types.h>

/* The state directory; CZ_IPAM_DIR overrides it (tests). */
#define IPAM_DIR	"/run/cz/ipam"
/* Leases kept per file; a /16 is more than any bridge here holds. */
#define IPAM_MAX_LEASES	65536

/* Leases the lowest free address of net/plen (plen 1..30) to pid, never
 * the network, broadcast or self (the bridge's own address, 0: none).
 * 0 and *addr, -ENOSPC when every address is leased to a live process,
 * -EINVAL for a bad subnet, or -errno of the state file. */
int ipam_alloc(const char *path, uint32_t net, int plen, uint32_t self,
    pid_t pid, uint32_t *addr);
/* Records addr (chosen by the user) as leased to pid, so that the
 * allocator skips it: -EADDRINUSE when a live process other than pid holds
 * it. */
int ipam_claim(const char *path, uint32_t addr, pid_t pid);
/* Drops pid's lease of addr, if it holds one. */
int ipam_release(const char *path, uint32_t addr, pid_t pid);
/* The state file of bridge br and subnet net/plen under dir (NULL:
 * CZ_IPAM_DIR or IPAM_DIR), DIR/BR-NET-PLEN, whose directories are made:
 * 0, or -errno (-EINVAL for a bad name). */
int ipam_path(const char *dir, const char *br, uint32_t net, int plen,
    char *path, size_t len);
/* Field 22 of /proc/pid/stat, or 0 when the process is gone. */
unsigned long long ipam_pid_start(pid_t pid);

#endif
