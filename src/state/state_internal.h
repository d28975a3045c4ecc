/* state_internal.h: the store's and local values' layout, shared by the
 * files of src/state, and small time helpers for timed waits. */
#ifndef FL_STATE_STATE_INTERNAL_H
#define FL_STATE_STATE_INTERNAL_H

#include <pthread.h>

#include "state/state.h"

/* One (user, key) value of the local tier: a memfd mapped at `data` inside a
 * reservation of max_value_bytes, so `data` never moves while the value
 * grows, and the file never shrinks, so no mapping of it can fault. */
struct state_value {
    struct state_value *next;    /* bucket chain; guarded by store->mu */
    struct state_store *store;
    char *user, *key;            /* immutable */
    uint64_t hash;               /* immutable */
    int fd;                      /* memfd; immutable */
    uint8_t *data;               /* host view; immutable */
    uint64_t reserved;           /* bytes reserved at data; immutable */
    pthread_mutex_t mu;          /* guards the fields below and changes of data's bytes
                                  * made by the host (guests write through mappings) */
    bool sized;                  /* size fixed by a first open (false: only locked so far) */
    uint64_t size;               /* value size */
    uint64_t file_size;          /* memfd size = bytes mapped at data; chunk multiple */
    uint8_t *dirty;              /* per chunk of the file: changed since the last push */
    uint8_t *present;            /* per chunk: pulled from, or written over, the global */
    /* Host-local reader/writer lock (not thread-owned; see state_value_lock). */
    pthread_mutex_t lock_mu;     /* guards readers, writer, writers_waiting */
    pthread_cond_t lock_cv;
    uint32_t readers;
    uint32_t writers_waiting;
    bool writer;
};

struct state_store {
    struct state_global *global; /* owned; immutable */
    uint64_t max_value_bytes;    /* immutable */
    uint64_t lock_lease_ms;      /* immutable */
    pthread_mutex_t mu;          /* guards buckets, bucket_count, value_count */
    struct state_value **buckets;
    uint64_t bucket_count, value_count;
};

/* Monotonic clock in milliseconds. */
uint64_t state_now_ms(void);
/* Initialises cv to wait against the monotonic clock. */
void state_cond_init_monotonic(pthread_cond_t *cv);
/* Waits on cv (mu held) until woken or the monotonic time reaches until_ms. */
void state_cond_wait_until_ms(pthread_cond_t *cv, pthread_mutex_t *mu, uint64_t until_ms);
/* Makes v's file (and host view, and chunk flags) cover at least bytes;
 * new chunks are present and clean. Caller holds v->mu. FL_ERR_LIMIT past
 * the reservation. */
int state_value_grow_locked(struct state_value *v, uint64_t bytes, struct fl_error *err);
/* Checks a user/key pair of names; FL_ERR_ARG naming the offender. */
int state_check_names(const char *user, const char *key, struct fl_error *err);

#endif
