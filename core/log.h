/* log: one line per event, with level, process role and pid. Lines go to
 * stderr (journald and spawn-fcgi -n capture it), or to a file (`logfile`,
 * which also takes over stderr), and/or to syslog (`syslog`). */
#ifndef CORE_LOG_H
#define CORE_LOG_H
#include <stdint.h>

enum log_level { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);
void log_set_role(const char *role);          /* "master", "worker", ... (static string) */
int log_level_parse(const char *s, enum log_level *out);  /* 0 ok, -1 unknown name */
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Sends lines to logfile (appended, created 0640, and dup'ed onto stderr so
 * anything else a library prints lands there too) when it is non-NULL and
 * non-empty, and to syslog (facility daemon) when use_syslog; with neither,
 * to stderr. May be called again (SIGHUP) with new settings. 0 ok; -1 with
 * *err (caller frees) and the previous destination kept. */
int log_open(const char *logfile, int use_syslog, char **err);
/* Shares a reopen counter between processes (a word in the metrics segment).
 * log_rotate() reopens the file and bumps it; every other process that
 * shares it reopens its file before its next line once it sees the bump, so
 * logrotate's SIGHUP to the master reaches workers busy with a long upload. */
void log_share_generation(uint64_t *gen);
void log_rotate(void);

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) do { if (log_get_level() >= LOG_LVL_DEBUG) log_msg(LOG_LVL_DEBUG, __VA_ARGS__); } while (0)

#endif
