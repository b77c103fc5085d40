/* upstream_auth: what an upstream registry says about authentication, as
 * real registries say it (the distribution token spec): the challenge in
 * a 401's WWW-Authenticate, and the token endpoint's answer. Pure: no I/O,
 * unit-tested and fuzzed, since both come from the network. */
#ifndef OCI_UPSTREAM_AUTH_H
#define OCI_UPSTREAM_AUTH_H
#include <stddef.h>

enum upstream_scheme { UPSTREAM_AUTH_NONE = 0, UPSTREAM_AUTH_BASIC, UPSTREAM_AUTH_BEARER };

struct upstream_challenge {
    enum upstream_scheme scheme;
    char *realm;     /* owned; Bearer: the token endpoint URL */
    char *service;   /* owned; may be NULL */
    char *scope;     /* owned; may be NULL */
};

/* Parses a WWW-Authenticate value (one or several challenges, auth-params
 * as token or quoted-string, names case-insensitive). Bearer wins over
 * Basic when both are offered. 0 with *out filled (free it), or -1 when
 * no challenge of a known scheme is there (or a Bearer one has no realm,
 * or a parameter is over 2 KiB). */
int upstream_challenge_parse(const char *header, struct upstream_challenge *out);
void upstream_challenge_free(struct upstream_challenge *c);

/* The token endpoint's JSON: "token", else "access_token"; "expires_in"
 * seconds (default 60, at least 1). 0 with *token (caller frees), or -1
 * with *err (caller frees). */
int upstream_token_parse(const char *json, size_t len, char **token, long *expires_in, char **err);

#endif
