/* conf_internal: what conf.c shares with the files that read one group of
 * settings each (conf_mirror.c): the load's context, the error reporter
 * and the typed getters. Not for use outside conf/. */
#ifndef CONF_CONF_INTERNAL_H
#define CONF_CONF_INTERNAL_H
#include <stdio.h>
#include <libconfig.h>
#include "conf/conf.h"

struct config_errs;

/* One load of one file. */
struct config_ctx {
    struct config *c;
    const char *file;
    struct config_errs *errs;
};

/* Records one error naming the file, the line and the key; the caller
 * leaves the setting at its previous value and validation goes on. */
void config_fail(struct config_ctx *x, const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The value, or NULL (recorded) when s is not of that type or range. */
const char *config_get_str(struct config_ctx *x, const config_setting_t *s);
int config_get_int(struct config_ctx *x, const config_setting_t *s, long long lo, long long hi,
                   long long *out);
int config_get_bool(struct config_ctx *x, const config_setting_t *s, int *out);
const char *config_type_name(int type);
/* *slot := a copy of v (NULL: none), the old value freed. */
void config_replace(char **slot, const char *v);
/* 1 if s holds a control character. */
int config_has_ctl(const char *s);
/* key = "v"; as a libconfig string literal (quotes and backslashes escaped). */
void config_dump_str(FILE *out, const char *key, const char *v);

/* conf_mirror.c: the pull-through mirror's settings. */
void config_key_mirror(struct config_ctx *x, const config_setting_t *s);
void config_key_mirror_timeout(struct config_ctx *x, const config_setting_t *s);
void config_key_mirror_stall(struct config_ctx *x, const config_setting_t *s);
void config_key_mirror_writable(struct config_ctx *x, const config_setting_t *s);
void config_mirror_defaults(struct config *c);
void config_mirror_free(struct config *c);
void config_mirror_dump(const struct config *c, FILE *out);

#endif
