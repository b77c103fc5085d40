/* handler_env: what the handler tests (test_dispatch.c, test_h_uploads.c)
 * run requests against: a registry over a fake store (fake_store.h, standing
 * in for Kubo), a fake edge (fake_edge.h), and a statedir in a fresh
 * temporary directory that is removed again at the end.
 *
 * Check's fixtures take no arguments and each test runs in a process of its
 * own, so there is one environment, henv, made by handler_env_setup and
 * removed by handler_env_teardown (use them as a checked fixture). */
#ifndef TESTS_UNIT_HANDLER_ENV_H
#define TESTS_UNIT_HANDLER_ENV_H
#include <stddef.h>
#include "core/registry/registry.h"
#include "tests/unit/fake_edge.h"
#include "tests/unit/fake_store.h"

struct handler_env {
    struct fake_store store;
    struct registry reg;     /* tests change reg.opts and reg.layout_store directly */
    struct fake_edge edge;   /* tests add request parameters here */
    char statedir[64];
};

extern struct handler_env henv;

/* A registry with an empty fake store, sessions that expire after an hour
 * and a new temporary statedir. */
void handler_env_setup(void);
/* Frees the store and removes the statedir with every upload session in it. */
void handler_env_teardown(void);

/* Runs one request with body (NULL: none) and its Content-Length; returns
 * the whole response (caller frees). Every answer must carry the API
 * version header, whatever it is: this asserts it. */
char *handler_env_run(const char *method, const char *uri, const char *body);
/* The same with body bytes [0, len) and content_length as the edge would
 * give it (NULL: absent, the body is read to its end). */
char *handler_env_send(const char *method, const char *uri, const char *body, size_t len,
                       const char *content_length);
/* handler_env_run, asserting the answer's status and, for an error, the
 * spec's code at the start of the JSON body (which a HEAD never has; code
 * NULL: no error expected). Returns the response (caller frees). */
char *handler_env_expect(const char *method, const char *uri, const char *body, int status,
                         const char *code);
/* handler_env_expect for a request whose status (and code) is all there is to check. */
void handler_env_check(const char *method, const char *uri, const char *body, int status,
                       const char *code);
/* Session files in <statedir>/uploads: two per session, .json and .lock
 * (not the .staged mark some have). */
int handler_env_session_files(void);

#endif
