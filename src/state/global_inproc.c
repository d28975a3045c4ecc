/* global_inproc.c: the in-process global tier, the default on one host. A
 * hash table of (user, key) entries; each entry has its own mutex, so a write
 * is atomic for readers and big pushes of one key do not block other keys. */
#include "state/state_internal.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Largest global value or appended list: a guest cannot address more anyway. */
#define INPROC_MAX_BYTES (4ull << 30)

struct inproc_entry {
    struct inproc_entry *next;   /* bucket chain; guarded by the table lock */
    char *user, *key;            /* immutable */
    uint64_t hash;               /* immutable */
    pthread_mutex_t mu;          /* guards every field below */
    pthread_cond_t lock_cv;      /* signalled when the global lock is released */
    bool exists;
    uint8_t *data;
    uint64_t len, cap;
    uint8_t *app;                /* appended elements, concatenated */
    uint64_t app_len, app_cap;
    uint64_t *app_ends;          /* end offset of each element in app */
    uint64_t app_count, app_ends_cap;
    bool locked;
    uint64_t lock_token;
    uint64_t lock_expiry_ms;     /* monotonic */
};

struct inproc {
    struct state_global base;
    pthread_mutex_t table_mu;    /* guards buckets, bucket_count, entry_count, next_token */
    struct inproc_entry **buckets;
    uint64_t bucket_count, entry_count;
    uint64_t next_token;
    _Atomic uint64_t sets, range_writes, chunk_writes, bytes_written, gets, bytes_read, appends;
};

static uint64_t name_hash(const char *user, const char *key)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *s = user; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull; /* separator no name byte can be */
    for (const char *s = key; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static struct inproc_entry *entry_new(const char *user, const char *key, uint64_t hash)
{
    struct inproc_entry *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->user = strdup(user);
    e->key = strdup(key);
    if (!e->user || !e->key) {
        free(e->user);
        free(e->key);
        free(e);
        return NULL;
    }
    e->hash = hash;
    pthread_mutex_init(&e->mu, NULL);
    state_cond_init_monotonic(&e->lock_cv);
    return e;
}

static void entry_free(struct inproc_entry *e)
{
    pthread_mutex_destroy(&e->mu);
    pthread_cond_destroy(&e->lock_cv);
    free(e->user);
    free(e->key);
    free(e->data);
    free(e->app);
    free(e->app_ends);
    free(e);
}

/* The entry of (user, key), created if create; NULL if absent or on OOM
 * (*oom tells which). Entries live until the backend is destroyed. */
static struct inproc_entry *entry_get(struct inproc *p, const char *user, const char *key,
                                      bool create, bool *oom)
{
    uint64_t h = name_hash(user, key);
    *oom = false;
    pthread_mutex_lock(&p->table_mu);
    struct inproc_entry *e = p->buckets[h % p->bucket_count];
    for (; e; e = e->next) {
        if (e->hash == h && strcmp(e->user, user) == 0 && strcmp(e->key, key) == 0)
            break;
    }
    if (!e && create) {
        if (p->entry_count >= p->bucket_count * 2) {
            uint64_t n = p->bucket_count * 4;
            struct inproc_entry **nb = calloc(n, sizeof *nb);
            if (nb) {
                for (uint64_t i = 0; i < p->bucket_count; i++) {
                    struct inproc_entry *x = p->buckets[i];
                    while (x) {
                        struct inproc_entry *next = x->next;
                        x->next = nb[x->hash % n];
                        nb[x->hash % n] = x;
                        x = next;
                    }
                }
                free(p->buckets);
                p->buckets = nb;
                p->bucket_count = n;
            } /* else keep the longer chains */
        }
        e = entry_new(user, key, h);
        if (e) {
            e->next = p->buckets[h % p->bucket_count];
            p->buckets[h % p->bucket_count] = e;
            p->entry_count++;
        } else {
            *oom = true;
        }
    }
    pthread_mutex_unlock(&p->table_mu);
    return e;
}

static int oom_error(struct fl_error *err)
{
    return fl_error_set(err, FL_ERR_NOMEM, "out of memory");
}

/* Makes e->data hold at least len bytes (capacity only). Caller holds e->mu. */
static bool entry_reserve(struct inproc_entry *e, uint64_t len)
{
    if (len <= e->cap)
        return true;
    uint64_t cap = e->cap ? e->cap : 64;
    while (cap < len)
        cap *= 2;
    uint8_t *d = realloc(e->data, cap);
    if (!d)
        return false;
    e->data = d;
    e->cap = cap;
    return true;
}

/* Sets the value's length to len, zero-filling any growth. Caller holds e->mu. */
static bool entry_resize(struct inproc_entry *e, uint64_t len)
{
    if (!entry_reserve(e, len))
        return false;
    if (!e->exists)
        e->len = 0;
    if (len > e->len)
        memset(e->data + e->len, 0, len - e->len);
    e->len = len;
    e->exists = true;
    return true;
}

static int check_len(uint64_t offset, uint64_t len, struct fl_error *err)
{
    if (offset > INPROC_MAX_BYTES || len > INPROC_MAX_BYTES - offset)
        return fl_error_set(err, FL_ERR_LIMIT,
                            "%llu bytes at offset %llu is over the global tier's "
                            "limit of %llu bytes", (unsigned long long)len, (unsigned long long)offset,
                            (unsigned long long)INPROC_MAX_BYTES);
    return 0;
}

static int inproc_size(struct state_global *g, const char *user, const char *key, uint64_t *size,
                       struct fl_error *err)
{
    (void)err;
    struct inproc *p = (struct inproc *)g;
    bool oom;
    struct inproc_entry *e = entry_get(p, user, key, false, &oom);
    if (!e)
        return FL_ERR_NOT_FOUND;
    pthread_mutex_lock(&e->mu);
    bool exists = e->exists;
    *size = e->len;
    pthread_mutex_unlock(&e->mu);
    return exists ? 0 : FL_ERR_NOT_FOUND;
}

static int inproc_get(struct state_global *g, const char *user, const char *key, uint8_t **data,
                      uint64_t *len, struct fl_error *err)
{
    struct inproc *p = (struct inproc *)g;
    bool oom;
    *data = NULL;
    *len = 0;
    struct inproc_entry *e = entry_get(p, user, key, false, &oom);
    if (!e)
        return FL_ERR_NOT_FOUND;
    pthread_mutex_lock(&e->mu);
    int rc = 0;
    if (!e->exists) {
        rc = FL_ERR_NOT_FOUND;
    } else if (e->len) {
        *data = malloc(e->len);
        if (*data) {
            memcpy(*data, e->data, e->len);
            *len = e->len;
        } else {
            rc = oom_error(err);
        }
    }
    pthread_mutex_unlock(&e->mu);
    if (rc == 0) {
        atomic_fetch_add(&p->gets, 1);
        atomic_fetch_add(&p->bytes_read, *len);
    }
    return rc;
}

static int inproc_get_range(struct state_global *g, const char *user, const char *key,
                            uint64_t offset, uint8_t *buf, uint64_t len, uint64_t *size,
                            struct fl_error *err)
{
    struct inproc *p = (struct inproc *)g;
    int rc = check_len(offset, len, err);
    if (rc)
        return rc;
    bool oom;
    struct inproc_entry *e = entry_get(p, user, key, false, &oom);
    if (!e)
        return FL_ERR_NOT_FOUND;
    pthread_mutex_lock(&e->mu);
    if (!e->exists) {
        pthread_mutex_unlock(&e->mu);
        return FL_ERR_NOT_FOUND;
    }
    uint64_t have = offset < e->len ? e->len - offset : 0;
    if (have > len)
        have = len;
    if (have)
        memcpy(buf, e->data + offset, have);
    if (len > have)
        memset(buf + have, 0, len - have);
    if (size)
        *size = e->len;
    pthread_mutex_unlock(&e->mu);
    atomic_fetch_add(&p->gets, 1);
    atomic_fetch_add(&p->bytes_read, have);
    return 0;
}

static int inproc_set(struct state_global *g, const char *user, const char *key,
                      const uint8_t *data, uint64_t len, struct fl_error *err)
{
    struct inproc *p = (struct inproc *)g;
    int rc = check_len(0, len, err);
    if (rc)
        return rc;
    bool oom;
    struct inproc_entry *e = entry_get(p, user, key, true, &oom);
    if (!e)
        return oom_error(err);
    pthread_mutex_lock(&e->mu);
    if (entry_reserve(e, len)) {
        if (len)
            memcpy(e->data, data, len);
        e->len = len;
        e->exists = true;
    } else {
        rc = oom_error(err);
    }
    pthread_mutex_unlock(&e->mu);
    if (rc == 0) {
        atomic_fetch_add(&p->sets, 1);
        atomic_fetch_add(&p->bytes_written, len);
    }
    return rc;
}

static int inproc_set_range(struct state_global *g, const char *user, const char *key,
                            uint64_t offset, const uint8_t *data, uint64_t len,
                            struct fl_error *err)
{
    struct inproc *p = (struct inproc *)g;
    int rc = check_len(offset, len, err);
    if (rc)
        return rc;
    bool oom;
    struct inproc_entry *e = entry_get(p, user, key, true, &oom);
    if (!e)
        return oom_error(err);
    pthread_mutex_lock(&e->mu);
    uint64_t need = offset + len;
    uint64_t cur = e->exists ? e->len : 0;
    if (entry_resize(e, need > cur ? need : cur)) {
        if (len)
            memcpy(e->data + offset, data, len);
    } else {
        rc = oom_error(err);
    }
    pthread_mutex_unlock(&e->mu);
    if (rc == 0) {
        atomic_fetch_add(&p->range_writes, 1);
        atomic_fetch_add(&p->bytes_written, len);
    }
    return rc;
}

static int inproc_set_chunks(struct state_global *g, const char *user, const char *key,
                             const uint8_t *data, uint64_t total_len, const uint8_t *dirty,
                             struct fl_error *err)
{
    struct inproc *p = (struct inproc *)g;
    int rc = check_len(0, total_len, err);
    if (rc)
        return rc;
    bool oom;
    struct inproc_entry *e = entry_get(p, user, key, true, &oom);
    if (!e)
        return oom_error(err);
    uint64_t chunks = 0, bytes = 0;
    pthread_mutex_lock(&e->mu);
    if (entry_resize(e, total_len)) {
        e->len = total_len; /* also cuts */
        uint64_t n = (total_len + STATE_CHUNK_SIZE - 1) / STATE_CHUNK_SIZE;
        for (uint64_t i = 0; i < n; i++) {
            if (!dirty[i])
                continue;
            uint64_t off = i * STATE_CHUNK_SIZE;
            uint64_t l = total_len - off < STATE_CHUNK_SIZE ? total_len - off : STATE_CHUNK_SIZE;
            memcpy(e->data + off, data + off, l);
            chunks++;
            bytes += l;
        }
    } else {
        rc = oom_error(err);
    }
    pthread_mutex_unlock(&e->mu);
    atomic_fetch_add(&p->chunk_writes, chunks);
    atomic_fetch_add(&p->bytes_written, bytes);
    return rc;
}

static int inproc_set_masked(struct state_global *g, const char *user, const char *key,
                             const uint8_t *data, const uint8_t *mask, uint64_t len,
                             struct fl_error *err)
{
    struct inproc *p = (struct inproc *)g;
    int rc = check_len(0, len, err);
    if (rc)
        return rc;
    bool oom;
    struct inproc_entry *e = entry_get(p, user, key, true, &oom);
    if (!e)
        return oom_error(err);
    uint64_t bytes = 0;
    pthread_mutex_lock(&e->mu);
    if (entry_resize(e, len)) {
        e->len = len;
        for (uint64_t i = 0; i < len; i++) {
            if (mask[i]) {
                e->data[i] = data[i];
                bytes++;
            }
        }
    } else {
        rc = oom_error(err);
    }
    pthread_mutex_unlock(&e->mu);
    if (rc == 0) {
        atomic_fetch_add(&p->range_writes, 1);
        atomic_fetch_add(&p->bytes_written, bytes);
    }
    return rc;
}

static int inproc_append(struct state_global *g, const char *user, const char *key,
                         const uint8_t *data, uint64_t len, struct fl_error *err)
{
    struct inproc *p = (struct inproc *)g;
    bool oom;
    struct inproc_entry *e = entry_get(p, user, key, true, &oom);
    if (!e)
        return oom_error(err);
    int rc = 0;
    pthread_mutex_lock(&e->mu);
    if (len > INPROC_MAX_BYTES - e->app_len) {
        rc = fl_error_set(err, FL_ERR_LIMIT,
                          "appended elements would exceed %llu bytes",
                          (unsigned long long)INPROC_MAX_BYTES);
        goto out;
    }
    if (e->app_count == e->app_ends_cap) {
        uint64_t n = e->app_ends_cap ? e->app_ends_cap * 2 : 16;
        uint64_t *ends = realloc(e->app_ends, n * sizeof *ends);
        if (!ends) {
            rc = oom_error(err);
            goto out;
        }
        e->app_ends = ends;
        e->app_ends_cap = n;
    }
    if (e->app_len + len > e->app_cap) {
        uint64_t cap = e->app_cap ? e->app_cap : 64;
        while (cap < e->app_len + len)
            cap *= 2;
        uint8_t *a = realloc(e->app, cap);
        if (!a) {
            rc = oom_error(err);
            goto out;
        }
        e->app = a;
        e->app_cap = cap;
    }
    if (len)
        memcpy(e->app + e->app_len, data, len);
    e->app_len += len;
    e->app_ends[e->app_count++] = e->app_len;
out:
    pthread_mutex_unlock(&e->mu);
    if (rc == 0)
        atomic_fetch_add(&p->appends, 1);
    return rc;
}

static int inproc_read_appended(struct state_global *g, const char *user, const char *key,
                                uint64_t n, uint8_t *buf, uint64_t cap, uint64_t *used,
                                struct fl_error *err)
{
    struct inproc *p = (struct inproc *)g;
    bool oom;
    *used = 0;
    struct inproc_entry *e = entry_get(p, user, key, false, &oom);
    uint64_t have = 0;
    int rc = 0;
    if (e)
        pthread_mutex_lock(&e->mu);
    if (e)
        have = e->app_count;
    if (n > have) {
        rc = fl_error_set(err, FL_ERR_LIMIT, "%llu elements asked, %llu appended", (unsigned long long)n, (unsigned long long)have);
    } else if (n > 0) {
        uint64_t bytes = e->app_ends[n - 1];
        if (bytes > cap) {
            rc = fl_error_set(err, FL_ERR_LIMIT,
                              "%llu appended elements take %llu bytes, buffer "
                              "has %llu", (unsigned long long)n, (unsigned long long)bytes,
                              (unsigned long long)cap);
        } else {
            if (bytes)
                memcpy(buf, e->app, bytes);
            *used = bytes;
        }
    }
    if (e)
        pthread_mutex_unlock(&e->mu);
    return rc;
}

static int inproc_clear_appended(struct state_global *g, const char *user, const char *key,
                                 struct fl_error *err)
{
    (void)err;
    struct inproc *p = (struct inproc *)g;
    bool oom;
    struct inproc_entry *e = entry_get(p, user, key, false, &oom);
    if (!e)
        return 0;
    pthread_mutex_lock(&e->mu);
    free(e->app);
    free(e->app_ends);
    e->app = NULL;
    e->app_ends = NULL;
    e->app_len = e->app_cap = e->app_count = e->app_ends_cap = 0;
    pthread_mutex_unlock(&e->mu);
    return 0;
}

static int inproc_lock(struct state_global *g, const char *user, const char *key,
                       uint64_t lease_ms, uint64_t wait_ms, uint64_t *token,
                       struct fl_error *err)
{
    struct inproc *p = (struct inproc *)g;
    bool oom;
    struct inproc_entry *e = entry_get(p, user, key, true, &oom);
    if (!e)
        return oom_error(err);
    uint64_t deadline = state_now_ms() + wait_ms;
    pthread_mutex_lock(&e->mu);
    for (;;) {
        uint64_t now = state_now_ms();
        if (!e->locked || now >= e->lock_expiry_ms)
            break; /* free, or its holder's lease ran out */
        if (now >= deadline) {
            pthread_mutex_unlock(&e->mu);
            return fl_error_set(err, FL_ERR_LIMIT,
                                "global lock still held after %llu ms",
                                (unsigned long long)wait_ms);
        }
        uint64_t until = e->lock_expiry_ms < deadline ? e->lock_expiry_ms : deadline;
        state_cond_wait_until_ms(&e->lock_cv, &e->mu, until);
    }
    pthread_mutex_lock(&p->table_mu);
    uint64_t t = ++p->next_token;
    pthread_mutex_unlock(&p->table_mu);
    e->locked = true;
    e->lock_token = t;
    e->lock_expiry_ms = state_now_ms() + lease_ms;
    pthread_mutex_unlock(&e->mu);
    *token = t;
    return 0;
}

static int inproc_unlock(struct state_global *g, const char *user, const char *key,
                         uint64_t token, struct fl_error *err)
{
    struct inproc *p = (struct inproc *)g;
    bool oom;
    struct inproc_entry *e = entry_get(p, user, key, false, &oom);
    int rc = 0;
    if (e)
        pthread_mutex_lock(&e->mu);
    if (!e || !e->locked || e->lock_token != token) {
        rc = fl_error_set(err, FL_ERR_NOT_FOUND,
                          "global lock not held by this holder (lease expired?)");
    } else {
        e->locked = false;
        pthread_cond_broadcast(&e->lock_cv);
    }
    if (e)
        pthread_mutex_unlock(&e->mu);
    return rc;
}

static void inproc_stats(struct state_global *g, struct state_global_stats *out)
{
    struct inproc *p = (struct inproc *)g;
    out->sets = atomic_load(&p->sets);
    out->range_writes = atomic_load(&p->range_writes);
    out->chunk_writes = atomic_load(&p->chunk_writes);
    out->bytes_written = atomic_load(&p->bytes_written);
    out->gets = atomic_load(&p->gets);
    out->bytes_read = atomic_load(&p->bytes_read);
    out->appends = atomic_load(&p->appends);
}

static void inproc_destroy(struct state_global *g)
{
    struct inproc *p = (struct inproc *)g;
    if (!p)
        return;
    for (uint64_t i = 0; i < p->bucket_count; i++) {
        struct inproc_entry *e = p->buckets[i];
        while (e) {
            struct inproc_entry *next = e->next;
            entry_free(e);
            e = next;
        }
    }
    free(p->buckets);
    pthread_mutex_destroy(&p->table_mu);
    free(p);
}

static const struct state_global_ops inproc_ops = {
    .name = "in-process",
    .size = inproc_size,
    .get = inproc_get,
    .get_range = inproc_get_range,
    .set = inproc_set,
    .set_range = inproc_set_range,
    .set_chunks = inproc_set_chunks,
    .set_masked = inproc_set_masked,
    .append = inproc_append,
    .read_appended = inproc_read_appended,
    .clear_appended = inproc_clear_appended,
    .lock = inproc_lock,
    .unlock = inproc_unlock,
    .stats = inproc_stats,
    .destroy = inproc_destroy,
};

struct state_global *state_global_inproc_create(void)
{
    struct inproc *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->bucket_count = 64;
    p->buckets = calloc(p->bucket_count, sizeof *p->buckets);
    if (!p->buckets) {
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->table_mu, NULL);
    p->base.ops = &inproc_ops;
    return &p->base;
}
