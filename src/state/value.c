/* value.c: the local tier's values: copies in and out, dirty and present
 * chunks, push/pull against the global tier, the host-local reader/writer
 * lock, and mapping a value's shared pages into a Faaslet's memory. */
#define _GNU_SOURCE
#include "state/state_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static uint64_t chunks_of(uint64_t bytes)
{
    return (bytes + STATE_CHUNK_SIZE - 1) / STATE_CHUNK_SIZE;
}

static int global_error(struct state_value *v, int rc, struct fl_error *err)
{
    fl_error_prefix(err, "state %s/%s: %s global tier", v->user, v->key,
                    v->store->global->ops->name);
    return rc;
}

static int range_error(struct state_value *v, uint64_t offset, uint64_t len, uint64_t size,
                       struct fl_error *err)
{
    return fl_error_set(err, FL_ERR_ARG,
                        "state %s/%s: %llu bytes at offset %llu are outside the value (%llu "
                        "bytes)",
                        v->user, v->key, (unsigned long long)len, (unsigned long long)offset,
                        (unsigned long long)size);
}

static bool in_range(uint64_t offset, uint64_t len, uint64_t size)
{
    return offset <= size && len <= size - offset;
}

int state_value_grow_locked(struct state_value *v, uint64_t bytes, struct fl_error *err)
{
    uint64_t want = chunks_of(bytes) * STATE_CHUNK_SIZE;
    if (want <= v->file_size)
        return 0;
    if (want > v->reserved)
        return fl_error_set(err, FL_ERR_LIMIT,
                            "state %s/%s: %llu bytes is over the limit of %llu bytes", v->user,
                            v->key, (unsigned long long)bytes, (unsigned long long)v->reserved);
    uint64_t n = want / STATE_CHUNK_SIZE, old = v->file_size / STATE_CHUNK_SIZE;
    uint8_t *dirty = realloc(v->dirty, n);
    if (dirty)
        v->dirty = dirty;
    uint8_t *present = dirty ? realloc(v->present, n) : NULL;
    if (present)
        v->present = present;
    if (!dirty || !present)
        return fl_error_set(err, FL_ERR_NOMEM, "state %s/%s: out of memory", v->user, v->key);
    if (ftruncate(v->fd, (off_t)want) != 0) {
        int e = errno;
        return fl_error_set(err, FL_ERR_NOMEM, "state %s/%s: cannot grow to %llu bytes: %s",
                            v->user, v->key, (unsigned long long)want, strerror(e));
    }
    void *p = mmap(v->data + v->file_size, want - v->file_size, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_FIXED, v->fd, (off_t)v->file_size);
    if (p == MAP_FAILED) {
        int e = errno;
        return fl_error_set(err, FL_ERR_NOMEM, "state %s/%s: cannot map %llu bytes: %s",
                            v->user, v->key, (unsigned long long)want, strerror(e));
    }
    memset(v->dirty + old, 0, n - old);
    memset(v->present + old, 1, n - old);
    v->file_size = want;
    return 0;
}

uint64_t state_value_size(struct state_value *value)
{
    pthread_mutex_lock(&value->mu);
    uint64_t s = value->size;
    pthread_mutex_unlock(&value->mu);
    return s;
}

const char *state_value_user(const struct state_value *value)
{
    return value->user;
}

const char *state_value_key(const struct state_value *value)
{
    return value->key;
}

uint8_t *state_value_data(struct state_value *value)
{
    return value->data;
}

/* Pulls the absent, locally unwritten chunks of [offset, offset+len) in runs.
 * Caller holds v->mu and has checked the range. */
static int ensure_locked(struct state_value *v, uint64_t offset, uint64_t len,
                         struct fl_error *err)
{
    if (len == 0)
        return 0;
    struct state_global *g = v->store->global;
    uint64_t first = offset / STATE_CHUNK_SIZE, last = (offset + len - 1) / STATE_CHUNK_SIZE;
    uint64_t i = first;
    while (i <= last) {
        if (v->present[i] || v->dirty[i]) {
            i++;
            continue;
        }
        uint64_t j = i;
        while (j + 1 <= last && !v->present[j + 1] && !v->dirty[j + 1])
            j++;
        uint64_t off = i * STATE_CHUNK_SIZE;
        uint64_t end = (j + 1) * STATE_CHUNK_SIZE;
        if (end > v->size)
            end = v->size;
        int rc = g->ops->get_range(g, v->user, v->key, off, v->data + off, end - off, NULL, err);
        if (rc == FL_ERR_NOT_FOUND) {
            fl_error_clear(err); /* gone from the global tier: keep the local bytes */
        } else if (rc) {
            return global_error(v, rc, err);
        }
        memset(v->present + i, 1, j - i + 1);
        i = j + 1;
    }
    return 0;
}

int state_value_ensure(struct state_value *value, uint64_t offset, uint64_t len,
                       struct fl_error *err)
{
    pthread_mutex_lock(&value->mu);
    int rc = in_range(offset, len, value->size)
                 ? ensure_locked(value, offset, len, err)
                 : range_error(value, offset, len, value->size, err);
    pthread_mutex_unlock(&value->mu);
    return rc;
}

int state_value_read(struct state_value *value, uint64_t offset, uint8_t *buf, uint64_t len,
                     struct fl_error *err)
{
    pthread_mutex_lock(&value->mu);
    int rc = in_range(offset, len, value->size)
                 ? ensure_locked(value, offset, len, err)
                 : range_error(value, offset, len, value->size, err);
    if (rc == 0 && len)
        memmove(buf, value->data + offset, len); /* buf may be a mapping of this value */
    pthread_mutex_unlock(&value->mu);
    return rc;
}

/* Marks the chunks of [offset, offset+len) written locally. Caller holds v->mu. */
static void mark_dirty_locked(struct state_value *v, uint64_t offset, uint64_t len)
{
    if (len == 0)
        return;
    uint64_t first = offset / STATE_CHUNK_SIZE, last = (offset + len - 1) / STATE_CHUNK_SIZE;
    memset(v->dirty + first, 1, last - first + 1);
    memset(v->present + first, 1, last - first + 1);
}

int state_value_write(struct state_value *value, uint64_t offset, const uint8_t *data,
                      uint64_t len, struct fl_error *err)
{
    pthread_mutex_lock(&value->mu);
    int rc = 0;
    if (!in_range(offset, len, value->size)) {
        rc = range_error(value, offset, len, value->size, err);
    } else if (len) {
        /* Only chunks this write covers partly need their other bytes pulled. */
        uint64_t end = offset + len;
        if (offset % STATE_CHUNK_SIZE)
            rc = ensure_locked(value, offset, 1, err);
        if (rc == 0 && end % STATE_CHUNK_SIZE && end != value->size)
            rc = ensure_locked(value, end - 1, 1, err);
        if (rc == 0) {
            memmove(value->data + offset, data, len);
            mark_dirty_locked(value, offset, len);
        }
    }
    pthread_mutex_unlock(&value->mu);
    return rc;
}

int state_value_replace(struct state_value *value, const uint8_t *data, uint64_t len,
                        struct fl_error *err)
{
    pthread_mutex_lock(&value->mu);
    int rc = state_value_grow_locked(value, len, err);
    if (rc == 0) {
        if (len)
            memmove(value->data, data, len);
        /* Zero what the value no longer covers, so growing it again (or a
         * mapping of the old size) shows zeros rather than stale bytes. */
        if (value->size > len)
            memset(value->data + len, 0, value->size - len);
        value->size = len;
        uint64_t n = value->file_size / STATE_CHUNK_SIZE;
        memset(value->present, 1, n);
        memset(value->dirty, 0, n);
        memset(value->dirty, 1, chunks_of(len));
    }
    pthread_mutex_unlock(&value->mu);
    return rc;
}

int state_value_flag_dirty(struct state_value *value, uint64_t offset, uint64_t len,
                           struct fl_error *err)
{
    pthread_mutex_lock(&value->mu);
    int rc = 0;
    if (in_range(offset, len, value->size))
        mark_dirty_locked(value, offset, len);
    else
        rc = range_error(value, offset, len, value->size, err);
    pthread_mutex_unlock(&value->mu);
    return rc;
}

int state_value_push(struct state_value *value, struct fl_error *err)
{
    struct state_global *g = value->store->global;
    pthread_mutex_lock(&value->mu);
    /* Chunks never pulled must not overwrite the global bytes with zeros. */
    int rc = ensure_locked(value, 0, value->size, err);
    if (rc == 0) {
        rc = g->ops->set(g, value->user, value->key, value->data, value->size, err);
        if (rc)
            global_error(value, rc, err);
        else
            memset(value->dirty, 0, value->file_size / STATE_CHUNK_SIZE);
    }
    pthread_mutex_unlock(&value->mu);
    return rc;
}

int state_value_push_partial(struct state_value *value, struct fl_error *err)
{
    struct state_global *g = value->store->global;
    pthread_mutex_lock(&value->mu);
    int rc = g->ops->set_chunks(g, value->user, value->key, value->data, value->size,
                                value->dirty, err);
    if (rc)
        global_error(value, rc, err);
    else
        memset(value->dirty, 0, value->file_size / STATE_CHUNK_SIZE);
    pthread_mutex_unlock(&value->mu);
    return rc;
}

int state_value_push_masked(struct state_value *value, struct state_value *mask,
                            struct fl_error *err)
{
    struct state_global *g = value->store->global;
    /* Copy the mask first so that the two values' mutexes are never held
     * together (no lock order to get wrong; mask may be value itself). */
    pthread_mutex_lock(&mask->mu);
    uint64_t mlen = mask->size;
    int rc = ensure_locked(mask, 0, mlen, err);
    uint8_t *m = NULL;
    if (rc == 0 && mlen) {
        m = malloc(mlen);
        if (m)
            memcpy(m, mask->data, mlen);
        else
            rc = fl_error_set(err, FL_ERR_NOMEM, "state %s/%s: out of memory", mask->user,
                              mask->key);
    }
    pthread_mutex_unlock(&mask->mu);
    if (rc)
        return rc;
    pthread_mutex_lock(&value->mu);
    if (value->size != mlen) {
        rc = fl_error_set(err, FL_ERR_ARG,
                          "state %s/%s: mask %s is %llu bytes, the value is %llu", value->user,
                          value->key, mask->key, (unsigned long long)mlen,
                          (unsigned long long)value->size);
    } else {
        rc = ensure_locked(value, 0, value->size, err);
        if (rc == 0) {
            rc = g->ops->set_masked(g, value->user, value->key, value->data, m, mlen, err);
            if (rc)
                global_error(value, rc, err);
        }
    }
    pthread_mutex_unlock(&value->mu);
    free(m);
    return rc;
}

int state_value_pull(struct state_value *value, struct fl_error *err)
{
    struct state_global *g = value->store->global;
    pthread_mutex_lock(&value->mu);
    int rc = g->ops->get_range(g, value->user, value->key, 0, value->data, value->size, NULL,
                               err);
    if (rc == FL_ERR_NOT_FOUND) {
        fl_error_clear(err);
        rc = 0;
    } else if (rc) {
        global_error(value, rc, err);
    } else {
        uint64_t n = value->file_size / STATE_CHUNK_SIZE;
        memset(value->present, 1, n);
        memset(value->dirty, 0, n);
    }
    pthread_mutex_unlock(&value->mu);
    return rc;
}

int state_value_lock(struct state_value *value, bool write, uint64_t wait_ms)
{
    uint64_t deadline = state_now_ms() + wait_ms;
    int rc = 0;
    pthread_mutex_lock(&value->lock_mu);
    if (write) {
        value->writers_waiting++;
        while (value->writer || value->readers) {
            if (state_now_ms() >= deadline) {
                rc = FL_ERR_LIMIT;
                break;
            }
            state_cond_wait_until_ms(&value->lock_cv, &value->lock_mu, deadline);
        }
        value->writers_waiting--;
        if (rc == 0)
            value->writer = true;
        else
            pthread_cond_broadcast(&value->lock_cv); /* readers held back for us may go */
    } else {
        /* Waiting writers go first, so a stream of readers cannot starve them. */
        while (value->writer || value->writers_waiting) {
            if (state_now_ms() >= deadline) {
                rc = FL_ERR_LIMIT;
                break;
            }
            state_cond_wait_until_ms(&value->lock_cv, &value->lock_mu, deadline);
        }
        if (rc == 0)
            value->readers++;
    }
    pthread_mutex_unlock(&value->lock_mu);
    return rc;
}

void state_value_unlock(struct state_value *value, bool write)
{
    pthread_mutex_lock(&value->lock_mu);
    if (write)
        value->writer = false;
    else if (value->readers)
        value->readers--;
    pthread_cond_broadcast(&value->lock_cv);
    pthread_mutex_unlock(&value->lock_mu);
}

int state_map_into(struct state_value *value, void *addr, uint64_t len, struct fl_error *err)
{
    long page = sysconf(_SC_PAGESIZE);
    if ((uintptr_t)addr % (uint64_t)page || len == 0 || len % (uint64_t)page)
        return fl_error_set(err, FL_ERR_ARG,
                            "state %s/%s: mapping of %llu bytes at %p is not page-aligned",
                            value->user, value->key, (unsigned long long)len, addr);
    pthread_mutex_lock(&value->mu);
    int rc = 0;
    if (len < value->size) {
        rc = fl_error_set(err, FL_ERR_ARG,
                          "state %s/%s: mapping of %llu bytes is shorter than the value (%llu)",
                          value->user, value->key, (unsigned long long)len,
                          (unsigned long long)value->size);
    } else {
        rc = state_value_grow_locked(value, len, err);
    }
    if (rc == 0) {
        void *p = mmap(addr, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, value->fd, 0);
        if (p == MAP_FAILED) {
            int e = errno;
            rc = fl_error_set(err, FL_ERR_NOMEM, "state %s/%s: cannot map %llu bytes: %s",
                              value->user, value->key, (unsigned long long)len, strerror(e));
        }
    }
    pthread_mutex_unlock(&value->mu);
    return rc;
}

int state_unmap_from(void *addr, uint64_t len, bool accessible, struct fl_error *err)
{
    if (len == 0)
        return 0;
    int prot = accessible ? PROT_READ | PROT_WRITE : PROT_NONE;
    int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | (accessible ? 0 : MAP_NORESERVE);
    if (mmap(addr, len, prot, flags, -1, 0) == MAP_FAILED) {
        int e = errno;
        return fl_error_set(err, FL_ERR_NOMEM, "state: cannot unmap %llu bytes at %p: %s",
                            (unsigned long long)len, addr, strerror(e));
    }
    return 0;
}
