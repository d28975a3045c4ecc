/* store.c: the process-wide state store: the table of local values per
 * (user, key), their creation (memfd + address-space reservation), and the
 * global-tier shortcuts (appends, global locks, sizes). */
#define _GNU_SOURCE
#include "state/state_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

uint64_t state_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void state_cond_init_monotonic(pthread_cond_t *cv)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &attr);
    pthread_condattr_destroy(&attr);
}

void state_cond_wait_until_ms(pthread_cond_t *cv, pthread_mutex_t *mu, uint64_t until_ms)
{
    struct timespec ts = {.tv_sec = (time_t)(until_ms / 1000u),
                          .tv_nsec = (long)(until_ms % 1000u) * 1000000L};
    pthread_cond_timedwait(cv, mu, &ts);
}

int state_check_names(const char *user, const char *key, struct fl_error *err)
{
    if (!user || strlen(user) > STATE_MAX_KEY_BYTES)
        return fl_error_set(err, FL_ERR_ARG, "state: user name missing or over %u bytes",
                            STATE_MAX_KEY_BYTES);
    if (!key || strlen(key) > STATE_MAX_KEY_BYTES)
        return fl_error_set(err, FL_ERR_ARG, "state %s: key missing or over %u bytes", user,
                            STATE_MAX_KEY_BYTES);
    return 0;
}

static uint64_t value_hash(const char *user, const char *key)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *s = user; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
    for (const char *s = key; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

struct state_store *state_store_create(const struct state_store_options *opts,
                                       struct fl_error *err)
{
    struct state_store *s = calloc(1, sizeof *s);
    if (!s) {
        fl_error_set(err, FL_ERR_NOMEM, "state: out of memory");
        if (opts && opts->global)
            opts->global->ops->destroy(opts->global);
        return NULL;
    }
    s->global = opts ? opts->global : NULL;
    s->max_value_bytes = opts && opts->max_value_bytes ? opts->max_value_bytes
                                                       : STATE_DEFAULT_MAX_VALUE_BYTES;
    /* Whole chunks, so a value's file always covers its last chunk. */
    s->max_value_bytes = (s->max_value_bytes + STATE_CHUNK_SIZE - 1) / STATE_CHUNK_SIZE *
                         STATE_CHUNK_SIZE;
    s->lock_lease_ms = opts && opts->lock_lease_ms ? opts->lock_lease_ms
                                                   : STATE_DEFAULT_LOCK_LEASE_MS;
    s->bucket_count = 64;
    s->buckets = calloc(s->bucket_count, sizeof *s->buckets);
    if (!s->global)
        s->global = state_global_inproc_create();
    if (!s->buckets || !s->global) {
        if (s->global)
            s->global->ops->destroy(s->global);
        free(s->buckets);
        free(s);
        fl_error_set(err, FL_ERR_NOMEM, "state: out of memory");
        return NULL;
    }
    pthread_mutex_init(&s->mu, NULL);
    return s;
}

static void value_free(struct state_value *v)
{
    if (v->data)
        munmap(v->data, v->reserved);
    if (v->fd >= 0)
        close(v->fd);
    pthread_mutex_destroy(&v->mu);
    pthread_mutex_destroy(&v->lock_mu);
    pthread_cond_destroy(&v->lock_cv);
    free(v->dirty);
    free(v->present);
    free(v->user);
    free(v->key);
    free(v);
}

void state_store_destroy(struct state_store *store)
{
    if (!store)
        return;
    for (uint64_t i = 0; i < store->bucket_count; i++) {
        struct state_value *v = store->buckets[i];
        while (v) {
            struct state_value *next = v->next;
            value_free(v);
            v = next;
        }
    }
    free(store->buckets);
    store->global->ops->destroy(store->global);
    pthread_mutex_destroy(&store->mu);
    free(store);
}

struct state_global *state_store_global(struct state_store *store)
{
    return store->global;
}

uint64_t state_store_max_value_bytes(const struct state_store *store)
{
    return store->max_value_bytes;
}

/* Caller holds store->mu. */
static struct state_value *find_locked(struct state_store *store, const char *user,
                                       const char *key, uint64_t h)
{
    for (struct state_value *v = store->buckets[h % store->bucket_count]; v; v = v->next) {
        if (v->hash == h && strcmp(v->user, user) == 0 && strcmp(v->key, key) == 0)
            return v;
    }
    return NULL;
}

struct state_value *state_value_find(struct state_store *store, const char *user,
                                     const char *key)
{
    if (!user || !key)
        return NULL;
    uint64_t h = value_hash(user, key);
    pthread_mutex_lock(&store->mu);
    struct state_value *v = find_locked(store, user, key, h);
    pthread_mutex_unlock(&store->mu);
    if (v) {
        pthread_mutex_lock(&v->mu);
        bool sized = v->sized;
        pthread_mutex_unlock(&v->mu);
        if (!sized)
            return NULL; /* only a lock so far */
    }
    return v;
}

/* Caller holds store->mu; v is new. Grows the table when chains get long. */
static void insert_locked(struct state_store *store, struct state_value *v)
{
    if (store->value_count >= store->bucket_count * 2) {
        uint64_t n = store->bucket_count * 4;
        struct state_value **nb = calloc(n, sizeof *nb);
        if (nb) {
            for (uint64_t i = 0; i < store->bucket_count; i++) {
                struct state_value *x = store->buckets[i];
                while (x) {
                    struct state_value *next = x->next;
                    x->next = nb[x->hash % n];
                    nb[x->hash % n] = x;
                    x = next;
                }
            }
            free(store->buckets);
            store->buckets = nb;
            store->bucket_count = n;
        }
    }
    v->next = store->buckets[v->hash % store->bucket_count];
    store->buckets[v->hash % store->bucket_count] = v;
    store->value_count++;
}

/* A new local value, not yet in the table: no size until the first
 * state_value_open gives it one (a lock alone does not fix the size). */
static int value_create(struct state_store *store, const char *user, const char *key,
                        uint64_t h, struct state_value **out, struct fl_error *err)
{
    struct state_value *v = calloc(1, sizeof *v);
    if (!v)
        return fl_error_set(err, FL_ERR_NOMEM, "state %s/%s: out of memory", user, key);
    v->fd = -1;
    v->store = store;
    v->hash = h;
    pthread_mutex_init(&v->mu, NULL);
    pthread_mutex_init(&v->lock_mu, NULL);
    state_cond_init_monotonic(&v->lock_cv);
    v->user = strdup(user);
    v->key = strdup(key);
    /* Never NULL, so that a 0-byte value's flags are valid (empty) arrays. */
    v->dirty = calloc(1, 1);
    v->present = calloc(1, 1);
    if (!v->user || !v->key || !v->dirty || !v->present) {
        value_free(v);
        return fl_error_set(err, FL_ERR_NOMEM, "state %s/%s: out of memory", user, key);
    }
    v->fd = memfd_create("faaslet-state", MFD_CLOEXEC);
    if (v->fd < 0) {
        int e = errno;
        value_free(v);
        return fl_error_set(err, FL_ERR_NOMEM, "state %s/%s: memfd_create: %s", user, key,
                            strerror(e));
    }
    v->reserved = store->max_value_bytes;
    void *base = mmap(NULL, v->reserved, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                      -1, 0);
    if (base == MAP_FAILED) {
        int e = errno;
        value_free(v);
        return fl_error_set(err, FL_ERR_NOMEM,
                            "state %s/%s: cannot reserve %llu MiB of address space: %s", user,
                            key, (unsigned long long)(store->max_value_bytes >> 20),
                            strerror(e));
    }
    v->data = base;
    *out = v;
    return 0;
}

/* The value of (user, key), sized or not, created unsized if absent. */
static int value_get(struct state_store *store, const char *user, const char *key,
                     struct state_value **out, struct fl_error *err)
{
    int rc = state_check_names(user, key, err);
    if (rc)
        return rc;
    uint64_t h = value_hash(user, key);
    pthread_mutex_lock(&store->mu);
    struct state_value *v = find_locked(store, user, key, h);
    pthread_mutex_unlock(&store->mu);
    if (v) {
        *out = v;
        return 0;
    }
    struct state_value *created = NULL;
    rc = value_create(store, user, key, h, &created, err);
    if (rc)
        return rc;
    pthread_mutex_lock(&store->mu);
    v = find_locked(store, user, key, h);
    if (!v) {
        insert_locked(store, created);
        v = created;
        created = NULL;
    }
    pthread_mutex_unlock(&store->mu);
    if (created) /* another thread made it first: use theirs */
        value_free(created);
    *out = v;
    return 0;
}

int state_value_lockable(struct state_store *store, const char *user, const char *key,
                         struct state_value **out, struct fl_error *err)
{
    return value_get(store, user, key, out, err);
}

int state_value_open(struct state_store *store, const char *user, const char *key,
                     uint64_t size, unsigned flags, struct state_value **out,
                     struct fl_error *err)
{
    struct state_value *v;
    int rc = value_get(store, user, key, &v, err);
    if (rc)
        return rc;
    pthread_mutex_lock(&v->mu);
    if (!v->sized) {
        /* First real use here: the global tier says whether there is
         * anything to pull later (chunks are pulled lazily). */
        uint64_t global_size = 0;
        rc = store->global->ops->size(store->global, user, key, &global_size, err);
        if (rc != 0 && rc != FL_ERR_NOT_FOUND) {
            pthread_mutex_unlock(&v->mu);
            fl_error_prefix(err, "state %s/%s: %s global tier", user, key,
                            store->global->ops->name);
            return rc;
        }
        fl_error_clear(err);
        bool in_global = rc == 0;
        if (in_global && (flags & STATE_OPEN_SIZE_FROM_GLOBAL))
            size = global_size;
        rc = state_value_grow_locked(v, size, err);
        if (rc) {
            pthread_mutex_unlock(&v->mu);
            return rc;
        }
        v->size = size;
        v->sized = true;
        uint64_t chunks = v->file_size / STATE_CHUNK_SIZE;
        memset(v->present, in_global ? 0 : 1, chunks);
    }
    uint64_t have = v->size;
    pthread_mutex_unlock(&v->mu);
    if (!(flags & STATE_OPEN_SIZE_FROM_GLOBAL) && have != size)
        return fl_error_set(err, FL_ERR_ARG,
                            "state %s/%s: value is %llu bytes, the call says %llu", user, key,
                            (unsigned long long)have, (unsigned long long)size);
    *out = v;
    return 0;
}

/* Names a backend failure: "state USER/KEY: BACKEND global tier: why". */
static int global_error(struct state_store *store, const char *user, const char *key, int rc,
                        struct fl_error *err)
{
    fl_error_prefix(err, "state %s/%s: %s global tier", user, key, store->global->ops->name);
    return rc;
}

int state_size(struct state_store *store, const char *user, const char *key, uint64_t *size,
               struct fl_error *err)
{
    *size = 0;
    int rc = state_check_names(user, key, err);
    if (rc)
        return rc;
    struct state_value *v = state_value_find(store, user, key);
    if (v) {
        *size = state_value_size(v);
        return 0;
    }
    rc = store->global->ops->size(store->global, user, key, size, err);
    if (rc == FL_ERR_NOT_FOUND) {
        fl_error_clear(err);
        *size = 0;
        return 0;
    }
    return rc ? global_error(store, user, key, rc, err) : 0;
}

int state_append(struct state_store *store, const char *user, const char *key,
                 const uint8_t *data, uint64_t len, struct fl_error *err)
{
    int rc = state_check_names(user, key, err);
    if (rc)
        return rc;
    rc = store->global->ops->append(store->global, user, key, data, len, err);
    return rc ? global_error(store, user, key, rc, err) : 0;
}

int state_read_appended(struct state_store *store, const char *user, const char *key,
                        uint64_t n, uint8_t *buf, uint64_t cap, uint64_t *used,
                        struct fl_error *err)
{
    int rc = state_check_names(user, key, err);
    if (rc)
        return rc;
    rc = store->global->ops->read_appended(store->global, user, key, n, buf, cap, used, err);
    return rc ? global_error(store, user, key, rc, err) : 0;
}

int state_clear_appended(struct state_store *store, const char *user, const char *key,
                         struct fl_error *err)
{
    int rc = state_check_names(user, key, err);
    if (rc)
        return rc;
    rc = store->global->ops->clear_appended(store->global, user, key, err);
    return rc ? global_error(store, user, key, rc, err) : 0;
}

int state_lock_global(struct state_store *store, const char *user, const char *key,
                      uint64_t wait_ms, uint64_t *token, struct fl_error *err)
{
    int rc = state_check_names(user, key, err);
    if (rc)
        return rc;
    rc = store->global->ops->lock(store->global, user, key, store->lock_lease_ms, wait_ms, token,
                                  err);
    return rc ? global_error(store, user, key, rc, err) : 0;
}

int state_unlock_global(struct state_store *store, const char *user, const char *key,
                        uint64_t token, struct fl_error *err)
{
    int rc = state_check_names(user, key, err);
    if (rc)
        return rc;
    rc = store->global->ops->unlock(store->global, user, key, token, err);
    return rc ? global_error(store, user, key, rc, err) : 0;
}
