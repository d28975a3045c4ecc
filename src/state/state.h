/* state.h: Faasm's two-tier key-value state, per user. The global tier is the
 * authoritative copy behind struct state_global_ops (in-process backend now,
 * Redis later); the local tier keeps one shared region per (user, key) per
 * process, in a memfd that Faaslets map straight into their linear memory. */
#ifndef FL_STATE_STATE_H
#define FL_STATE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

#define STATE_CHUNK_SIZE (64u * 1024u)          /* push/pull and dirty-tracking unit */
#define STATE_MAX_KEY_BYTES 1023u                /* user and key names, NUL excluded */
#define STATE_DEFAULT_MAX_VALUE_BYTES (1ull << 30)
#define STATE_DEFAULT_LOCK_LEASE_MS 30000u

/* ---- Global tier ---- */

struct state_global;

/* Counters a backend keeps (for tests and benchmarks). */
struct state_global_stats {
    uint64_t sets;           /* whole-value writes */
    uint64_t range_writes;   /* set_range and masked writes */
    uint64_t chunk_writes;   /* chunks written by set_chunks */
    uint64_t bytes_written;
    uint64_t gets;           /* get and get_range calls */
    uint64_t bytes_read;
    uint64_t appends;
};

/* A global backend. Every operation is thread-safe and can fail: it returns 0
 * or a negative FL_ERR_* and fills err (FL_ERR_IO for a backend that cannot be
 * reached), never crashing the process. A value is never seen half-written:
 * each write is atomic for readers. Values and appended lists of a key are
 * separate. Buffers are the caller's; nothing is kept after return. */
struct state_global_ops {
    const char *name;        /* "in-process", "redis" */
    /* Size of the value in *size; FL_ERR_NOT_FOUND (message-less) if absent. */
    int (*size)(struct state_global *g, const char *user, const char *key, uint64_t *size,
                struct fl_error *err);
    /* Whole value into a malloc'd *data (caller frees; NULL when 0 bytes) of *len
     * bytes; FL_ERR_NOT_FOUND if absent. */
    int (*get)(struct state_global *g, const char *user, const char *key, uint8_t **data,
               uint64_t *len, struct fl_error *err);
    /* Copies value bytes [offset, offset+len) into buf, zero-filling what lies
     * past the value's end; *size (may be NULL) gets the value's size.
     * FL_ERR_NOT_FOUND if absent (buf untouched). */
    int (*get_range)(struct state_global *g, const char *user, const char *key, uint64_t offset,
                     uint8_t *buf, uint64_t len, uint64_t *size, struct fl_error *err);
    /* Replaces the value (creating it) with len bytes. */
    int (*set)(struct state_global *g, const char *user, const char *key, const uint8_t *data,
               uint64_t len, struct fl_error *err);
    /* Writes len bytes at offset, creating or zero-extending the value as needed. */
    int (*set_range)(struct state_global *g, const char *user, const char *key, uint64_t offset,
                     const uint8_t *data, uint64_t len, struct fl_error *err);
    /* Makes the value total_len bytes (zero-extended or cut) and writes each
     * STATE_CHUNK_SIZE chunk i of data[0..total_len) whose dirty[i] is non-zero
     * (dirty has ceil(total_len / STATE_CHUNK_SIZE) entries), all at once. */
    int (*set_chunks)(struct state_global *g, const char *user, const char *key,
                      const uint8_t *data, uint64_t total_len, const uint8_t *dirty,
                      struct fl_error *err);
    /* Makes the value len bytes and writes data[i] wherever mask[i] != 0, all at once. */
    int (*set_masked)(struct state_global *g, const char *user, const char *key,
                      const uint8_t *data, const uint8_t *mask, uint64_t len,
                      struct fl_error *err);
    /* Appends one element (len bytes, may be 0) to the key's appended list. */
    int (*append)(struct state_global *g, const char *user, const char *key, const uint8_t *data,
                  uint64_t len, struct fl_error *err);
    /* Copies the first n elements, concatenated, into buf (cap bytes); *used
     * gets their total length. FL_ERR_LIMIT if fewer than n elements exist or
     * they do not fit in cap (buf untouched then). */
    int (*read_appended)(struct state_global *g, const char *user, const char *key, uint64_t n,
                         uint8_t *buf, uint64_t cap, uint64_t *used, struct fl_error *err);
    /* Removes every appended element. */
    int (*clear_appended)(struct state_global *g, const char *user, const char *key,
                          struct fl_error *err);
    /* Takes the key's global lock for lease_ms (after which another taker may
     * break it), waiting at most wait_ms (0 = just try): FL_ERR_LIMIT if still
     * held by someone else then. *token identifies this holding. */
    int (*lock)(struct state_global *g, const char *user, const char *key, uint64_t lease_ms,
                uint64_t wait_ms, uint64_t *token, struct fl_error *err);
    /* Releases a holding; FL_ERR_NOT_FOUND if token no longer holds it (lease
     * expired and the lock was taken or released since). */
    int (*unlock)(struct state_global *g, const char *user, const char *key, uint64_t token,
                  struct fl_error *err);
    /* Counters since creation; optional (NULL: not kept). */
    void (*stats)(struct state_global *g, struct state_global_stats *out);
    /* Frees the backend and everything it holds. */
    void (*destroy)(struct state_global *g);
};

/* Every backend's object starts with this. */
struct state_global {
    const struct state_global_ops *ops;
};

/* Creates the in-process backend (the single-host default). NULL on OOM. */
struct state_global *state_global_inproc_create(void);

/* ---- Store and local tier ---- */

struct state_store;
struct state_value;

struct state_store_options {
    struct state_global *global;  /* the store takes ownership; NULL = in-process */
    uint64_t max_value_bytes;     /* 0 = STATE_DEFAULT_MAX_VALUE_BYTES; address space
                                   * reserved per local value */
    uint64_t lock_lease_ms;       /* 0 = STATE_DEFAULT_LOCK_LEASE_MS */
};

/* Creates a store (one per process). opts may be NULL. Destroy with
 * state_store_destroy, which also destroys the global backend. */
struct state_store *state_store_create(const struct state_store_options *opts,
                                       struct fl_error *err);
void state_store_destroy(struct state_store *store);

/* The store's global backend (owned by the store). */
struct state_global *state_store_global(struct state_store *store);
uint64_t state_store_max_value_bytes(const struct state_store *store);

/* The local value of (user, key) if this process has one; NULL otherwise.
 * Values live as long as the store. Never allocates. */
struct state_value *state_value_find(struct state_store *store, const char *user,
                                     const char *key);

enum state_open_flags {
    /* A value absent locally takes the global value's size if there is one
     * (size is used only when the global tier has none). */
    STATE_OPEN_SIZE_FROM_GLOBAL = 1,
};

/* The local value of (user, key), created if absent: `size` bytes (see
 * flags), zero-filled, its bytes pulled from the global tier on first use.
 * FL_ERR_ARG if it exists with a different size (without the flag), names
 * too long or size 0 / over the store's limit; FL_ERR_IO from the backend. */
int state_value_open(struct state_store *store, const char *user, const char *key,
                     uint64_t size, unsigned flags, struct state_value **out,
                     struct fl_error *err);

/* The value's current size in bytes. */
uint64_t state_value_size(struct state_value *value);
/* The value's names. Static for the value's life. */
const char *state_value_user(const struct state_value *value);
const char *state_value_key(const struct state_value *value);

/* The host's view of the shared region (valid while the store lives; at least
 * size bytes; writes are seen by every mapping). Pulls nothing. */
uint8_t *state_value_data(struct state_value *value);

/* Pulls from the global tier the chunks of [offset, offset+len) that are not
 * present locally yet (never overwriting chunks written locally). */
int state_value_ensure(struct state_value *value, uint64_t offset, uint64_t len,
                       struct fl_error *err);

/* Copies [offset, offset+len) of the value into buf (ensuring it first).
 * FL_ERR_ARG if the range is not inside the value. */
int state_value_read(struct state_value *value, uint64_t offset, uint8_t *buf, uint64_t len,
                     struct fl_error *err);

/* Copies data into the value at offset and marks those chunks dirty.
 * FL_ERR_ARG if the range is not inside the value. */
int state_value_write(struct state_value *value, uint64_t offset, const uint8_t *data,
                      uint64_t len, struct fl_error *err);

/* Replaces the value with len bytes of data (its size becomes len; len 0
 * allowed) and marks it all dirty. Existing mappings stay valid. */
int state_value_replace(struct state_value *value, const uint8_t *data, uint64_t len,
                        struct fl_error *err);

/* Marks [offset, offset+len) (whole chunks) as modified. FL_ERR_ARG if outside. */
int state_value_flag_dirty(struct state_value *value, uint64_t offset, uint64_t len,
                           struct fl_error *err);

/* Writes the whole value to the global tier; clears the dirty marks. */
int state_value_push(struct state_value *value, struct fl_error *err);
/* Writes only the dirty chunks (the value's size too); clears the marks. */
int state_value_push_partial(struct state_value *value, struct fl_error *err);
/* Writes the bytes whose byte in mask (another value of the same size) is
 * non-zero. FL_ERR_ARG if the sizes differ. */
int state_value_push_masked(struct state_value *value, struct state_value *mask,
                            struct fl_error *err);
/* Replaces the local bytes with the global value's (cut or zero-filled to the
 * local size) and clears the dirty marks; a missing global value leaves the
 * local one as it is. */
int state_value_pull(struct state_value *value, struct fl_error *err);

/* The value of (user, key) for locking only: created without a size if
 * absent (so locking first does not fix the size; find/push still see no
 * value until an open). */
int state_value_lockable(struct state_store *store, const char *user, const char *key,
                         struct state_value **out, struct fl_error *err);

/* Host-local reader/writer lock of the value. Not owned by a thread (a
 * Faaslet on a fiber may release it from another thread). Waits at most
 * wait_ms (0 = try once); FL_ERR_LIMIT if it could not take it. */
int state_value_lock(struct state_value *value, bool write, uint64_t wait_ms);
/* Releases a hold taken with state_value_lock(write). */
void state_value_unlock(struct state_value *value, bool write);

/* Maps the value's shared region at addr (page-aligned, MAP_FIXED, len bytes,
 * a multiple of the page size and at least the value's size; the caller owns
 * that address range, e.g. freshly grown pages of a runtime_memory). The file
 * behind it grows to len if needed, so no access in the range faults. */
int state_map_into(struct state_value *value, void *addr, uint64_t len, struct fl_error *err);

/* Undoes state_map_into: [addr, addr+len) becomes private anonymous memory,
 * zero-filled and read/write if accessible, else PROT_NONE (a reservation). */
int state_unmap_from(void *addr, uint64_t len, bool accessible, struct fl_error *err);

/* ---- Global tier shortcuts (append lists and global locks) ---- */

/* Size of the value: local if present, else global; 0 if neither has it. */
int state_size(struct state_store *store, const char *user, const char *key, uint64_t *size,
               struct fl_error *err);

int state_append(struct state_store *store, const char *user, const char *key,
                 const uint8_t *data, uint64_t len, struct fl_error *err);
int state_read_appended(struct state_store *store, const char *user, const char *key,
                        uint64_t n, uint8_t *buf, uint64_t cap, uint64_t *used,
                        struct fl_error *err);
int state_clear_appended(struct state_store *store, const char *user, const char *key,
                         struct fl_error *err);

/* The key's global lock with the store's lease; waits at most wait_ms. */
int state_lock_global(struct state_store *store, const char *user, const char *key,
                      uint64_t wait_ms, uint64_t *token, struct fl_error *err);
int state_unlock_global(struct state_store *store, const char *user, const char *key,
                        uint64_t token, struct fl_error *err);

#endif
