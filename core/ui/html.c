/* html: escaping for the web view (html.h). */
#include <string.h>
#include <strings.h>
#include "core/ui/html.h"

int html_raw(struct buf *b, const char *s)
{
    return buf_appends(b, s);
}

int html_text(struct buf *b, const char *s)
{
    const char *run = s;
    for (const char *p = s; *p; p++) {
        const char *ent;
        unsigned char c = (unsigned char)*p;
        switch (c) {
        case '&': ent = "&amp;"; break;
        case '<': ent = "&lt;"; break;
        case '>': ent = "&gt;"; break;
        case '"': ent = "&quot;"; break;
        case '\'': ent = "&#39;"; break;
        default:
            /* C0 controls (but tab and newline) and DEL are not text */
            if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
                ent = "\xef\xbf\xbd";
            else
                continue;
        }
        if (buf_append(b, run, (size_t)(p - run)) < 0 || buf_appends(b, ent) < 0)
            return -1;
        run = p + 1;
    }
    return buf_appends(b, run);
}

int html_query(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char esc[3] = { '%', 0, 0 };
    const char *run = s;
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~')
            continue;
        esc[1] = hex[c >> 4];
        esc[2] = hex[c & 15];
        if (buf_append(b, run, (size_t)(p - run)) < 0 || buf_append(b, esc, 3) < 0)
            return -1;
        run = p + 1;
    }
    return buf_appends(b, run);
}

int html_url_safe(const char *u)
{
    size_t skip;
    if (strncasecmp(u, "http://", 7) == 0)
        skip = 7;
    else if (strncasecmp(u, "https://", 8) == 0)
        skip = 8;
    else
        return 0;
    /* a host must follow: "http:///x" and "https://" alone are not links */
    if (u[skip] == '\0' || u[skip] == '/' || u[skip] == '?' || u[skip] == '#')
        return 0;
    for (const unsigned char *p = (const unsigned char *)u; *p; p++)
        if (*p <= 0x20 || *p == 0x7f)
            return 0;
    return 1;
}
