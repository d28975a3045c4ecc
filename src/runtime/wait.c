/* wait.c: memory.atomic.wait / notify. A process-wide parking lot: threads
 * that wait sit in a FIFO list of the bucket that (memory, address) hashes
 * to, each with its own condition variable; notify wakes the oldest waiters
 * on that exact key. The value compare in wait and the wake-up in notify run
 * under the bucket's lock, so a store + notify can never slip in between a
 * waiter's compare and its parking (no lost wake-ups). */
#include "runtime/runtime_internal.h"

#include <time.h>

#define LOT_BUCKETS 256
/* A parked thread wakes at least this often to see exec->interrupt. */
#define INTERRUPT_POLL_NS 10000000ll

struct waiter {
    struct runtime_memory *memory;
    uint64_t ea;
    pthread_cond_t cond;
    bool woken;                  /* set by notify, under the bucket lock */
    struct waiter *prev, *next;
};

struct bucket {
    pthread_mutex_t lock;        /* guards head, tail and every listed waiter */
    struct waiter *head, *tail;
};

/* The parking lot: process-wide because a wait and its notify may come from
 * any instance or store that shares the memory. Buckets are never freed. */
static struct bucket lot[LOT_BUCKETS] = {
    [0 ... LOT_BUCKETS - 1] = {.lock = PTHREAD_MUTEX_INITIALIZER},
};

static struct bucket *bucket_of(const struct runtime_memory *memory, uint64_t ea)
{
    uint64_t h = ((uint64_t)(uintptr_t)memory >> 4) ^ (ea * 0x9E3779B97F4A7C15ull);
    h ^= h >> 29;
    return &lot[h % LOT_BUCKETS];
}

static void unlink_waiter(struct bucket *b, struct waiter *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        b->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        b->tail = w->prev;
    w->prev = w->next = NULL;
}

/* Alignment first, then bounds, as the reference interpreter checks. */
static int check_access(struct runtime_memory *memory, uint64_t ea, uint32_t size)
{
    if (ea % size != 0)
        return RUNTIME_TRAP_UNALIGNED_ATOMIC;
    uint64_t limit = atomic_load_explicit(&memory->size, memory_order_acquire);
    if (ea > limit || size > limit - ea)
        return RUNTIME_TRAP_MEMORY_OUT_OF_BOUNDS;
    return RUNTIME_OK;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

int runtime_atomic_wait(struct runtime_exec *exec, struct runtime_memory *memory, uint64_t ea,
                        uint64_t expected, bool is64, int64_t timeout_ns, uint32_t *result)
{
    int trap = check_access(memory, ea, is64 ? 8 : 4);
    if (trap != RUNTIME_OK)
        return trap;
    if (!memory->shared)
        return RUNTIME_TRAP_EXPECTED_SHARED_MEMORY;

    struct waiter w = {.memory = memory, .ea = ea};
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&w.cond, &attr);
    pthread_condattr_destroy(&attr);

    int64_t start = now_ns();
    /* A deadline past what int64 holds (~292 years) is the same as never. */
    int64_t deadline = timeout_ns < 0 || timeout_ns > INT64_MAX - start ? INT64_MAX
                                                                        : start + timeout_ns;
    struct bucket *b = bucket_of(memory, ea);
    pthread_mutex_lock(&b->lock);
    uint8_t *p = memory->base + ea;
    uint64_t actual = is64 ? __atomic_load_n((uint64_t *)p, __ATOMIC_SEQ_CST)
                           : __atomic_load_n((uint32_t *)p, __ATOMIC_SEQ_CST);
    if (actual != (is64 ? expected : (uint32_t)expected)) {
        pthread_mutex_unlock(&b->lock);
        pthread_cond_destroy(&w.cond);
        *result = 1;
        return RUNTIME_OK;
    }
    w.prev = b->tail;
    if (b->tail)
        b->tail->next = &w;
    else
        b->head = &w;
    b->tail = &w;

    trap = RUNTIME_OK;
    *result = 0;
    while (!w.woken) {
        if (exec && atomic_load_explicit(&exec->interrupt, memory_order_relaxed)) {
            trap = RUNTIME_TRAP_INTERRUPTED;
            break;
        }
        int64_t now = now_ns();
        if (now >= deadline) {
            *result = 2;
            break;
        }
        int64_t until = deadline - now > INTERRUPT_POLL_NS ? now + INTERRUPT_POLL_NS : deadline;
        struct timespec ts = {.tv_sec = until / 1000000000ll, .tv_nsec = until % 1000000000ll};
        pthread_cond_timedwait(&w.cond, &b->lock, &ts);
    }
    if (!w.woken)
        unlink_waiter(b, &w); /* every break above leaves it still listed */
    pthread_mutex_unlock(&b->lock);
    pthread_cond_destroy(&w.cond);
    return trap;
}

int runtime_atomic_notify(struct runtime_memory *memory, uint64_t ea, uint32_t count,
                          uint32_t *woken)
{
    *woken = 0;
    int trap = check_access(memory, ea, 4);
    if (trap != RUNTIME_OK)
        return trap;
    if (!memory->shared || count == 0)
        return RUNTIME_OK; /* nobody can wait on an unshared memory */
    struct bucket *b = bucket_of(memory, ea);
    pthread_mutex_lock(&b->lock);
    struct waiter *w = b->head;
    while (w && *woken < count) {
        struct waiter *next = w->next;
        if (w->memory == memory && w->ea == ea) {
            unlink_waiter(b, w);
            w->woken = true;
            pthread_cond_signal(&w->cond);
            (*woken)++;
        }
        w = next;
    }
    pthread_mutex_unlock(&b->lock);
    return RUNTIME_OK;
}
