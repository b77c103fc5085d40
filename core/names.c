/* names: the distribution spec's grammar for repository names and tags,
 * hand-written rather than regex so it costs nothing per request. */
#include <string.h>
#include "core/names.h"

static int names_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One path component: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* over s[0..n). */
static int names_component_valid(const char *s, size_t n)
{
    size_t i = 0;
    if (n == 0 || !names_alnum(s[0]))
        return 0;
    while (i < n) {
        while (i < n && names_alnum(s[i]))
            i++;
        if (i == n)
            return 1;
        /* a separator */
        if (s[i] == '.') {
            i++;
        } else if (s[i] == '_') {
            i++;
            if (i < n && s[i] == '_')
                i++;
        } else if (s[i] == '-') {
            while (i < n && s[i] == '-')
                i++;
        } else {
            return 0;
        }
        if (i == n || !names_alnum(s[i]))   /* a separator must be followed by alnum */
            return 0;
    }
    return 1;
}

int name_valid(const char *name)
{
    if (!name)
        return 0;
    size_t len = strlen(name);
    if (len == 0 || len > NAME_MAX_LEN)
        return 0;
    const char *p = name;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (!names_component_valid(p, n))
            return 0;
        if (!slash)
            return 1;
        p = slash + 1;
    }
}

int tag_valid(const char *tag)
{
    if (!tag || !*tag)
        return 0;
    size_t len = strlen(tag);
    if (len > TAG_MAX_LEN)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = tag[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        if (!ok && i > 0)
            ok = c == '.' || c == '-';
        if (!ok)
            return 0;
    }
    return 1;
}

int upload_id_valid(const char *id)
{
    if (!id || strlen(id) != 32)
        return 0;
    for (size_t i = 0; i < 32; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
            return 0;
    return 1;
}
