/* json.h: parsing untrusted JSON into a yajl tree, with limits, and
 * type-checked lookups that return NULL rather than guess. */
#ifndef CZ_JSON_H
#define CZ_JSON_H

#include <stddef.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

/* Deeper documents are refused: yajl frees trees recursively. */
#define JSON_MAX_DEPTH 64

/* Parses len bytes (buf must be NUL-terminated at len). On error returns
 * NULL and writes a reason into err. */
yajl_val json_parse(const char *buf, size_t len, char *err, size_t errlen);
void json_free(yajl_val v);

yajl_val json_get(yajl_val obj, const char *key);
const char *json_get_str(yajl_val obj, const char *key);
yajl_val json_get_obj(yajl_val obj, const char *key);
yajl_val json_get_arr(yajl_val obj, const char *key);
/* 0 and *out on an integer member, else -1. */
int json_get_int(yajl_val obj, const char *key, long long *out);
size_t json_arr_len(yajl_val arr);
yajl_val json_arr_at(yajl_val arr, size_t i);

/* Generator helpers: they die on a generator error, which is a bug. */
yajl_gen json_gen_new(int pretty);
void json_gen_str(yajl_gen g, const char *s);
void json_gen_kv(yajl_gen g, const char *key, const char *val);
void json_gen_kint(yajl_gen g, const char *key, long long val);
/* Copies a parsed value into a generator unchanged. */
void json_gen_value(yajl_gen g, yajl_val v);

#endif
