/* json.c: see json.h. */
#include "json.h"
#include "err.h"

#include <stdio.h>
#include <string.h>

static int depth_ok(const char *s, size_t len)
{
	int depth = 0, in_str = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		char c = s[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
		} else if (c == '"') {
			in_str = 1;
		} else if (c == '[' || c == '{') {
			if (++depth > JSON_MAX_DEPTH)
				return 0;
		} else if (c == ']' || c == '}') {
			depth--;
		}
	}
	return 1;
}

yajl_val json_parse(const char *buf, size_t len, char *err, size_t errlen)
{
	yajl_val v;
	char *nl;

	if (strlen(buf) != len) {
		snprintf(err, errlen, "NUL byte inside JSON");
		return NULL;
	}
	if (!depth_ok(buf, len)) {
		snprintf(err, errlen, "JSON nested deeper than %d levels",
			 JSON_MAX_DEPTH);
		return NULL;
	}
	err[0] = '\0';
	v = yajl_tree_parse(buf, err, errlen);
	if (!v) {
		if (!err[0])
			snprintf(err, errlen, "malformed JSON");
		/* yajl's message spans lines; the first says what. */
		if ((nl = strchr(err, '\n')))
			*nl = '\0';
	}
	return v;
}

void json_free(yajl_val v)
{
	yajl_tree_free(v);
}

yajl_val json_get(yajl_val obj, const char *key)
{
	size_t i;

	if (!YAJL_IS_OBJECT(obj))
		return NULL;
	for (i = 0; i < obj->u.object.len; i++)
		if (!strcmp(obj->u.object.keys[i], key))
			return obj->u.object.values[i];
	return NULL;
}

const char *json_get_str(yajl_val obj, const char *key)
{
	yajl_val v = json_get(obj, key);
	return YAJL_IS_STRING(v) ? v->u.string : NULL;
}

yajl_val json_get_obj(yajl_val obj, const char *key)
{
	yajl_val v = json_get(obj, key);
	return YAJL_IS_OBJECT(v) ? v : NULL;
}

yajl_val json_get_arr(yajl_val obj, const char *key)
{
	yajl_val v = json_get(obj, key);
	return YAJL_IS_ARRAY(v) ? v : NULL;
}

int json_get_int(yajl_val obj, const char *key, long long *out)
{
	yajl_val v = json_get(obj, key);

	if (!YAJL_IS_INTEGER(v))
		return -1;
	*out = YAJL_GET_INTEGER(v);
	return 0;
}

size_t json_arr_len(yajl_val arr)
{
	return YAJL_IS_ARRAY(arr) ? arr->u.array.len : 0;
}

yajl_val json_arr_at(yajl_val arr, size_t i)
{
	return i < json_arr_len(arr) ? arr->u.array.values[i] : NULL;
}

static void check(yajl_gen_status st)
{
	if (st != yajl_gen_status_ok)
		die("JSON generator error %d", (int)st);
}

yajl_gen json_gen_new(int pretty)
{
	yajl_gen g = yajl_gen_alloc(NULL);

	if (!g)
		die("out of memory");
	yajl_gen_config(g, yajl_gen_beautify, pretty);
	yajl_gen_config(g, yajl_gen_validate_utf8, 1);
	return g;
}

void json_gen_str(yajl_gen g, const char *s)
{
	check(yajl_gen_string(g, (const unsigned char *)s, strlen(s)));
}

void json_gen_kv(yajl_gen g, const char *key, const char *val)
{
	json_gen_str(g, key);
	json_gen_str(g, val);
}

void json_gen_kint(yajl_gen g, const char *key, long long val)
{
	json_gen_str(g, key);
	check(yajl_gen_integer(g, val));
}

void json_gen_value(yajl_gen g, yajl_val v)
{
	size_t i;

	if (YAJL_IS_STRING(v)) {
		json_gen_str(g, v->u.string);
	} else if (YAJL_IS_NUMBER(v)) {
		const char *r = v->u.number.r;
		check(yajl_gen_number(g, r, strlen(r)));
	} else if (YAJL_IS_OBJECT(v)) {
		check(yajl_gen_map_open(g));
		for (i = 0; i < v->u.object.len; i++) {
			json_gen_str(g, v->u.object.keys[i]);
			json_gen_value(g, v->u.object.values[i]);
		}
		check(yajl_gen_map_close(g));
	} else if (YAJL_IS_ARRAY(v)) {
		check(yajl_gen_array_open(g));
		for (i = 0; i < v->u.array.len; i++)
			json_gen_value(g, v->u.array.values[i]);
		check(yajl_gen_array_close(g));
	} else if (YAJL_IS_TRUE(v)) {
		check(yajl_gen_bool(g, 1));
	} else if (YAJL_IS_FALSE(v)) {
		check(yajl_gen_bool(g, 0));
	} else {
		check(yajl_gen_null(g));
	}
}
