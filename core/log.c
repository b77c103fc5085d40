/* log: "<ISO time> <level> <role>[<pid>]: message" lines on stderr. Each
 * line goes out in one write() so lines from many workers sharing the
 * stderr pipe never interleave mid-line (writes up to PIPE_BUF are atomic). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "core/log.h"

#define LOG_LINE_MAX 4096   /* a longer message is cut: a log line is no place for a body */

static enum log_level log_level_cur = LOG_LVL_INFO;
static const char *log_role = "main";

static const char *const log_level_names[] = { "error", "warn", "info", "debug" };

void log_set_level(enum log_level lvl)
{
    log_level_cur = lvl;
}

enum log_level log_get_level(void)
{
    return log_level_cur;
}

void log_set_role(const char *role)
{
    log_role = role ? role : "main";
}

int log_level_parse(const char *s, enum log_level *out)
{
    if (!s)
        return -1;
    for (size_t i = 0; i < sizeof log_level_names / sizeof log_level_names[0]; i++) {
        if (strcmp(s, log_level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

/* Messages may quote request data (paths, headers): control characters are
 * replaced so a client cannot forge log lines. */
static void log_sanitize(char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x20 || c == 0x7f)
            p[i] = '?';
    }
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
    if (lvl > log_level_cur)
        return;
    int saved_errno = errno;   /* callers often log and then look at errno */
    char line[LOG_LINE_MAX];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    localtime_r(&ts.tv_sec, &tm);
    char tbuf[32], zbuf[8];
    strftime(tbuf, sizeof tbuf, "%Y-%m-%dT%H:%M:%S", &tm);
    strftime(zbuf, sizeof zbuf, "%z", &tm);
    const char *lname = (unsigned)lvl < 4 ? log_level_names[lvl] : "?";
    int n = snprintf(line, sizeof line, "%s.%03ld%s %s %s[%ld]: ", tbuf,
                     (long)(ts.tv_nsec / 1000000), zbuf, lname, log_role, (long)getpid());
    if (n < 0)
        n = 0;
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    va_list ap;
    va_start(ap, fmt);
    errno = saved_errno;   /* so %m works */
    int m = vsnprintf(line + len, sizeof line - len, fmt, ap);
    va_end(ap);
    if (m > 0) {
        size_t mlen = (size_t)m < sizeof line - len ? (size_t)m : sizeof line - len - 1;
        log_sanitize(line + len, mlen);
        len += mlen;
    }
    if (len >= sizeof line - 1)
        len = sizeof line - 2;
    line[len++] = '\n';
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(STDERR_FILENO, line + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    errno = saved_errno;
}
