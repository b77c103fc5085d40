/* cache_shm: the shared table (see cache_shm.h).
 *
 * Layout: one header word (the generation) and as many sets of
 * CACHE_SHM_WAYS 128-byte slots as the configured size holds
 * (metadata_cache_mb). A slot is a sequence word plus payload
 * words, all accessed with C11 atomics (relaxed for the payload, ordered by
 * the sequence word), so the lock-free reads are well defined across
 * processes sharing the mapping. */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/sha.h>
#include "core/xalloc.h"
#include "oci/cache_shm.h"

#define CACHE_SHM_WORDS 15                        /* payload words per slot */
#define CACHE_SHM_DATA_WORDS 10                   /* words 5..14: value bytes */
#define CACHE_SHM_WAYS 4
#define CACHE_SHM_READ_TRIES 3

_Static_assert(CACHE_SHM_DATA_WORDS * 8 >= CACHE_SHM_VAL_MAX, "value words");

struct cache_shm_slot {
    _Atomic uint64_t seq;                 /* odd: being written */
    _Atomic uint64_t w[CACHE_SHM_WORDS];  /* key[2], gen, size, rc|len, data */
};

struct cache_shm_table {
    _Atomic uint64_t gen;
    _Atomic int64_t epoch;   /* the epoch file's size when last looked at */
    char pad[112];
    struct cache_shm_slot slots[];   /* cache_shm_sets * CACHE_SHM_WAYS */
};

static struct cache_shm_table *cache_shm_t;
static size_t cache_shm_sets;    /* fixed at init, inherited by workers */
static size_t cache_shm_bytes;   /* the mapping's length */
static char *cache_shm_epoch_file;   /* this process's (cache_shm_watch) */

size_t cache_shm_entries_for(size_t bytes)
{
    size_t set = CACHE_SHM_WAYS * sizeof(struct cache_shm_slot);
    size_t hdr = sizeof(struct cache_shm_table);
    return bytes > hdr ? (bytes - hdr) / set * CACHE_SHM_WAYS : 0;
}

int cache_shm_init(size_t bytes, char **err)
{
    if (cache_shm_t)
        return 0;
    size_t sets = cache_shm_entries_for(bytes) / CACHE_SHM_WAYS;
    if (sets == 0)
        return 0;   /* turned off: callers don't cache */
    size_t len = sizeof(struct cache_shm_table) + sets * CACHE_SHM_WAYS * sizeof(struct cache_shm_slot);
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        *err = xasprintf("metadata cache: mmap of %zu bytes: %s", len, strerror(errno));
        return -1;
    }
    cache_shm_t = p;   /* zero pages: every slot empty, generation 0 */
    cache_shm_sets = sets;
    cache_shm_bytes = len;
    return 0;
}

int cache_shm_available(void)
{
    return cache_shm_t != NULL;
}

void cache_shm_fini(void)
{
    if (cache_shm_t)
        munmap(cache_shm_t, cache_shm_bytes);
    cache_shm_t = NULL;
    cache_shm_sets = 0;
    cache_shm_bytes = 0;
}

void cache_shm_watch(const char *path)
{
    free(cache_shm_epoch_file);
    cache_shm_epoch_file = path ? xstrdup(path) : NULL;
}

/* A change made by another program (a collection): the epoch file's size
 * differs from what the table last saw. One stat, no read. */
static void cache_shm_check_epoch(void)
{
    struct stat st;
    int64_t now = 0;
    if (stat(cache_shm_epoch_file, &st) == 0)
        now = (int64_t)st.st_size;
    int64_t seen = atomic_load_explicit(&cache_shm_t->epoch, memory_order_acquire);
    if (now != seen &&
        atomic_compare_exchange_strong_explicit(&cache_shm_t->epoch, &seen, now, memory_order_acq_rel,
                                                memory_order_acquire))
        atomic_fetch_add_explicit(&cache_shm_t->gen, 1, memory_order_acq_rel);
}

uint64_t cache_shm_gen(void)
{
    if (!cache_shm_t)
        return 0;
    if (cache_shm_epoch_file)
        cache_shm_check_epoch();
    return atomic_load_explicit(&cache_shm_t->gen, memory_order_acquire);
}

void cache_shm_bump(void)
{
    if (cache_shm_t)
        atomic_fetch_add_explicit(&cache_shm_t->gen, 1, memory_order_acq_rel);
}

static void cache_shm_key(const char *key, uint64_t out[2])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)key, strlen(key), md);
    memcpy(out, md, 2 * sizeof out[0]);
}

static struct cache_shm_slot *cache_shm_set(const uint64_t k[2])
{
    return &cache_shm_t->slots[(k[0] % cache_shm_sets) * CACHE_SHM_WAYS];
}

/* A consistent copy of slot's payload into w, or 0 (busy or torn). */
static int cache_shm_read(struct cache_shm_slot *s, uint64_t w[CACHE_SHM_WORDS])
{
    for (int t = 0; t < CACHE_SHM_READ_TRIES; t++) {
        uint64_t s1 = atomic_load_explicit(&s->seq, memory_order_acquire);
        if (s1 & 1)
            continue;
        for (int i = 0; i < CACHE_SHM_WORDS; i++)
            w[i] = atomic_load_explicit(&s->w[i], memory_order_relaxed);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&s->seq, memory_order_relaxed) == s1)
            return 1;
    }
    return 0;
}

int cache_shm_get(const char *key, uint64_t gen, struct cache_shm_val *out)
{
    if (!cache_shm_t)
        return 0;
    uint64_t k[2], w[CACHE_SHM_WORDS];
    cache_shm_key(key, k);
    struct cache_shm_slot *set = cache_shm_set(k);
    for (int i = 0; i < CACHE_SHM_WAYS; i++) {
        if (!cache_shm_read(&set[i], w) || w[0] != k[0] || w[1] != k[1])
            continue;
        if (w[2] != gen && w[2] != CACHE_SHM_IMMUTABLE)
            return 0;   /* read before a later write: stale */
        size_t len = (size_t)(w[4] & 0xffffffffu);
        if (len > CACHE_SHM_VAL_MAX)
            return 0;
        out->rc = (int)(int32_t)(uint32_t)(w[4] >> 32);
        out->size = w[3];
        out->len = len;
        memcpy(out->data, &w[5], len);
        out->data[len] = '\0';
        return 1;
    }
    return 0;
}

void cache_shm_put(const char *key, uint64_t gen, const struct cache_shm_val *v)
{
    if (!cache_shm_t || v->len > CACHE_SHM_VAL_MAX)
        return;
    uint64_t k[2], w[CACHE_SHM_WORDS];
    cache_shm_key(key, k);
    struct cache_shm_slot *set = cache_shm_set(k);
    uint64_t now = cache_shm_gen();
    /* the same key, else a never used slot, else a stale one, else one
     * picked by the key (an empty slot's generation is 0, which is not
     * older than `now` before the first write: test the sequence word) */
    int way = -1;
    for (int i = 0; i < CACHE_SHM_WAYS && way < 0; i++)
        if (cache_shm_read(&set[i], w) && w[0] == k[0] && w[1] == k[1])
            way = i;
    for (int i = 0; i < CACHE_SHM_WAYS && way < 0; i++)
        if (atomic_load_explicit(&set[i].seq, memory_order_relaxed) == 0)
            way = i;
    for (int i = 0; i < CACHE_SHM_WAYS && way < 0; i++)
        if (cache_shm_read(&set[i], w) && w[2] != CACHE_SHM_IMMUTABLE && w[2] < now)
            way = i;
    if (way < 0)
        way = (int)((k[1] + now) % CACHE_SHM_WAYS);
    struct cache_shm_slot *s = &set[way];
    uint64_t seq = atomic_load_explicit(&s->seq, memory_order_relaxed);
    if ((seq & 1) || !atomic_compare_exchange_strong_explicit(&s->seq, &seq, seq + 1,
                                                              memory_order_acquire, memory_order_relaxed))
        return;   /* another writer has it: not worth waiting for */
    /* the odd sequence is visible before any payload word changes */
    atomic_thread_fence(memory_order_release);
    memset(w, 0, sizeof w);
    w[0] = k[0];
    w[1] = k[1];
    w[2] = gen;
    w[3] = v->size;
    w[4] = ((uint64_t)(uint32_t)v->rc << 32) | (uint64_t)v->len;
    memcpy(&w[5], v->data, v->len);
    for (int i = 0; i < CACHE_SHM_WORDS; i++)
        atomic_store_explicit(&s->w[i], w[i], memory_order_relaxed);
    atomic_store_explicit(&s->seq, seq + 2, memory_order_release);
}
