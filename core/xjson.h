/* xjson: json-c's constructors and adders, aborting on out-of-memory like
 * core/xalloc.h does, so a value never silently goes missing from a
 * document (json-c returns NULL, or -1 from an add, and adding NULL
 * yields a JSON null). Each returns the new object, owned by the caller
 * until added to another; xjson_set/xjson_push take val over. */
#ifndef CORE_XJSON_H
#define CORE_XJSON_H
#include <stdint.h>
#include <json-c/json.h>

json_object *xjson_object(void);
json_object *xjson_array(void);
json_object *xjson_string(const char *s);
json_object *xjson_int(int32_t v);
json_object *xjson_int64(int64_t v);
json_object *xjson_uint64(uint64_t v);
json_object *xjson_bool(int v);
/* obj[key] = val (val may be NULL: a JSON null, on purpose). */
void xjson_set(json_object *obj, const char *key, json_object *val);
/* Appends val to the array arr. */
void xjson_push(json_object *arr, json_object *val);

#endif
