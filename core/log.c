/* log: "<ISO time> <level> <role>[<pid>]: message" lines on stderr (or a
 * log file put in its place), and/or "<role>: message" to syslog. Each line
 * goes out in one write() so lines from many workers sharing the stderr pipe
 * never interleave mid-line (writes up to PIPE_BUF are atomic; a file opened
 * O_APPEND appends each write whole). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include "core/log.h"
#include "core/xalloc.h"

#define LOG_LINE_MAX 4096   /* a longer message is cut: a log line is no place for a body */

static enum log_level log_level_cur = LOG_LVL_INFO;
static const char *log_role = "main";
static char *log_file;            /* NULL: stderr is whatever we were given */
static int log_to_syslog;
static int log_to_stderr = 1;
static uint64_t *log_gen;         /* shared reopen counter, or NULL */
static uint64_t log_gen_seen;

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

/* Opens path and puts it on stderr. 0 ok, -1 with errno. */
static int log_open_file(const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
    if (fd < 0)
        return -1;
    if (fd != STDERR_FILENO) {
        int rc = dup2(fd, STDERR_FILENO);   /* dup2 clears FD_CLOEXEC on the copy */
        int e = errno;
        close(fd);
        if (rc < 0) {
            errno = e;
            return -1;
        }
    }
    return 0;
}

int log_open(const char *logfile, int use_syslog, char **err)
{
    *err = NULL;
    if (logfile && *logfile) {
        if (log_open_file(logfile) < 0) {
            *err = xasprintf("logfile %s: %s", logfile, strerror(errno));
            return -1;
        }
        free(log_file);
        log_file = xstrdup(logfile);
    } else {
        free(log_file);
        log_file = NULL;
    }
    if (use_syslog && !log_to_syslog)
        openlog("oci-registry-p2p", LOG_PID | LOG_NDELAY, LOG_DAEMON);
    else if (!use_syslog && log_to_syslog)
        closelog();
    log_to_syslog = use_syslog;
    /* With syslog alone, stderr (journald, say) would get every line twice. */
    log_to_stderr = log_file != NULL || !use_syslog;
    return 0;
}

void log_share_generation(uint64_t *gen)
{
    log_gen = gen;
    log_gen_seen = gen ? __atomic_load_n(gen, __ATOMIC_RELAXED) : 0;
}

static void log_reopen(void)
{
    if (log_file && log_open_file(log_file) < 0) {
        /* Keep writing to the old file: a line lost is worse than a line late. */
        char msg[512];
        int n = snprintf(msg, sizeof msg, "log: reopening %s: %s\n", log_file, strerror(errno));
        if (n > 0 && write(STDERR_FILENO, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1) < 0)
            return;
    }
}

void log_rotate(void)
{
    log_reopen();
    if (log_gen)
        log_gen_seen = __atomic_add_fetch(log_gen, 1, __ATOMIC_RELAXED);
}

/* Another process rotated: follow it before writing. */
static void log_follow(void)
{
    if (!log_gen)
        return;
    uint64_t g = __atomic_load_n(log_gen, __ATOMIC_RELAXED);
    if (g != log_gen_seen) {
        log_gen_seen = g;
        log_reopen();
    }
}

static int log_syslog_prio(enum log_level lvl)
{
    switch (lvl) {
    case LOG_LVL_ERROR: return LOG_ERR;
    case LOG_LVL_WARN: return LOG_WARNING;
    case LOG_LVL_INFO: return LOG_INFO;
    default: return LOG_DEBUG;
    }
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
    if (log_to_syslog) {
        /* syslog adds its own time and pid: keep role and message */
        line[len] = '\0';
        size_t prefix = (size_t)n < len ? (size_t)n : len;
        syslog(log_syslog_prio(lvl), "%s: %s", log_role, line + prefix);
    }
    if (!log_to_stderr) {
        errno = saved_errno;
        return;
    }
    log_follow();
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
