/* names: the spec's grammar for repository names and tags. */
#ifndef CORE_NAMES_H
#define CORE_NAMES_H

#define NAME_MAX_LEN 255   /* distribution's limit on a full repository name */
#define TAG_MAX_LEN 128

/* [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*
 * and at most NAME_MAX_LEN bytes. Anything else (.., %2e, upper case) is refused,
 * so a valid name can never climb out of the storage root. */
int name_valid(const char *name);
/* [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127} */
int tag_valid(const char *tag);
/* An upload session id as this registry issues them (32 lower-case hex). */
int upload_id_valid(const char *id);

#endif
