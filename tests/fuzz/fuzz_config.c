/* fuzz_config: a configuration file loaded the way --check-config loads it
 * (config_load from a path, then config_dump). Beyond not crashing: a
 * refusal is one line, as start-up prints it; an accepted file dumps to a
 * configuration that loads again and dumps the same (the dump is meant to be
 * pasted back as a file). Inputs with "@include" are skipped: the file
 * system is not part of the input (an include of /dev/zero never ends). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tests/fuzz/fuzz.h"
#include "conf/conf.h"

/* The dump without its first line, which names the file it came from. */
static char *fuzz_config_dump(const struct config *c, size_t *len)
{
    char *text = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&text, &n);
    FUZZ_ASSERT(f != NULL);
    config_dump(c, f);
    FUZZ_ASSERT(fclose(f) == 0);
    char *nl = strchr(text, '\n');
    FUZZ_ASSERT(nl != NULL);
    *len = n - (size_t)(nl + 1 - text);
    memmove(text, nl + 1, *len + 1);
    return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    struct config c;
    char *err = NULL;

    if (!ready) {
        fuzz_setup();
        ready = 1;
    }
    if (memmem(data, size, "@include", 8))
        return 0;
    char *path = fuzz_write_file("fuzz.conf", data, size);
    if (config_load(path, &c, &err) < 0) {
        /* one line per bad setting: no empty line, no other control byte */
        FUZZ_ASSERT(err && *err && err[strlen(err) - 1] != '\n' && !strstr(err, "\n\n"));
        for (const unsigned char *p = (const unsigned char *)err; *p; p++)
            FUZZ_ASSERT(*p == '\n' || (*p >= 0x20 && *p != 0x7f));
        free(err);
        config_free(&c);
        unlink(path);
        free(path);
        return 0;
    }
    size_t len, len2;
    char *dump = fuzz_config_dump(&c, &len);
    config_free(&c);

    char *path2 = fuzz_write_file("fuzz-dump.conf", dump, len);
    struct config c2;
    if (config_load(path2, &c2, &err) < 0) {
        fprintf(stderr, "the dump does not load again: %s\n--- dump:\n%s", err, dump);
        FUZZ_ASSERT(!"the dump of an accepted configuration loads again");
    }
    char *dump2 = fuzz_config_dump(&c2, &len2);
    if (len != len2 || memcmp(dump, dump2, len) != 0) {
        fprintf(stderr, "--- dump:\n%s--- dump of the dump:\n%s", dump, dump2);
        FUZZ_ASSERT(!"the dump of the dump is the dump");
    }
    config_free(&c2);
    free(dump2);
    free(dump);
    unlink(path2);
    free(path2);
    unlink(path);
    free(path);
    return 0;
}
