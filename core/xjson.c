/* xjson: see xjson.h. */
#include <string.h>
#include "core/xalloc.h"
#include "core/xjson.h"

static json_object *xjson_check(json_object *o, size_t n)
{
    if (!o)
        xalloc_die("json-c object", n);
    return o;
}

json_object *xjson_object(void) { return xjson_check(json_object_new_object(), 0); }
json_object *xjson_array(void) { return xjson_check(json_object_new_array(), 0); }
json_object *xjson_string(const char *s) { return xjson_check(json_object_new_string(s), strlen(s)); }
json_object *xjson_int(int32_t v) { return xjson_check(json_object_new_int(v), sizeof v); }
json_object *xjson_int64(int64_t v) { return xjson_check(json_object_new_int64(v), sizeof v); }
json_object *xjson_uint64(uint64_t v) { return xjson_check(json_object_new_uint64(v), sizeof v); }
json_object *xjson_bool(int v) { return xjson_check(json_object_new_boolean(v), sizeof v); }

void xjson_set(json_object *obj, const char *key, json_object *val)
{
    if (json_object_object_add(obj, key, val) != 0)
        xalloc_die("json-c object member", strlen(key));
}

void xjson_push(json_object *arr, json_object *val)
{
    if (json_object_array_add(arr, val) != 0)
        xalloc_die("json-c array element", sizeof val);
}
