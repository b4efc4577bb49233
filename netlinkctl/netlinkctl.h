/* netlinkctl.h: what the files of netlinkctl share. */
#ifndef NETLINKCTL_H
#define NETLINKCTL_H

#include "netlink.h"

#include <stdio.h>
#include <yajl/yajl_gen.h>

struct ctx {
	struct nl nl;
	int json;
	int family;		/* AF_UNSPEC unless -4 or -6 */
	const char *what;	/* the command, for messages: "addr add ..." */
};

/* main.c */
_Noreturn void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Reports the failed netlink operation (ret is -errno) and exits 1. */
_Noreturn void fail(struct ctx *c, int ret);
int dev_index(struct ctx *c, const char *name);
/* ADDR[/PLEN]; a missing length is the whole address. 0, or -1. */
int parse_prefix(const char *s, int *family, unsigned char addr[16], int *plen);
int parse_u32(const char *s, uint32_t *v);
const char *fmt_inaddr(int family, const void *a, char *buf, size_t len);

/* json.c: yajl output that dies on a generator error, which is a bug. */
void j_check(yajl_gen_status s);
void j_key(yajl_gen g, const char *key);
void j_bool(yajl_gen g, const char *key, int v);
void j_null(yajl_gen g, const char *key);
void j_flush(yajl_gen g);

/* link.c */
int cmd_link(struct ctx *c, int argc, char **argv);
const char *link_name(const struct nl_link *links, size_t n, int ifindex, char buf[IFNAMSIZ + 8]);
/* A link's own fields: members of an open JSON map, or text lines. */
void link_json(yajl_gen g, const struct nl_link *l, const struct nl_link *all, size_t n);
void link_text(FILE *f, const struct nl_link *l, const struct nl_link *all, size_t n);
void list_links(struct ctx *c, struct nl_link **links, size_t *n);

/* addr.c, route.c, tap.c */
int cmd_addr(struct ctx *c, int argc, char **argv);
int cmd_route(struct ctx *c, int argc, char **argv);
int tap_add(struct ctx *c, const char *name, int argc, char **argv);

#endif
