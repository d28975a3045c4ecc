/* exec.c: the executor. Calls live in a registry (id -> call); a run queue
 * holds calls to start or resume; worker threads take calls from it and
 * switch to their fibers. A fiber that awaits an unfinished call parks
 * itself on that call's waiter list and switches back to its worker with
 * the executor lock still held (the worker releases it), so a completion
 * can only re-queue a fiber that has really left its worker. A timer thread
 * interrupts calls that run past their deadline and wakes calls whose
 * guest sleeps (a min-heap by wake time), so sleeping calls hold no thread.
 *
 * Locking: exec->lock guards the registry, the run queue, every call's
 * status/waiters/children and the idle lists; a function entry's load_lock
 * serialises loading its proto-faaslet (workers may block on it briefly). */
#define _GNU_SOURCE
#include "exec/exec.h"
#include "exec/fiber.h"
#include "runtime/snapshot.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CALL_BUCKETS 65536u
#define DEFAULT_WORKERS 4u
#define DEFAULT_FIBER_STACK (256u << 10)
#define PROTO_THREAD_STACK (8u << 20) /* proto-faaslet loads: LLVM, compiled init */
#define DEFAULT_MAX_DEPTH 64u
#define DEFAULT_MAX_CHAINED 100000u
#define DEFAULT_IDLE 64u
#define DEFAULT_VALUE_CELLS (1u << 20) /* as the runtime's default value stack */

struct fn_entry {
    struct fn_entry *next;
    char user[FAASLET_MAX_NAME + 1];
    char function[FAASLET_MAX_NAME + 1];
    pthread_mutex_t load_lock;        /* guards proto, load_error while loading */
    struct faaslet_proto *proto;
    char load_error[FAASLET_MAX_ERROR];
    bool loaded;
    struct idle_faaslet *idle;        /* exec->lock */
    uint32_t idle_count;              /* exec->lock */
    uint32_t users;                   /* calls holding proto; exec->lock */
    bool forgotten;                   /* exec->lock: destroy when users reaches 0 */
};

struct idle_faaslet {
    struct idle_faaslet *next;
    struct faaslet *faaslet;
};

struct call {
    struct exec_msg msg;              /* status, output, rv: exec->lock once running */
    struct call *hash_next;
    struct call *queue_next;          /* run queue */
    struct exec *exec;
    struct exec_fiber *fiber;         /* while started and not finished */
    struct faaslet *faaslet;          /* while running; exec->lock */
    struct call *waiters;             /* calls parked awaiting this one */
    struct call *wait_next;           /* link in the waiters list of waiting_on */
    struct call *waiting_on;          /* set while parked */
    uint32_t *children;               /* calls this one chained */
    uint32_t child_count, child_cap;
    bool done;
    bool timed_out;
    bool orphan;                      /* parent gone: free when done */
    bool released;                    /* submitter released it: free when done */
    bool awaited;                     /* a thread waits in exec_await for it */
    uint64_t deadline_ns;             /* monotonic; 0 = none */
    struct call *timer_next, *timer_prev;
    bool in_timer;
    uint64_t wake_ns;                 /* monotonic; while in the sleepers heap */
    uint32_t sleep_slot;              /* 1-based index in exec->sleepers, 0 = not sleeping */
    void (*on_finish)(void *data, uint32_t id); /* exec_request's, submitted calls only */
    void *on_finish_data;
};

struct worker {
    struct exec *exec;
    pthread_t thread;
    struct exec_fiber_ctx ctx;
    bool started;
};

struct exec {
    struct exec_config config;
    char store_dir[4096];
    char files_dir[4096];
    char hostname[64];
    pthread_mutex_t lock;
    pthread_cond_t work_cv;           /* run queue became non-empty / stop */
    pthread_cond_t done_cv;           /* a call with c->awaited set finished */
    pthread_cond_t timer_cv;
    struct call *buckets[CALL_BUCKETS];
    struct call *queue_head, *queue_tail;
    struct call *timers;              /* calls with deadlines, unsorted */
    struct call **sleepers;           /* min-heap by wake_ns, 1-based (slot 0 unused) */
    uint32_t sleeper_count, sleeper_cap;
    struct fn_entry *functions;
    struct exec_fiber_pool *fibers;
    _Atomic uint32_t next_id;
    bool stop;
    struct worker *workers;
    pthread_t timer_thread;
    bool timer_started;
    uint64_t timer_wake_ns;           /* the timer thread sleeps until then; 0 = until signalled */
    struct exec_stats stats;
};

static uint64_t now_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void exec_msg_fini(struct exec_msg *msg)
{
    free(msg->input);
    free(msg->output);
    free(msg->cmdline);
    memset(msg, 0, sizeof *msg);
}

/* ---- registry (exec->lock held) ----------------------------------------- */

static struct call *lookup(struct exec *e, uint32_t id)
{
    for (struct call *c = e->buckets[id % CALL_BUCKETS]; c; c = c->hash_next)
        if (c->msg.id == id)
            return c;
    return NULL;
}

static void unlink_call(struct exec *e, struct call *c)
{
    struct call **pp = &e->buckets[c->msg.id % CALL_BUCKETS];
    while (*pp && *pp != c)
        pp = &(*pp)->hash_next;
    if (*pp)
        *pp = c->hash_next;
}

static void free_call(struct exec *e, struct call *c);

/* Drops a finished call's children: finished ones now, the others when they
 * finish. */
static void drop_children(struct exec *e, struct call *c)
{
    for (uint32_t i = 0; i < c->child_count; i++) {
        struct call *child = lookup(e, c->children[i]);
        if (!child)
            continue;
        if (child->done)
            free_call(e, child);
        else
            child->orphan = true;
    }
    c->child_count = 0;
}

static void free_call(struct exec *e, struct call *c)
{
    unlink_call(e, c);
    drop_children(e, c);
    free(c->children);
    exec_msg_fini(&c->msg);
    free(c);
}

static void enqueue(struct exec *e, struct call *c)
{
    c->queue_next = NULL;
    if (e->queue_tail)
        e->queue_tail->queue_next = c;
    else
        e->queue_head = c;
    e->queue_tail = c;
    pthread_cond_signal(&e->work_cv);
}

static struct call *new_call(struct exec *e, const struct exec_request *req, uint32_t parent,
                             uint32_t depth, struct fl_error *err)
{
    if (!faaslet_name_valid(req->user) || !faaslet_name_valid(req->function)) {
        fl_error_set(err, FL_ERR_ARG, "bad user or function name '%.64s/%.64s'",
                     req->user ? req->user : "", req->function ? req->function : "");
        return NULL;
    }
    struct call *c = calloc(1, sizeof *c);
    if (!c) {
        fl_error_set(err, FL_ERR_NOMEM, "exec: out of memory");
        return NULL;
    }
    c->exec = e;
    struct exec_msg *m = &c->msg;
    snprintf(m->user, sizeof m->user, "%s", req->user);
    snprintf(m->function, sizeof m->function, "%s", req->function);
    m->input = malloc(req->input_len ? req->input_len : 1);
    m->cmdline = req->cmdline ? strdup(req->cmdline) : NULL;
    if (!m->input || (req->cmdline && !m->cmdline)) {
        exec_msg_fini(m);
        free(c);
        fl_error_set(err, FL_ERR_NOMEM, "exec: out of memory");
        return NULL;
    }
    if (req->input_len)
        memcpy(m->input, req->input, req->input_len);
    m->input_len = req->input_len;
    m->func_ptr = req->func_ptr;
    m->app_id = req->app_id;
    m->parent_id = parent;
    m->depth = depth;
    m->submit_ns = now_ns(CLOCK_REALTIME);
    m->status = EXEC_QUEUED;
    snprintf(m->executing_host, sizeof m->executing_host, "%s", e->hostname);
    do
        m->id = atomic_fetch_add(&e->next_id, 1);
    while (m->id == 0);
    return c;
}

/* Registers and queues c (exec->lock held). */
static void start_call(struct exec *e, struct call *c)
{
    struct call **b = &e->buckets[c->msg.id % CALL_BUCKETS];
    c->hash_next = *b;
    *b = c;
    e->stats.calls_started++;
    enqueue(e, c);
}

uint32_t exec_submit(struct exec *e, const struct exec_request *req, struct fl_error *err)
{
    struct call *c = new_call(e, req, 0, 0, err);
    if (!c)
        return 0;
    c->on_finish = req->on_finish;
    c->on_finish_data = req->on_finish_data;
    pthread_mutex_lock(&e->lock);
    uint32_t id = c->msg.id;
    start_call(e, c);
    pthread_mutex_unlock(&e->lock);
    return id;
}

/* Threads that are not workers but start calls inline (exec_submit_inline)
 * need the runtime's signal stack; a key's destructor gives it back when
 * such a thread exits. Process-wide: the key and its once-flag. */
static void fiber_main(void *arg);
static void notify_finish(struct exec *e, struct call *c);

static pthread_once_t inline_key_once = PTHREAD_ONCE_INIT;
static pthread_key_t inline_key;

static void inline_thread_exit(void *unused)
{
    (void)unused;
    runtime_thread_detach();
}

static void inline_key_create(void)
{
    if (pthread_key_create(&inline_key, inline_thread_exit) != 0)
        inline_key = (pthread_key_t)-1;
}

static int inline_thread_attach(struct fl_error *err)
{
    pthread_once(&inline_key_once, inline_key_create);
    if (inline_key == (pthread_key_t)-1)
        return fl_error_set(err, FL_ERR_NOMEM, "exec: no thread key for inline calls");
    if (pthread_getspecific(inline_key))
        return FL_OK;
    int rc = runtime_thread_attach(err);
    if (rc == FL_OK && pthread_setspecific(inline_key, (void *)1) != 0) {
        runtime_thread_detach();
        rc = fl_error_set(err, FL_ERR_NOMEM, "exec: cannot mark the thread for inline calls");
    }
    return rc;
}

uint32_t exec_submit_inline(struct exec *e, const struct exec_request *req, struct fl_error *err)
{
    struct fl_error attach_err;
    if (inline_thread_attach(&attach_err) != FL_OK)
        return exec_submit(e, req, err); /* the workers can still run it */
    struct call *c = new_call(e, req, 0, 0, err);
    if (!c)
        return 0;
    c->on_finish = req->on_finish;
    c->on_finish_data = req->on_finish_data;
    pthread_mutex_lock(&e->lock);
    uint32_t id = c->msg.id;
    struct exec_fiber *cf = exec_fiber_pool_take(e->fibers, &attach_err);
    e->stats.fibers_created = exec_fiber_pool_size(e->fibers);
    if (!cf) {
        start_call(e, c); /* the workers will report the failure */
        pthread_mutex_unlock(&e->lock);
        return id;
    }
    struct call **b = &e->buckets[id % CALL_BUCKETS];
    c->hash_next = *b;
    *b = c;
    e->stats.calls_started++;
    c->fiber = cf;
    exec_fiber_prepare(cf, fiber_main, c);
    pthread_mutex_unlock(&e->lock);
    /* As one turn of worker_main: the fiber comes back finished or parked
     * (then a worker resumes it when it is woken), with e->lock held. */
    struct exec_fiber_ctx ctx;
    exec_fiber_switch_in(cf, &ctx);
    runtime_exec_swap_current(NULL);
    if (c->done) {
        exec_fiber_pool_give(e->fibers, c->fiber);
        c->fiber = NULL;
        notify_finish(e, c);
    }
    pthread_mutex_unlock(&e->lock);
    return id;
}

static int copy_msg(const struct exec_msg *src, struct exec_msg *dst, struct fl_error *err)
{
    *dst = *src;
    dst->input = malloc(src->input_len ? src->input_len : 1);
    dst->output = malloc(src->output_len ? src->output_len : 1);
    dst->cmdline = src->cmdline ? strdup(src->cmdline) : NULL;
    if (!dst->input || !dst->output || (src->cmdline && !dst->cmdline)) {
        exec_msg_fini(dst);
        return fl_error_set(err, FL_ERR_NOMEM, "exec: out of memory");
    }
    if (src->input_len)
        memcpy(dst->input, src->input, src->input_len);
    if (src->output_len)
        memcpy(dst->output, src->output, src->output_len);
    return FL_OK;
}

int exec_await(struct exec *e, uint32_t id, int timeout_ms, struct exec_msg *out,
               struct fl_error *err)
{
    memset(out, 0, sizeof *out);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    if (timeout_ms >= 0) {
        uint64_t ns = (uint64_t)deadline.tv_nsec + (uint64_t)timeout_ms % 1000 * 1000000ull;
        deadline.tv_sec += timeout_ms / 1000 + (time_t)(ns / 1000000000ull);
        deadline.tv_nsec = (long)(ns % 1000000000ull);
    }
    pthread_mutex_lock(&e->lock);
    int rc = FL_OK;
    for (;;) {
        struct call *c = lookup(e, id);
        if (!c) {
            rc = fl_error_set(err, FL_ERR_NOT_FOUND, "no call %u", id);
            break;
        }
        if (c->done) {
            rc = copy_msg(&c->msg, out, err);
            break;
        }
        c->awaited = true; /* so its completion wakes us (and only its) */
        int w = timeout_ms < 0 ? pthread_cond_wait(&e->done_cv, &e->lock)
                               : pthread_cond_timedwait(&e->done_cv, &e->lock, &deadline);
        if (w == ETIMEDOUT) {
            rc = fl_error_set(err, FL_ERR_LIMIT, "call %u has not finished after %d ms", id,
                              timeout_ms);
            break;
        }
    }
    pthread_mutex_unlock(&e->lock);
    return rc;
}

void exec_release(struct exec *e, uint32_t id)
{
    pthread_mutex_lock(&e->lock);
    struct call *c = lookup(e, id);
    if (c) {
        if (c->done)
            free_call(e, c);
        else
            c->released = true;
    }
    pthread_mutex_unlock(&e->lock);
}

void exec_stats_get(struct exec *e, struct exec_stats *out)
{
    pthread_mutex_lock(&e->lock);
    *out = e->stats;
    out->faaslets_idle = 0;
    for (struct fn_entry *fn = e->functions; fn; fn = fn->next)
        out->faaslets_idle += fn->idle_count;
    pthread_mutex_unlock(&e->lock);
}

/* ---- functions and Faaslets --------------------------------------------- */

static void fn_destroy(struct fn_entry *fn)
{
    while (fn->idle) {
        struct idle_faaslet *i = fn->idle;
        fn->idle = i->next;
        faaslet_destroy(i->faaslet);
        free(i);
    }
    faaslet_proto_destroy(fn->proto);
    pthread_mutex_destroy(&fn->load_lock);
    free(fn);
}

/* The entry of (user, function), created if needed; users is incremented
 * (exec->lock held by the caller). NULL on OOM. */
static struct fn_entry *fn_get(struct exec *e, const char *user, const char *function)
{
    for (struct fn_entry *fn = e->functions; fn; fn = fn->next)
        if (!strcmp(fn->user, user) && !strcmp(fn->function, function)) {
            fn->users++;
            return fn;
        }
    struct fn_entry *fn = calloc(1, sizeof *fn);
    if (!fn)
        return NULL;
    snprintf(fn->user, sizeof fn->user, "%s", user);
    snprintf(fn->function, sizeof fn->function, "%s", function);
    pthread_mutex_init(&fn->load_lock, NULL);
    fn->users = 1;
    fn->next = e->functions;
    e->functions = fn;
    return fn;
}

static void fn_put(struct fn_entry *fn)
{
    if (--fn->users == 0 && fn->forgotten)
        fn_destroy(fn);
}

void exec_forget_function(struct exec *e, const char *user, const char *function)
{
    pthread_mutex_lock(&e->lock);
    for (struct fn_entry **pp = &e->functions; *pp; pp = &(*pp)->next) {
        struct fn_entry *fn = *pp;
        if (strcmp(fn->user, user) || strcmp(fn->function, function))
            continue;
        *pp = fn->next;
        fn->forgotten = true;
        if (fn->users == 0)
            fn_destroy(fn);
        break;
    }
    pthread_mutex_unlock(&e->lock);
}

/* mkdir -p of a directory the executor owns. */
static int make_dirs(const char *path)
{
    char buf[4200];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = saved;
        if (!saved)
            return 0;
    }
}

struct proto_job {
    struct fn_entry *fn;
    const uint8_t *wasm;
    size_t len;
    const struct faaslet_config *cfg;
    struct faaslet_proto *proto;
    struct fl_error err;
};

static void *proto_job_run(void *arg)
{
    struct proto_job *job = arg;
    fl_error_clear(&job->err);
    job->proto = faaslet_proto_create(job->fn->user, job->fn->function, job->wasm, job->len,
                                      job->cfg, &job->err);
    return NULL;
}

/* Makes the proto-faaslet on a thread of its own with a full-size stack:
 * loads run on a call's fiber, whose small stack (no guard page) fits
 * neither code generation (LLVM) nor compiled _faasm_init recursion. */
static struct faaslet_proto *proto_create_on_thread(struct proto_job *job, struct fl_error *err)
{
    pthread_attr_t attr;
    pthread_t t;
    int rc = pthread_attr_init(&attr);
    if (!rc) {
        pthread_attr_setstacksize(&attr, PROTO_THREAD_STACK);
        rc = pthread_create(&t, &attr, proto_job_run, job);
        pthread_attr_destroy(&attr);
    }
    if (rc) {
        fl_error_set(err, FL_ERR_NOMEM, "exec: cannot start a thread to load %s/%s: %s",
                     job->fn->user, job->fn->function, strerror(rc));
        return NULL;
    }
    pthread_join(t, NULL);
    if (!job->proto)
        *err = job->err;
    return job->proto;
}

/* Loads fn's proto-faaslet once; false (with fn->load_error) if it cannot. */
static bool fn_load(struct exec *e, struct fn_entry *fn)
{
    pthread_mutex_lock(&fn->load_lock);
    if (!fn->loaded) {
        struct fl_error err;
        fl_error_clear(&err);
        uint8_t *wasm = NULL;
        size_t len = 0;
        struct faaslet_config cfg = e->config.faaslet;
        char root[4200];
        cfg.root_dir = NULL;
        if (e->files_dir[0]) {
            snprintf(root, sizeof root, "%s/%s/tmp", e->files_dir, fn->user);
            if (make_dirs(root) == 0) {
                snprintf(root, sizeof root, "%s/%s", e->files_dir, fn->user);
                cfg.root_dir = root;
            }
        }
        /* Compiled objects live next to the module (code-generated at
         * upload); one missing or invalid is generated again there. */
        char aot_dir[4200];
        if (!cfg.aot_dir && faaslet_store_function_dir(e->store_dir, fn->user, fn->function,
                                                       aot_dir, sizeof aot_dir, &err) == FL_OK)
            cfg.aot_dir = aot_dir;
        if (faaslet_store_read(e->store_dir, fn->user, fn->function, &wasm, &len, &err) == FL_OK) {
            struct proto_job job = {.fn = fn, .wasm = wasm, .len = len, .cfg = &cfg};
            fn->proto = proto_create_on_thread(&job, &err);
        }
        free(wasm);
        if (!fn->proto)
            snprintf(fn->load_error, sizeof fn->load_error, "%s", err.msg);
        fn->loaded = true;
    }
    pthread_mutex_unlock(&fn->load_lock);
    return fn->proto != NULL;
}

/* ---- timeouts ------------------------------------------------------------ */

static void timer_add(struct exec *e, struct call *c)
{
    c->deadline_ns = now_ns(CLOCK_MONOTONIC) + (uint64_t)e->config.timeout_ms * 1000000ull;
    c->timer_prev = NULL;
    c->timer_next = e->timers;
    if (e->timers)
        e->timers->timer_prev = c;
    e->timers = c;
    c->in_timer = true;
    /* Deadlines are mostly later than the one the timer sleeps until: waking
     * it for each would cost a context switch per call. */
    if (!e->timer_wake_ns || c->deadline_ns < e->timer_wake_ns)
        pthread_cond_signal(&e->timer_cv);
}

static void timer_remove(struct exec *e, struct call *c)
{
    if (!c->in_timer)
        return;
    if (c->timer_prev)
        c->timer_prev->timer_next = c->timer_next;
    else
        e->timers = c->timer_next;
    if (c->timer_next)
        c->timer_next->timer_prev = c->timer_prev;
    c->in_timer = false;
}

/* Removes c from the waiters of the call it is parked on and re-queues it. */
static void wake_parked(struct exec *e, struct call *c)
{
    struct call *target = c->waiting_on;
    if (!target)
        return;
    for (struct call **pp = &target->waiters; *pp; pp = &(*pp)->wait_next)
        if (*pp == c) {
            *pp = c->wait_next;
            break;
        }
    c->waiting_on = NULL;
    enqueue(e, c);
}

/* ---- sleepers: a binary min-heap of calls by wake time (exec->lock) ------- */

static void heap_set(struct exec *e, uint32_t i, struct call *c)
{
    e->sleepers[i] = c;
    c->sleep_slot = i;
}

static void heap_up(struct exec *e, uint32_t i)
{
    struct call *c = e->sleepers[i];
    while (i > 1 && e->sleepers[i / 2]->wake_ns > c->wake_ns) {
        heap_set(e, i, e->sleepers[i / 2]);
        i /= 2;
    }
    heap_set(e, i, c);
}

static void heap_down(struct exec *e, uint32_t i)
{
    struct call *c = e->sleepers[i];
    for (;;) {
        uint32_t k = 2 * i;
        if (k > e->sleeper_count)
            break;
        if (k < e->sleeper_count && e->sleepers[k + 1]->wake_ns < e->sleepers[k]->wake_ns)
            k++;
        if (e->sleepers[k]->wake_ns >= c->wake_ns)
            break;
        heap_set(e, i, e->sleepers[k]);
        i = k;
    }
    heap_set(e, i, c);
}

static bool sleeper_add(struct exec *e, struct call *c, uint64_t wake_ns)
{
    if (e->sleeper_count + 1 >= e->sleeper_cap) {
        uint32_t cap = e->sleeper_cap ? e->sleeper_cap * 2 : 256;
        struct call **h = realloc(e->sleepers, cap * sizeof *h);
        if (!h)
            return false;
        e->sleepers = h;
        e->sleeper_cap = cap;
    }
    c->wake_ns = wake_ns;
    e->sleepers[++e->sleeper_count] = c;
    heap_up(e, e->sleeper_count);
    if (c->sleep_slot == 1) /* earlier than what the timer waits for */
        pthread_cond_signal(&e->timer_cv);
    return true;
}

static void sleeper_remove(struct exec *e, struct call *c)
{
    uint32_t i = c->sleep_slot;
    if (!i)
        return;
    c->sleep_slot = 0;
    struct call *last = e->sleepers[e->sleeper_count--];
    if (last == c)
        return;
    heap_set(e, i, last);
    heap_up(e, i);
    heap_down(e, last->sleep_slot);
}

static void *timer_main(void *arg)
{
    struct exec *e = arg;
    pthread_mutex_lock(&e->lock);
    while (!e->stop) {
        uint64_t now = now_ns(CLOCK_MONOTONIC), next = 0;
        while (e->sleeper_count && e->sleepers[1]->wake_ns <= now) {
            struct call *c = e->sleepers[1];
            sleeper_remove(e, c);
            enqueue(e, c);
        }
        if (e->sleeper_count)
            next = e->sleepers[1]->wake_ns;
        for (struct call *c = e->timers, *n; c; c = n) {
            n = c->timer_next;
            if (c->deadline_ns <= now) {
                timer_remove(e, c);
                c->timed_out = true;
                if (c->faaslet)
                    faaslet_interrupt(c->faaslet);
                wake_parked(e, c);
                if (c->sleep_slot) {
                    sleeper_remove(e, c);
                    enqueue(e, c);
                }
            } else if (!next || c->deadline_ns < next) {
                next = c->deadline_ns;
            }
        }
        e->timer_wake_ns = next;
        if (!next) {
            pthread_cond_wait(&e->timer_cv, &e->lock);
            continue;
        }
        /* timer_cv waits on CLOCK_MONOTONIC (see exec_create). */
        struct timespec ts = {.tv_sec = (time_t)(next / 1000000000ull),
                              .tv_nsec = (long)(next % 1000000000ull)};
        pthread_cond_timedwait(&e->timer_cv, &e->lock, &ts);
    }
    pthread_mutex_unlock(&e->lock);
    return NULL;
}

/* ---- the faaslet host interface for a running call ----------------------- */

static uint32_t host_chain(void *data, const char *function, int32_t func_ptr,
                           const uint8_t *input, uint32_t len)
{
    struct call *parent = data;
    struct exec *e = parent->exec;
    if (parent->msg.depth + 1 > e->config.max_chain_depth ||
        parent->child_count >= e->config.max_chained_calls)
        return 0;
    /* A name that cannot exist still gets a call, which fails at once (as
     * a missing function's does), so the guest's await reports it. */
    bool bad_name = function && !faaslet_name_valid(function);
    struct exec_request req = {
        .user = parent->msg.user,
        .function = bad_name ? "invalid-name" : function ? function : parent->msg.function,
        .input = input,
        .input_len = len,
        .func_ptr = function ? -1 : func_ptr,
        .app_id = parent->msg.app_id,
    };
    struct fl_error err;
    struct call *c = new_call(e, &req, parent->msg.id, parent->msg.depth + 1, &err);
    if (!c)
        return 0;
    if (parent->child_count == parent->child_cap) {
        uint32_t cap = parent->child_cap ? parent->child_cap * 2 : 8;
        uint32_t *ch = realloc(parent->children, cap * sizeof *ch);
        if (!ch) {
            exec_msg_fini(&c->msg);
            free(c);
            return 0;
        }
        parent->children = ch;
        parent->child_cap = cap;
    }
    pthread_mutex_lock(&e->lock);
    uint32_t id = c->msg.id;
    parent->children[parent->child_count++] = id;
    if (bad_name) {
        /* Never reaches the store: fails at once with the reason. */
        const char *msg = "bad function name in chained call";
        c->msg.output = (uint8_t *)strdup(msg);
        c->msg.output_len = c->msg.output ? strlen(msg) : 0;
        c->msg.return_value = 1;
        c->msg.status = EXEC_FAILED;
        c->done = true;
        struct call **b = &e->buckets[id % CALL_BUCKETS];
        c->hash_next = *b;
        *b = c;
    } else {
        start_call(e, c);
    }
    pthread_mutex_unlock(&e->lock);
    return id;
}

/* Parks the running call until woken: switches back to the worker with
 * exec->lock held; returns with it held again. */
static void park(struct call *c)
{
    struct exec *e = c->exec;
    e->stats.calls_blocked++;
    struct runtime_exec *saved = runtime_exec_swap_current(NULL);
    exec_fiber_switch_out(c->fiber, false);
    /* Possibly on another thread now: the fault handler must see our exec. */
    runtime_exec_swap_current(saved);
    pthread_mutex_lock(&e->lock);
    e->stats.calls_blocked--;
}

static int host_await(void *data, struct runtime_exec *rexec, uint32_t id, int32_t *ret,
                      uint8_t **out, size_t *out_len)
{
    struct call *c = data;
    struct exec *e = c->exec;
    bool mine = false;
    for (uint32_t i = 0; i < c->child_count && !mine; i++)
        mine = c->children[i] == id;
    if (!mine)
        return -1;
    pthread_mutex_lock(&e->lock);
    struct call *child = lookup(e, id);
    while (child && !child->done) {
        if (atomic_load(&rexec->interrupt) || c->timed_out) {
            pthread_mutex_unlock(&e->lock);
            return RUNTIME_TRAP_INTERRUPTED;
        }
        c->waiting_on = child;
        c->wait_next = child->waiters;
        child->waiters = c;
        park(c);
        child = lookup(e, id);
    }
    int rc = -1;
    if (child) {
        rc = 0;
        *ret = child->msg.return_value;
        if (out) {
            *out = malloc(child->msg.output_len ? child->msg.output_len : 1);
            *out_len = *out ? child->msg.output_len : 0;
            if (*out && child->msg.output_len)
                memcpy(*out, child->msg.output, child->msg.output_len);
        }
    }
    pthread_mutex_unlock(&e->lock);
    return rc;
}

/* Parks the call until ns have passed (or its deadline): the worker runs
 * other calls meanwhile. */
static int host_sleep(void *data, struct runtime_exec *rexec, uint64_t ns)
{
    struct call *c = data;
    struct exec *e = c->exec;
    if (ns == 0)
        return atomic_load(&rexec->interrupt) ? RUNTIME_TRAP_INTERRUPTED : 0;
    uint64_t now = now_ns(CLOCK_MONOTONIC);
    uint64_t wake = ns > UINT64_MAX - now ? UINT64_MAX : now + ns;
    pthread_mutex_lock(&e->lock);
    if (atomic_load(&rexec->interrupt) || c->timed_out) {
        pthread_mutex_unlock(&e->lock);
        return RUNTIME_TRAP_INTERRUPTED;
    }
    if (!sleeper_add(e, c, wake)) {
        /* No room in the heap: sleep on this thread instead. */
        pthread_mutex_unlock(&e->lock);
        struct timespec ts = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !atomic_load(&rexec->interrupt))
            ;
        return atomic_load(&rexec->interrupt) ? RUNTIME_TRAP_INTERRUPTED : 0;
    }
    park(c);
    int rc = atomic_load(&rexec->interrupt) || c->timed_out ? RUNTIME_TRAP_INTERRUPTED : 0;
    pthread_mutex_unlock(&e->lock);
    return rc;
}

static bool host_conf_flag(void *data, const char *key)
{
    struct call *c = data;
    const char *const *flags = c->exec->config.conf_flags;
    for (; flags && *flags; flags++)
        if (!strcmp(*flags, key))
            return true;
    return false;
}

/* ---- running a call on its fiber ---------------------------------------- */

static void set_failure(struct exec_msg *m, const char *text)
{
    free(m->output);
    size_t n = strlen(text);
    m->output = malloc(n ? n : 1);
    m->output_len = m->output ? n : 0;
    if (m->output)
        memcpy(m->output, text, n);
    m->return_value = 1;
    m->status = EXEC_FAILED;
}

/* Runs c to completion (without exec->lock); fills c->msg's results. */
static void run_call(struct exec *e, struct call *c)
{
    struct exec_msg *m = &c->msg;
    m->start_ns = now_ns(CLOCK_REALTIME);
    pthread_mutex_lock(&e->lock);
    m->status = EXEC_RUNNING;
    struct fn_entry *fn = fn_get(e, m->user, m->function);
    pthread_mutex_unlock(&e->lock);
    if (!fn) {
        set_failure(m, "exec: out of memory");
        return;
    }
    struct faaslet *f = NULL;
    char text[FAASLET_MAX_ERROR + 64];
    if (!fn_load(e, fn)) {
        set_failure(m, fn->load_error);
        goto out;
    }
    pthread_mutex_lock(&e->lock);
    struct idle_faaslet *idle = fn->idle;
    if (idle) {
        fn->idle = idle->next;
        fn->idle_count--;
        e->stats.faaslets_reused++;
    }
    pthread_mutex_unlock(&e->lock);
    if (idle) {
        f = idle->faaslet;
        free(idle);
    } else {
        struct fl_error err;
        fl_error_clear(&err);
        f = faaslet_create(fn->proto, &err);
        if (!f) {
            set_failure(m, err.msg);
            goto out;
        }
        pthread_mutex_lock(&e->lock);
        e->stats.faaslets_created++;
        pthread_mutex_unlock(&e->lock);
    }

    struct faaslet_host host = {c, host_chain, host_await, host_conf_flag, host_sleep};
    struct faaslet_call fc = {
        .user = m->user,
        .input = m->input,
        .input_len = m->input_len,
        .func_ptr = m->func_ptr,
        .cmdline = m->cmdline,
        .host = &host,
        .stack_lo = (uintptr_t)c->fiber->stack_lo,
        .stack_hi = (uintptr_t)c->fiber->stack_lo + c->fiber->stack_size,
        .value_stack = c->fiber->values,
        .value_stack_cells = c->fiber->value_cells,
    };
    pthread_mutex_lock(&e->lock);
    c->faaslet = f;
    if (e->config.timeout_ms)
        timer_add(e, c);
    pthread_mutex_unlock(&e->lock);

    struct fl_error err;
    fl_error_clear(&err);
    int rc = faaslet_run(f, &fc, &err);

    pthread_mutex_lock(&e->lock);
    timer_remove(e, c);
    c->faaslet = NULL;
    bool timed_out = c->timed_out;
    pthread_mutex_unlock(&e->lock);
    /* No timer can touch f any more: an interrupt that raced with the end
     * of the call must not stop the next one. */
    atomic_store(&faaslet_exec(f)->interrupt, 0);

    if (timed_out) {
        snprintf(text, sizeof text, "%s/%s: timed out after %u ms", m->user, m->function,
                 e->config.timeout_ms);
        set_failure(m, text);
        faaslet_call_fini(&fc);
    } else {
        m->output = fc.output;
        m->output_len = fc.output_len;
        m->return_value = fc.return_value;
        m->status = fc.failed ? EXEC_FAILED : EXEC_DONE;
    }
    if (rc) {
        faaslet_destroy(f); /* could not be reset: never reuse it */
        f = NULL;
    }
out:
    pthread_mutex_lock(&e->lock);
    if (f && fn->idle_count < e->config.idle_faaslets && !fn->forgotten) {
        struct idle_faaslet *i = malloc(sizeof *i);
        if (i) {
            i->faaslet = f;
            i->next = fn->idle;
            fn->idle = i;
            fn->idle_count++;
            f = NULL;
        }
    }
    fn_put(fn);
    pthread_mutex_unlock(&e->lock);
    faaslet_destroy(f);
}

static void fiber_main(void *arg)
{
    struct call *c = arg;
    struct exec *e = c->exec;
    run_call(e, c);
    pthread_mutex_lock(&e->lock);
    c->msg.finish_ns = now_ns(CLOCK_REALTIME);
    c->done = true;
    e->stats.calls_finished++;
    for (struct call *w = c->waiters, *n; w; w = n) {
        n = w->wait_next;
        w->waiting_on = NULL;
        enqueue(e, w);
    }
    c->waiters = NULL;
    drop_children(e, c);
    if (c->awaited) /* chained calls finish by the thousand; nobody waits for most */
        pthread_cond_broadcast(&e->done_cv);
    /* The worker recycles the fiber and frees orphans, with the lock held. */
    exec_fiber_switch_out(c->fiber, true);
}

/* Frees a finished call nobody will read and tells its submitter it is done
 * (exec->lock held on entry and exit; released around the callback, after
 * which c may be gone). */
static void notify_finish(struct exec *e, struct call *c)
{
    void (*fn)(void *, uint32_t) = c->on_finish;
    void *data = c->on_finish_data;
    uint32_t id = c->msg.id;
    if (c->orphan || c->released)
        free_call(e, c);
    if (!fn)
        return;
    pthread_mutex_unlock(&e->lock);
    fn(data, id);
    pthread_mutex_lock(&e->lock);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct exec *e = w->exec;
    struct fl_error err;
    if (runtime_thread_attach(&err) != FL_OK)
        fprintf(stderr, "faaslet exec: worker: %s\n", err.msg);
    pthread_mutex_lock(&e->lock);
    while (!e->stop) {
        struct call *c = e->queue_head;
        if (!c) {
            pthread_cond_wait(&e->work_cv, &e->lock);
            continue;
        }
        e->queue_head = c->queue_next;
        if (!e->queue_head)
            e->queue_tail = NULL;
        if (!c->fiber) {
            struct exec_fiber *cf = exec_fiber_pool_take(e->fibers, &err);
            e->stats.fibers_created = exec_fiber_pool_size(e->fibers);
            if (!cf) {
                set_failure(&c->msg, "exec: cannot allocate a fiber for the call");
                c->done = true;
                pthread_cond_broadcast(&e->done_cv);
                notify_finish(e, c);
                continue;
            }
            c->fiber = cf;
            exec_fiber_prepare(cf, fiber_main, c);
        }
        pthread_mutex_unlock(&e->lock);
        exec_fiber_switch_in(c->fiber, &w->ctx);
        /* The fiber came back parked or finished, with e->lock held. */
        runtime_exec_swap_current(NULL);
        if (c->done) {
            exec_fiber_pool_give(e->fibers, c->fiber);
            c->fiber = NULL;
            notify_finish(e, c);
        }
    }
    pthread_mutex_unlock(&e->lock);
    runtime_thread_detach();
    return NULL;
}

/* ---- life ------------------------------------------------------------------ */

struct exec *exec_create(const struct exec_config *config, struct fl_error *err)
{
    struct exec *e = calloc(1, sizeof *e);
    if (!e) {
        fl_error_set(err, FL_ERR_NOMEM, "exec: out of memory");
        return NULL;
    }
    if (config)
        e->config = *config;
    struct exec_config *cfg = &e->config;
    if (!cfg->workers)
        cfg->workers = DEFAULT_WORKERS;
    if (!cfg->fiber_stack)
        cfg->fiber_stack = DEFAULT_FIBER_STACK;
    if (!cfg->max_chain_depth)
        cfg->max_chain_depth = DEFAULT_MAX_DEPTH;
    if (!cfg->max_chained_calls)
        cfg->max_chained_calls = DEFAULT_MAX_CHAINED;
    if (!cfg->idle_faaslets)
        cfg->idle_faaslets = DEFAULT_IDLE;
    if (faaslet_store_dir(cfg->store_dir, e->store_dir, sizeof e->store_dir, err)) {
        free(e);
        return NULL;
    }
    if (cfg->files_dir)
        snprintf(e->files_dir, sizeof e->files_dir, "%s", cfg->files_dir);
    cfg->store_dir = e->store_dir;
    cfg->files_dir = e->files_dir[0] ? e->files_dir : NULL;
    e->fibers = exec_fiber_pool_create(cfg->fiber_stack,
                                       cfg->faaslet.stack_cells ? cfg->faaslet.stack_cells
                                                                : DEFAULT_VALUE_CELLS,
                                       err);
    if (!e->fibers) {
        free(e);
        return NULL;
    }
    if (gethostname(e->hostname, sizeof e->hostname - 1) != 0)
        snprintf(e->hostname, sizeof e->hostname, "localhost");
    atomic_init(&e->next_id, 1);
    pthread_mutex_init(&e->lock, NULL);
    pthread_cond_init(&e->work_cv, NULL);
    pthread_cond_init(&e->done_cv, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&e->timer_cv, &ca);
    pthread_condattr_destroy(&ca);
    e->workers = calloc(cfg->workers, sizeof *e->workers);
    if (!e->workers) {
        exec_destroy(e);
        fl_error_set(err, FL_ERR_NOMEM, "exec: out of memory");
        return NULL;
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256u << 10);
    for (uint32_t i = 0; i < cfg->workers; i++) {
        e->workers[i].exec = e;
        if (pthread_create(&e->workers[i].thread, &attr, worker_main, &e->workers[i]) != 0) {
            pthread_attr_destroy(&attr);
            exec_destroy(e);
            fl_error_set(err, FL_ERR_NOMEM, "exec: cannot start worker threads");
            return NULL;
        }
        e->workers[i].started = true;
    }
    pthread_attr_destroy(&attr);
    if (pthread_create(&e->timer_thread, NULL, timer_main, e) != 0) {
        exec_destroy(e);
        fl_error_set(err, FL_ERR_NOMEM, "exec: cannot start the timer thread");
        return NULL;
    }
    e->timer_started = true;
    return e;
}

void exec_destroy(struct exec *e)
{
    if (!e)
        return;
    pthread_mutex_lock(&e->lock);
    e->stop = true;
    pthread_cond_broadcast(&e->work_cv);
    pthread_cond_broadcast(&e->timer_cv);
    pthread_mutex_unlock(&e->lock);
    for (uint32_t i = 0; e->workers && i < e->config.workers; i++)
        if (e->workers[i].started)
            pthread_join(e->workers[i].thread, NULL);
    if (e->timer_started)
        pthread_join(e->timer_thread, NULL);
    /* Calls parked or queued at shutdown are abandoned: their fibers'
     * stacks go away with them. */
    for (uint32_t b = 0; b < CALL_BUCKETS; b++)
        while (e->buckets[b]) {
            struct call *c = e->buckets[b];
            e->buckets[b] = c->hash_next;
            if (c->faaslet)
                faaslet_destroy(c->faaslet);
            free(c->children);
            exec_msg_fini(&c->msg);
            free(c);
        }
    exec_fiber_pool_destroy(e->fibers);
    free(e->sleepers);
    while (e->functions) {
        struct fn_entry *fn = e->functions;
        e->functions = fn->next;
        fn_destroy(fn);
    }
    free(e->workers);
    pthread_mutex_destroy(&e->lock);
    pthread_cond_destroy(&e->work_cv);
    pthread_cond_destroy(&e->done_cv);
    pthread_cond_destroy(&e->timer_cv);
    free(e);
}
