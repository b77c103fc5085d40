/* edge_ceiling: the smallest FastCGI responder that does what the registry
 * does on the wire, used only by bench/run to measure the ceiling of the
 * FastCGI edge (the front server + libfcgi) with nothing of ours behind it.
 *
 *   GET/HEAD ...?n=BYTES   answers 200 with BYTES bytes (default 512, about
 *                          a manifest) from a static buffer, written like
 *                          the registry's fcgi/edge.c does: small writes
 *                          through libfcgi's stream, 64 KiB chunks as 64 KiB
 *                          FCGI_STDOUT records by writev (no copy), framed
 *                          by the registry's own fcgi/fcgi_record.c
 *   POST                   202 with a Location (the start of a blob upload)
 *   PATCH/PUT              reads the body to EOF and throws it away; 202/201
 *
 * Built by bench/run (bench_start_ceiling in bench/lib.sh):
 * cc -O2 -I.. edge_ceiling.c ../fcgi/fcgi_record.c -lfcgi. Started under spawn-fcgi
 * (-F N processes on one socket), like the registry's worker pool. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <fcgiapp.h>
#include "fcgi/fcgi_record.h"

/* One write's worth, about what a Kubo gateway read hands the registry. */
#define CEIL_CHUNK FCGI_RECORD_MAX
/* Below this many bytes a response is "metadata" and goes out in one write. */
#define CEIL_DEFAULT_BODY 512

static char ceil_buf[CEIL_CHUNK];

static unsigned long long ceil_size(const char *query)
{
    const char *p = query ? strstr(query, "n=") : NULL;
    if (!p)
        return CEIL_DEFAULT_BODY;
    char *end = NULL;
    unsigned long long n = strtoull(p + 2, &end, 10);
    return end == p + 2 ? CEIL_DEFAULT_BODY : n;
}

static void ceil_get(FCGX_Request *r, int head)
{
    unsigned long long n = ceil_size(FCGX_GetParam("QUERY_STRING", r->envp));
    FCGX_FPrintF(r->out, "Status: 200 OK\r\nContent-Type: application/octet-stream\r\n"
                         "Content-Length: %llu\r\n\r\n", n);
    if (head)
        return;
    if (n < CEIL_CHUNK) {
        FCGX_PutStr(ceil_buf, (int)n, r->out);
        return;
    }
    if (FCGX_FFlush(r->out) != 0)
        return;
    while (n > 0) {
        size_t part = n > CEIL_CHUNK ? CEIL_CHUNK : (size_t)n;
        /* one record per writev, as it comes (the registry gathers more) */
        if (fcgi_record_write(r->ipcFd, FCGI_STDOUT, (uint16_t)r->requestId, ceil_buf, part) != 0)
            return;   /* client gone */
        n -= part;
    }
}

static void ceil_swallow(FCGX_Request *r, const char *status)
{
    while (FCGX_GetStr(ceil_buf, (int)sizeof ceil_buf, r->in) > 0)
        ;   /* bounded by the body: libfcgi returns 0 at its end or on error */
    FCGX_FPrintF(r->out, "Status: %s\r\nLocation: /v2/ceiling/blobs/uploads/x\r\n"
                         "Content-Length: 0\r\n\r\n", status);
}

int main(void)
{
    FCGX_Request r;
    memset(ceil_buf, 'x', sizeof ceil_buf);
    if (FCGX_Init() != 0)
        return 1;
    /* libfcgi's own SIGTERM handler only sets a flag that a blocked accept()
     * never sees: a plain TERM must stop the bench's responders at once. */
    signal(SIGTERM, SIG_DFL);
    FCGX_InitRequest(&r, 0, 0);
    while (FCGX_Accept_r(&r) >= 0) {
        const char *m = FCGX_GetParam("REQUEST_METHOD", r.envp);
        m = m ? m : "GET";
        if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
            ceil_get(&r, m[0] == 'H');
        else if (strcmp(m, "POST") == 0)
            ceil_swallow(&r, "202 Accepted");
        else if (strcmp(m, "PATCH") == 0)
            ceil_swallow(&r, "202 Accepted");
        else
            ceil_swallow(&r, "201 Created");
        FCGX_Finish_r(&r);
    }
    return 0;
}
