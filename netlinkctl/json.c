/* json.c: yajl output helpers for the show commands (ip -j's shape). */
#include "err.h"
#include "json.h"
#include "netlinkctl.h"

#include <string.h>

void j_check(yajl_gen_status s)
{
	if (s != yajl_gen_status_ok)
		die("json generator error %d", (int)s);
}

void j_key(yajl_gen g, const char *key)
{
	json_gen_str(g, key);
}

void j_bool(yajl_gen g, const char *key, int v)
{
	json_gen_str(g, key);
	j_check(yajl_gen_bool(g, v));
}

void j_null(yajl_gen g, const char *key)
{
	json_gen_str(g, key);
	j_check(yajl_gen_null(g));
}

/* Writes the document to stdout, one line, as ip -j does. */
void j_flush(yajl_gen g)
{
	const unsigned char *buf;
	size_t len;

	j_check(yajl_gen_get_buf(g, &buf, &len));
	if (fwrite(buf, 1, len, stdout) != len || putchar('\n') == EOF || fflush(stdout) == EOF)
		die("stdout:");
	yajl_gen_free(g);
}
