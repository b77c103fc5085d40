/* query: the raw query string of REQUEST_URI. Values are percent-decoded;
 * unknown parameters are ignored by callers (containerd adds ?ns=). */
#ifndef CORE_QUERY_H
#define CORE_QUERY_H
#include <stddef.h>

/* First value of key, percent-decoded ('+' stays '+'), as a new string the
 * caller frees; NULL if absent. A key present without '=' gives "". */
char *query_get(const char *query, const char *key);
/* Every value of key, in order; *n set; caller frees with strv_free(v, n). */
char **query_get_all(const char *query, const char *key, size_t *n);
/* Percent-decode s[0..len) into a new string; NULL if an escape is malformed
 * or decodes to NUL. */
char *pct_decode(const char *s, size_t len);
/* Percent-encode for use in a query value (RFC 3986 unreserved kept). Caller frees. */
char *pct_encode(const char *s);

#endif
