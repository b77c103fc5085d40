/* fake_edge: the in-memory edge the handler tests run requests through (see
 * fake_edge.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <check.h>
#include "tests/unit/fake_edge.h"
#include "core/xalloc.h"

#define FAKE_EDGE_OUT_MAX (16u * 1024 * 1024)

void fake_edge_init(struct fake_edge *e)
{
    memset(e, 0, sizeof *e);
    buf_init(&e->out, FAKE_EDGE_OUT_MAX);
}

void fake_edge_param(struct fake_edge *e, const char *name, const char *value)
{
    ck_assert_uint_lt(e->nparams, FAKE_EDGE_PARAMS);
    e->param_names[e->nparams] = name;
    e->param_values[e->nparams] = value;
    e->nparams++;
}

const char *fake_edge_get_param(void *ctx, const char *name)
{
    struct fake_edge *e = ctx;
    for (size_t i = 0; i < e->nparams; i++)
        if (strcmp(e->param_names[i], name) == 0)
            return e->param_values[i];
    return NULL;
}

ssize_t fake_edge_read(void *ctx, char *p, size_t n)
{
    struct fake_edge *e = ctx;
    size_t left = e->body_len - e->body_off;
    if (n > left)
        n = left;
    if (e->read_max && n > e->read_max)
        n = e->read_max;
    if (n)
        memcpy(p, e->body + e->body_off, n);
    e->body_off += n;
    return (ssize_t)n;
}

int fake_edge_write(void *ctx, const char *p, size_t n)
{
    return buf_append(&((struct fake_edge *)ctx)->out, p, n);
}

void fake_edge_abort(void *ctx)
{
    ((struct fake_edge *)ctx)->aborts++;
}

const struct http_io fake_edge_io = {
    .param = fake_edge_get_param, .read = fake_edge_read, .write = fake_edge_write,
    .abort = fake_edge_abort,
};

char *fake_edge_run(struct registry *reg, struct fake_edge *e, const struct http_io *io,
                    const char *method, const char *uri, const char *content_length)
{
    struct request req;
    struct response resp;
    if (!io)
        io = &fake_edge_io;
    ck_assert_int_eq(req_init(&req, method, uri, content_length, io, e), 0);
    resp_init(&resp, io, e);
    registry_handle(reg, &req, &resp);
    req_free(&req);
    resp_free(&resp);
    ck_assert_int_eq(buf_append(&e->out, "", 1), 0);
    char *out = e->out.data;
    buf_init(&e->out, FAKE_EDGE_OUT_MAX);
    return out;
}

int fake_resp_status(const char *out)
{
    int status;
    if (sscanf(out, "Status: %d ", &status) != 1)
        return -1;
    return status;
}

/* The end of the head: the blank line, or the end of what was sent. */
static const char *fake_resp_head_end(const char *out)
{
    const char *end = strstr(out, "\r\n\r\n");
    return end ? end + 2 : out + strlen(out);
}

char *fake_resp_header(const char *out, const char *name)
{
    const char *end = fake_resp_head_end(out);
    size_t n = strlen(name);
    for (const char *line = out; line < end;) {
        const char *eol = strstr(line, "\r\n");
        if (!eol || eol > end)
            eol = end;
        if ((size_t)(eol - line) >= n + 1 && strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ')
                v++;
            return xstrndup(v, (size_t)(eol - v));
        }
        line = eol + 2;
    }
    return NULL;
}

void fake_resp_header_is(const char *out, const char *name, const char *value)
{
    char *v = fake_resp_header(out, name);
    if (value)
        ck_assert_msg(v && strcmp(v, value) == 0, "%s: want \"%s\", got \"%s\" in\n%s", name, value,
                      v ? v : "(none)", out);
    else
        ck_assert_msg(!v, "%s: want none, got \"%s\"", name, v);
    free(v);
}

const char *fake_resp_body(const char *out)
{
    const char *end = strstr(out, "\r\n\r\n");
    return end ? end + 4 : "";
}
