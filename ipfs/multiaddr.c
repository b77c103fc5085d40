/* multiaddr: turn the API address forms Kubo writes into its config and
 * api file into a base URL for libcurl (see multiaddr.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/xalloc.h"
#include "ipfs/multiaddr.h"

/* The longest component we accept; a DNS name is at most 253 bytes. */
#define MADDR_COMPONENT_MAX 255

/* Copies the component at *p (after its leading '/') into out and advances
 * *p past it. -1 if there is none or it is too long. */
static int multiaddr_next(const char **p, char out[MADDR_COMPONENT_MAX + 1])
{
    if (**p != '/')
        return -1;
    const char *s = *p + 1;
    size_t n = strcspn(s, "/");
    if (n == 0 || n > MADDR_COMPONENT_MAX)
        return -1;
    memcpy(out, s, n);
    out[n] = '\0';
    *p = s + n;
    return 0;
}

/* A TCP port: decimal 1..65535, nothing else. */
static int multiaddr_port(const char *s, unsigned *port)
{
    if (*s < '0' || *s > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end != '\0' || v == 0 || v > 65535)
        return -1;
    *port = (unsigned)v;
    return 0;
}

/* Letters, digits, '-', '.' and '_' (seen in container host names); no
 * ':' or '@' that could smuggle a port or user into the URL. */
static int multiaddr_hostname_ok(const char *h)
{
    if (!*h)
        return 0;
    for (const char *c = h; *c; c++) {
        int ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                 (*c >= '0' && *c <= '9') || *c == '-' || *c == '.' || *c == '_';
        if (!ok)
            return 0;
    }
    return 1;
}

/* "http://host[:port]" given as is: checked lightly, trailing slashes dropped. */
static int multiaddr_from_url(const char *url, char **base_url, char **err)
{
    const char *rest = url + strlen("http://");
    if (strncmp(url, "https://", 8) == 0)
        rest = url + strlen("https://");
    size_t n = strlen(url);
    while (n > (size_t)(rest - url) && url[n - 1] == '/')
        n--;
    if (n == (size_t)(rest - url) || memchr(rest, '/', n - (size_t)(rest - url)) ||
        memchr(rest, '@', n - (size_t)(rest - url))) {
        *err = xasprintf("multiaddr: %s: expected http://host:port", url);
        return -1;
    }
    *base_url = xstrndup(url, n);
    return 0;
}

/* /unix/<path>: the path is everything after "/unix", slashes included,
 * as in the multiaddr spec (unix is a "path" protocol). */
static int multiaddr_unix(const char *maddr, char **base_url, char **unix_path, char **err)
{
    const char *path = maddr + strlen("/unix");
    if (strlen(path) < 2) {
        *err = xasprintf("multiaddr: %s: missing socket path", maddr);
        return -1;
    }
    /* The host part is unused on a Unix socket but libcurl wants one. */
    *base_url = xstrdup("http://localhost");
    *unix_path = xstrdup(path);
    return 0;
}

int multiaddr_to_url(const char *maddr, char **base_url, char **unix_path, char **err)
{
    *base_url = NULL;
    *unix_path = NULL;
    *err = NULL;
    if (!maddr || !*maddr) {
        *err = xstrdup("multiaddr: empty address");
        return -1;
    }
    if (strncmp(maddr, "http://", 7) == 0 || strncmp(maddr, "https://", 8) == 0)
        return multiaddr_from_url(maddr, base_url, err);
    if (strncmp(maddr, "/unix/", 6) == 0)
        return multiaddr_unix(maddr, base_url, unix_path, err);

    char proto[MADDR_COMPONENT_MAX + 1], host[MADDR_COMPONENT_MAX + 1];
    char tcp[MADDR_COMPONENT_MAX + 1], port_s[MADDR_COMPONENT_MAX + 1];
    char tail[MADDR_COMPONENT_MAX + 1];
    const char *p = maddr;
    if (multiaddr_next(&p, proto) < 0 || multiaddr_next(&p, host) < 0) {
        *err = xasprintf("multiaddr: %s: expected /<ip4|ip6|dns|dns4|dns6|unix>/<host>/tcp/<port>", maddr);
        return -1;
    }
    int ip6 = 0;
    if (strcmp(proto, "ip4") == 0) {
        struct in_addr a;
        if (inet_pton(AF_INET, host, &a) != 1) {
            *err = xasprintf("multiaddr: %s: bad IPv4 address %s", maddr, host);
            return -1;
        }
    } else if (strcmp(proto, "ip6") == 0) {
        struct in6_addr a;
        if (inet_pton(AF_INET6, host, &a) != 1) {
            *err = xasprintf("multiaddr: %s: bad IPv6 address %s", maddr, host);
            return -1;
        }
        ip6 = 1;
    } else if (strcmp(proto, "dns") == 0 || strcmp(proto, "dns4") == 0 ||
               strcmp(proto, "dns6") == 0) {
        if (!multiaddr_hostname_ok(host)) {
            *err = xasprintf("multiaddr: %s: bad host name %s", maddr, host);
            return -1;
        }
    } else {
        *err = xasprintf("multiaddr: %s: unsupported protocol /%s", maddr, proto);
        return -1;
    }
    unsigned port;
    if (multiaddr_next(&p, tcp) < 0 || strcmp(tcp, "tcp") != 0 ||
        multiaddr_next(&p, port_s) < 0 || multiaddr_port(port_s, &port) < 0) {
        *err = xasprintf("multiaddr: %s: expected /tcp/<port 1-65535> after the host", maddr);
        return -1;
    }
    if (*p != '\0' && (multiaddr_next(&p, tail) < 0 || strcmp(tail, "http") != 0 || *p != '\0')) {
        *err = xasprintf("multiaddr: %s: unexpected trailing components (only /http is accepted)", maddr);
        return -1;
    }
    *base_url = ip6 ? xasprintf("http://[%s]:%u", host, port) : xasprintf("http://%s:%u", host, port);
    return 0;
}
