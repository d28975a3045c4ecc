/* test_state.c: unit tests of the state store (src/state): local values over
 * the in-process global tier, push/pull, partial and masked pushes, appends
 * and locks from many threads, lease expiry, and shared mappings into two
 * runtime memories. Run as `test_state <test name>`. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/runtime.h"
#include "state/state.h"

static struct fl_error err;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            exit(1);                                                                 \
        }                                                                            \
    } while (0)
#define CHECK_OK(expr)                                                                    \
    do {                                                                                  \
        int rc_ = (expr);                                                                 \
        if (rc_ != 0) {                                                                   \
            fprintf(stderr, "%s:%d: %s failed: %d %s\n", __FILE__, __LINE__, #expr, rc_, \
                    err.msg);                                                             \
            exit(1);                                                                      \
        }                                                                                 \
    } while (0)


static struct state_store *new_store(uint64_t lease_ms)
{
    struct state_store_options o = {.lock_lease_ms = lease_ms, .max_value_bytes = 256u << 20};
    struct state_store *s = state_store_create(&o, &err);
    CHECK(s != NULL);
    return s;
}

static struct state_global_stats stats(struct state_store *s)
{
    struct state_global *g = state_store_global(s);
    struct state_global_stats st;
    memset(&st, 0, sizeof st);
    g->ops->stats(g, &st);
    return st;
}

static struct state_value *open_value(struct state_store *s, const char *key, uint64_t size)
{
    struct state_value *v = NULL;
    CHECK_OK(state_value_open(s, "alice", key, size, 0, &v, &err));
    return v;
}

static void test_push_then_pull_round_trips_through_global(void)
{
    struct state_store *s = new_store(0);
    struct state_global *g = state_store_global(s);
    struct state_value *v = open_value(s, "k", 11);
    CHECK_OK(state_value_write(v, 0, (const uint8_t *)"hello world", 11, &err));
    uint64_t size = 0;
    CHECK(g->ops->size(g, "alice", "k", &size, &err) == FL_ERR_NOT_FOUND); /* not pushed yet */
    CHECK_OK(state_value_push(v, &err));
    uint8_t *data;
    uint64_t len;
    CHECK_OK(g->ops->get(g, "alice", "k", &data, &len, &err));
    CHECK(len == 11 && memcmp(data, "hello world", 11) == 0);
    free(data);
    /* Another host changes the global copy; a pull brings it in. */
    CHECK_OK(g->ops->set(g, "alice", "k", (const uint8_t *)"HELLO WORLD", 11, &err));
    uint8_t buf[11];
    CHECK_OK(state_value_read(v, 0, buf, 11, &err));
    CHECK(memcmp(buf, "hello world", 11) == 0); /* local until pulled */
    CHECK_OK(state_value_pull(v, &err));
    CHECK_OK(state_value_read(v, 0, buf, 11, &err));
    CHECK(memcmp(buf, "HELLO WORLD", 11) == 0);
    /* Users are separate namespaces. */
    CHECK(g->ops->size(g, "bob", "k", &size, &err) == FL_ERR_NOT_FOUND);
    CHECK(state_value_find(s, "bob", "k") == NULL);
    state_store_destroy(s);
}

static void test_value_is_pulled_lazily_on_first_use(void)
{
    struct state_store *s = new_store(0);
    struct state_global *g = state_store_global(s);
    uint64_t n = 16 * STATE_CHUNK_SIZE;
    uint8_t *src = malloc(n);
    for (uint64_t i = 0; i < n; i++)
        src[i] = (uint8_t)(i * 7);
    CHECK_OK(g->ops->set(g, "alice", "big", src, n, &err));
    struct state_value *v = NULL;
    CHECK_OK(state_value_open(s, "alice", "big", 1, STATE_OPEN_SIZE_FROM_GLOBAL, &v, &err));
    CHECK(state_value_size(v) == n);
    uint64_t size;
    CHECK_OK(state_size(s, "alice", "big", &size, &err));
    CHECK(size == n);
    struct state_global_stats before = stats(s);
    uint8_t buf[10];
    CHECK_OK(state_value_read(v, 5 * STATE_CHUNK_SIZE + 3, buf, 10, &err));
    CHECK(memcmp(buf, src + 5 * STATE_CHUNK_SIZE + 3, 10) == 0);
    struct state_global_stats after = stats(s);
    CHECK(after.bytes_read - before.bytes_read == STATE_CHUNK_SIZE); /* one chunk only */
    /* Reading it again pulls nothing. */
    CHECK_OK(state_value_read(v, 5 * STATE_CHUNK_SIZE, buf, 10, &err));
    CHECK(stats(s).bytes_read == after.bytes_read);
    /* A whole read pulls the rest. */
    uint8_t *all = malloc(n);
    CHECK_OK(state_value_read(v, 0, all, n, &err));
    CHECK(memcmp(all, src, n) == 0);
    CHECK(stats(s).bytes_read - before.bytes_read == n);
    free(all);
    free(src);
    state_store_destroy(s);
}

static void test_partial_push_sends_only_dirty_chunks(void)
{
    struct state_store *s = new_store(0);
    struct state_global *g = state_store_global(s);
    uint64_t n = 16 * STATE_CHUNK_SIZE + 100; /* last chunk partial */
    struct state_value *v = open_value(s, "p", n);
    CHECK_OK(state_value_push(v, &err));
    struct state_global_stats base = stats(s);
    CHECK_OK(state_value_write(v, 3 * STATE_CHUNK_SIZE + 10, (const uint8_t *)"abc", 3, &err));
    CHECK_OK(state_value_write(v, n - 2, (const uint8_t *)"yz", 2, &err));
    /* Writes through a mapping are flagged by byte range. */
    uint8_t *data = state_value_data(v);
    memcpy(data + 10 * STATE_CHUNK_SIZE, "MAP", 3);
    CHECK_OK(state_value_flag_dirty(v, 10 * STATE_CHUNK_SIZE, 3, &err));
    CHECK_OK(state_value_push_partial(v, &err));
    struct state_global_stats st = stats(s);
    CHECK(st.chunk_writes - base.chunk_writes == 3);
    CHECK(st.bytes_written - base.bytes_written == 2 * STATE_CHUNK_SIZE + 100);
    uint8_t buf[3];
    CHECK_OK(g->ops->get_range(g, "alice", "p", 3 * STATE_CHUNK_SIZE + 10, buf, 3, NULL, &err));
    CHECK(memcmp(buf, "abc", 3) == 0);
    CHECK_OK(g->ops->get_range(g, "alice", "p", 10 * STATE_CHUNK_SIZE, buf, 3, NULL, &err));
    CHECK(memcmp(buf, "MAP", 3) == 0);
    CHECK_OK(g->ops->get_range(g, "alice", "p", n - 2, buf, 2, NULL, &err));
    CHECK(memcmp(buf, "yz", 2) == 0);
    /* The marks are cleared: a second partial push writes nothing. */
    CHECK_OK(state_value_push_partial(v, &err));
    CHECK(stats(s).chunk_writes == st.chunk_writes);
    state_store_destroy(s);
}

static void test_partial_write_keeps_global_bytes_of_its_chunk(void)
{
    struct state_store *s = new_store(0);
    struct state_global *g = state_store_global(s);
    uint8_t src[200];
    memset(src, 'g', sizeof src);
    CHECK_OK(g->ops->set(g, "alice", "w", src, sizeof src, &err));
    struct state_value *v = open_value(s, "w", sizeof src); /* nothing pulled yet */
    CHECK_OK(state_value_write(v, 50, (const uint8_t *)"LL", 2, &err));
    CHECK_OK(state_value_push_partial(v, &err));
    uint8_t buf[200];
    CHECK_OK(g->ops->get_range(g, "alice", "w", 0, buf, 200, NULL, &err));
    CHECK(buf[0] == 'g' && buf[49] == 'g' && buf[50] == 'L' && buf[51] == 'L' && buf[199] == 'g');
    state_store_destroy(s);
}

static void test_masked_push_writes_only_masked_bytes(void)
{
    struct state_store *s = new_store(0);
    struct state_global *g = state_store_global(s);
    struct state_value *v = open_value(s, "m", 4);
    CHECK_OK(state_value_replace(v, (const uint8_t *)"abcd", 4, &err));
    CHECK_OK(state_value_push(v, &err));
    struct state_value *mask = open_value(s, "mask", 4);
    CHECK_OK(state_value_replace(mask, (const uint8_t[]){1, 0, 1, 0}, 4, &err));
    CHECK_OK(state_value_replace(v, (const uint8_t *)"ABCD", 4, &err));
    CHECK_OK(state_value_push_masked(v, mask, &err));
    uint8_t buf[4];
    CHECK_OK(g->ops->get_range(g, "alice", "m", 0, buf, 4, NULL, &err));
    CHECK(memcmp(buf, "AbCd", 4) == 0);
    struct state_value *other = open_value(s, "other", 5);
    CHECK(state_value_push_masked(other, mask, &err) == FL_ERR_ARG);
    state_store_destroy(s);
}

struct append_arg {
    struct state_store *store;
    uint32_t id;
};

#define APPEND_THREADS 8
#define APPENDS_EACH 2000

static void *append_thread(void *p)
{
    struct append_arg *a = p;
    for (uint32_t i = 0; i < APPENDS_EACH; i++) {
        uint32_t elem[2] = {a->id, i};
        struct fl_error e;
        if (state_append(a->store, "alice", "log", (const uint8_t *)elem, sizeof elem, &e) != 0)
            abort();
    }
    return NULL;
}

static void test_appends_from_many_threads_lose_nothing(void)
{
    struct state_store *s = new_store(0);
    pthread_t t[APPEND_THREADS];
    struct append_arg a[APPEND_THREADS];
    for (uint32_t i = 0; i < APPEND_THREADS; i++) {
        a[i] = (struct append_arg){s, i};
        CHECK(pthread_create(&t[i], NULL, append_thread, &a[i]) == 0);
    }
    for (uint32_t i = 0; i < APPEND_THREADS; i++)
        pthread_join(t[i], NULL);
    uint64_t total = APPEND_THREADS * APPENDS_EACH;
    uint32_t *all = malloc(total * 8);
    uint64_t used = 0;
    CHECK_OK(state_read_appended(s, "alice", "log", total, (uint8_t *)all, total * 8, &used,
                                 &err));
    CHECK(used == total * 8);
    /* Each thread's elements are all there, in that thread's order. */
    uint32_t next[APPEND_THREADS] = {0};
    for (uint64_t i = 0; i < total; i++) {
        uint32_t id = all[2 * i], seq = all[2 * i + 1];
        CHECK(id < APPEND_THREADS && seq == next[id]);
        next[id]++;
    }
    /* Asking for more than exist, or a buffer too small, is an error. */
    CHECK(state_read_appended(s, "alice", "log", total + 1, (uint8_t *)all, total * 8 + 8,
                              &used, &err) == FL_ERR_LIMIT);
    CHECK(state_read_appended(s, "alice", "log", 2, (uint8_t *)all, 15, &used, &err) ==
          FL_ERR_LIMIT);
    CHECK_OK(state_clear_appended(s, "alice", "log", &err));
    CHECK(state_read_appended(s, "alice", "log", 1, (uint8_t *)all, 8, &used, &err) ==
          FL_ERR_LIMIT);
    CHECK_OK(state_read_appended(s, "alice", "log", 0, (uint8_t *)all, 0, &used, &err));
    free(all);
    state_store_destroy(s);
}

#define LOCK_THREADS 8
#define INCREMENTS_EACH 2000

static void *counter_thread(void *p)
{
    struct state_value *v = p;
    for (int i = 0; i < INCREMENTS_EACH; i++) {
        if (state_value_lock(v, true, 60000) != 0)
            abort();
        /* A deliberately non-atomic read-modify-write: only the lock makes it exact. */
        volatile uint64_t *c = (volatile uint64_t *)state_value_data(v);
        uint64_t x = *c;
        if (i % 64 == 0)
            sched_yield();
        *c = x + 1;
        state_value_unlock(v, true);
    }
    return NULL;
}

static void test_counter_under_write_lock_is_exact(void)
{
    struct state_store *s = new_store(0);
    struct state_value *v = open_value(s, "counter", 8);
    pthread_t t[LOCK_THREADS];
    for (int i = 0; i < LOCK_THREADS; i++)
        CHECK(pthread_create(&t[i], NULL, counter_thread, v) == 0);
    for (int i = 0; i < LOCK_THREADS; i++)
        pthread_join(t[i], NULL);
    uint64_t c;
    memcpy(&c, state_value_data(v), 8);
    CHECK(c == (uint64_t)LOCK_THREADS * INCREMENTS_EACH);
    state_store_destroy(s);
}

static void *unlock_read_thread(void *p)
{
    state_value_unlock(p, false);
    return NULL;
}

static void test_readers_share_and_writers_exclude(void)
{
    struct state_store *s = new_store(0);
    struct state_value *v = NULL;
    /* Locking alone does not fix the size. */
    CHECK_OK(state_value_lockable(s, "alice", "rw", &v, &err));
    CHECK(state_value_find(s, "alice", "rw") == NULL);
    CHECK(state_value_lock(v, false, 0) == 0);
    CHECK(state_value_lock(v, false, 0) == 0);
    CHECK(state_value_lock(v, true, 20) == FL_ERR_LIMIT);
    state_value_unlock(v, false);
    /* A hold may be released by another thread (Faaslets move between threads). */
    pthread_t t;
    CHECK(pthread_create(&t, NULL, unlock_read_thread, v) == 0);
    pthread_join(t, NULL);
    CHECK(state_value_lock(v, true, 0) == 0);
    CHECK(state_value_lock(v, false, 10) == FL_ERR_LIMIT);
    state_value_unlock(v, true);
    struct state_value *same = open_value(s, "rw", 100);
    CHECK(same == v && state_value_size(v) == 100);
    state_store_destroy(s);
}

struct global_arg {
    struct state_store *store;
};

static void *global_counter_thread(void *p)
{
    struct state_store *s = p;
    struct state_global *g = state_store_global(s);
    for (int i = 0; i < 300; i++) {
        uint64_t token;
        struct fl_error e;
        if (state_lock_global(s, "alice", "gc", 60000, &token, &e) != 0)
            abort();
        uint64_t c = 0;
        int rc = g->ops->get_range(g, "alice", "gc", 0, (uint8_t *)&c, 8, NULL, &e);
        if (rc != 0 && rc != FL_ERR_NOT_FOUND)
            abort();
        c++;
        if (g->ops->set(g, "alice", "gc", (const uint8_t *)&c, 8, &e) != 0)
            abort();
        if (state_unlock_global(s, "alice", "gc", token, &e) != 0)
            abort();
    }
    return NULL;
}

static void test_counter_under_global_lock_is_exact(void)
{
    struct state_store *s = new_store(0);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        CHECK(pthread_create(&t[i], NULL, global_counter_thread, s) == 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    struct state_global *g = state_store_global(s);
    uint64_t c = 0;
    CHECK_OK(g->ops->get_range(g, "alice", "gc", 0, (uint8_t *)&c, 8, NULL, &err));
    CHECK(c == 1200);
    state_store_destroy(s);
}

static void test_global_lock_lease_expires(void)
{
    struct state_store *s = new_store(100);
    uint64_t crashed, second;
    CHECK_OK(state_lock_global(s, "alice", "lease", 0, &crashed, &err));
    CHECK(state_lock_global(s, "alice", "lease", 0, &second, &err) == FL_ERR_LIMIT);
    CHECK(strstr(err.msg, "alice/lease") != NULL);
    /* The holder "crashed": after its lease another taker gets the lock. */
    CHECK_OK(state_lock_global(s, "alice", "lease", 5000, &second, &err));
    CHECK(second != crashed);
    CHECK(state_unlock_global(s, "alice", "lease", crashed, &err) == FL_ERR_NOT_FOUND);
    CHECK_OK(state_unlock_global(s, "alice", "lease", second, &err));
    /* Other keys and users are independent locks. */
    uint64_t a, b;
    CHECK_OK(state_lock_global(s, "alice", "x", 0, &a, &err));
    CHECK_OK(state_lock_global(s, "bob", "x", 0, &b, &err));
    state_store_destroy(s);
}

static struct runtime_memory *new_memory(struct runtime_store *rs, uint64_t pages)
{
    struct wasm_limits lim = {.min = pages, .max = 0, .has_max = false};
    struct runtime_memory *m = runtime_memory_create(rs, &lim, &err);
    CHECK(m != NULL);
    return m;
}

static void test_mapping_shares_writes_between_memories(void)
{
    struct state_store *s = new_store(0);
    struct runtime_store *rs = runtime_store_create();
    struct runtime_memory *m1 = new_memory(rs, 1), *m2 = new_memory(rs, 3);
    uint64_t n = 3 * WASM_PAGE_SIZE + 5;
    struct state_value *v = open_value(s, "shared", n);
    CHECK_OK(state_value_write(v, 0, (const uint8_t *)"host", 4, &err));
    uint64_t pages = 4;
    int64_t old1 = runtime_memory_grow(m1, pages), old2 = runtime_memory_grow(m2, pages);
    CHECK(old1 == 1 && old2 == 3);
    uint64_t a1 = (uint64_t)old1 * WASM_PAGE_SIZE, a2 = (uint64_t)old2 * WASM_PAGE_SIZE;
    CHECK_OK(state_map_into(v, m1->base + a1, pages * WASM_PAGE_SIZE, &err));
    CHECK_OK(state_map_into(v, m2->base + a2, pages * WASM_PAGE_SIZE, &err));
    uint8_t *p1 = runtime_memory_ptr(m1, a1, n), *p2 = runtime_memory_ptr(m2, a2, n);
    CHECK(p1 && p2 && memcmp(p1, "host", 4) == 0 && memcmp(p2, "host", 4) == 0);
    struct state_global_stats before = stats(s);
    memcpy(p1 + n - 3, "one", 3);
    CHECK(memcmp(p2 + n - 3, "one", 3) == 0);
    memcpy(p2 + 100, "two", 3);
    CHECK(memcmp(p1 + 100, "two", 3) == 0);
    CHECK(memcmp(state_value_data(v) + 100, "two", 3) == 0);
    /* No copy, no global traffic happened. */
    struct state_global_stats after = stats(s);
    CHECK(after.bytes_read == before.bytes_read && after.bytes_written == before.bytes_written);
    /* The slack past the value up to the page end is mapped too (no fault). */
    p1[pages * WASM_PAGE_SIZE - 1] = 1;
    /* Detaching: the range becomes private memory again; the value keeps its bytes. */
    CHECK_OK(state_unmap_from(m1->base + a1, pages * WASM_PAGE_SIZE, true, &err));
    CHECK(p1[100] == 0);
    memcpy(p1 + 100, "xxx", 3);
    CHECK(memcmp(p2 + 100, "two", 3) == 0);
    /* Mapping must be page-aligned and cover the value. */
    CHECK(state_map_into(v, m1->base + a1 + 1, WASM_PAGE_SIZE, &err) == FL_ERR_ARG);
    CHECK(state_map_into(v, m1->base + a1, WASM_PAGE_SIZE, &err) == FL_ERR_ARG);
    runtime_store_destroy(rs);
    state_store_destroy(s);
}

static void test_replace_resizes_and_old_mappings_stay_valid(void)
{
    struct state_store *s = new_store(0);
    struct runtime_store *rs = runtime_store_create();
    struct runtime_memory *m = new_memory(rs, 1);
    struct state_value *v = open_value(s, "r", 10);
    CHECK_OK(state_value_replace(v, (const uint8_t *)"0123456789", 10, &err));
    CHECK(runtime_memory_grow(m, 1) == 1);
    CHECK_OK(state_map_into(v, m->base + WASM_PAGE_SIZE, WASM_PAGE_SIZE, &err));
    uint8_t *p = m->base + WASM_PAGE_SIZE;
    CHECK_OK(state_value_replace(v, (const uint8_t *)"ab", 2, &err));
    CHECK(state_value_size(v) == 2 && memcmp(p, "ab\0\0", 4) == 0);
    uint8_t *big = calloc(1, 3 * STATE_CHUNK_SIZE);
    big[0] = 'Z';
    CHECK_OK(state_value_replace(v, big, 3 * STATE_CHUNK_SIZE, &err));
    CHECK(p[0] == 'Z'); /* the old mapping still shows the value's first page */
    /* The size is now fixed: opening with another size is an error. */
    struct state_value *w;
    CHECK(state_value_open(s, "alice", "r", 10, 0, &w, &err) == FL_ERR_ARG);
    CHECK(strstr(err.msg, "alice/r") != NULL);
    free(big);
    runtime_store_destroy(rs);
    state_store_destroy(s);
}

static void test_bad_arguments_are_errors_not_crashes(void)
{
    struct state_store *s = new_store(0);
    struct state_value *v;
    char long_key[2000];
    memset(long_key, 'k', sizeof long_key - 1);
    long_key[sizeof long_key - 1] = '\0';
    CHECK(state_value_open(s, "alice", long_key, 1, 0, &v, &err) == FL_ERR_ARG);
    CHECK(state_value_open(s, "alice", "huge", 1ull << 40, 0, &v, &err) == FL_ERR_LIMIT);
    v = open_value(s, "small", 8);
    uint8_t buf[16];
    CHECK(state_value_read(v, 4, buf, 5, &err) == FL_ERR_ARG);
    CHECK(state_value_read(v, UINT64_MAX, buf, 2, &err) == FL_ERR_ARG);
    CHECK(state_value_write(v, 8, buf, 1, &err) == FL_ERR_ARG);
    CHECK(state_value_flag_dirty(v, 2, UINT64_MAX, &err) == FL_ERR_ARG);
    CHECK(state_value_replace(v, buf, 1ull << 40, &err) == FL_ERR_LIMIT);
    CHECK_OK(state_value_read(v, 8, buf, 0, &err));
    /* Zero-byte values work. */
    struct state_value *z = open_value(s, "zero", 0);
    CHECK_OK(state_value_push(z, &err));
    CHECK_OK(state_value_push_partial(z, &err));
    CHECK_OK(state_value_pull(z, &err));
    uint64_t size = 1;
    CHECK_OK(state_size(s, "alice", "zero", &size, &err));
    CHECK(size == 0);
    CHECK_OK(state_size(s, "alice", "never", &size, &err));
    CHECK(size == 0);
    state_store_destroy(s);
}

static const struct {
    const char *name;
    void (*fn)(void);
} tests[] = {
#define T(x) {#x, x}
    T(test_push_then_pull_round_trips_through_global),
    T(test_value_is_pulled_lazily_on_first_use),
    T(test_partial_push_sends_only_dirty_chunks),
    T(test_partial_write_keeps_global_bytes_of_its_chunk),
    T(test_masked_push_writes_only_masked_bytes),
    T(test_appends_from_many_threads_lose_nothing),
    T(test_counter_under_write_lock_is_exact),
    T(test_readers_share_and_writers_exclude),
    T(test_counter_under_global_lock_is_exact),
    T(test_global_lock_lease_expires),
    T(test_mapping_shares_writes_between_memories),
    T(test_replace_resizes_and_old_mappings_stay_valid),
    T(test_bad_arguments_are_errors_not_crashes),
#undef T
};

int main(int argc, char **argv)
{
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        if (argc < 2 || strcmp(argv[1], tests[i].name) == 0) {
            tests[i].fn();
            if (argc < 2)
                printf("ok %s\n", tests[i].name);
        }
    }
    if (argc >= 2) {
        for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
            if (strcmp(argv[1], tests[i].name) == 0)
                return 0;
        }
        fprintf(stderr, "unknown test %s\n", argv[1]);
        return 2;
    }
    return 0;
}
