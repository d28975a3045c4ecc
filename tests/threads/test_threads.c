/* test_threads.c: wasm threads end to end with the interpreter (or compiled
 * code: third argument "aot"). Host threads
 * (runtime_thread_spawn) run threads_test.wat's functions on one shared
 * memory: atomic counters, a wait/notify mutex and barrier, a bounded
 * producer/consumer queue; totals must be exact on every round. Also the
 * per-thread stack pointer of clones, interrupting a parked thread, and the
 * wait/notify rules (timeout, not-equal, alignment, unshared memory). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aot/aot.h"
#include "interp/interp.h"
#include "runtime/runtime.h"

#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (!(cond)) {                                                              \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            return 1;                                                               \
        }                                                                           \
    } while (0)

struct fixture {
    struct wasm_module *module;
    struct interp_module *code;
    struct aot_module *aot;     /* compiled tier (argv[3] "aot"), else NULL */
    struct runtime_store *store;
    struct runtime_exec exec;
    struct runtime_instance *instance;
    uint8_t *mem;
};

/* Tier the fixture runs: the interpreter, or compiled code with "aot". */
static bool use_aot;

static int setup(struct fixture *fx, const char *path)
{
    struct fl_error err = {0};
    memset(fx, 0, sizeof *fx);
    FILE *f = fopen(path, "rb");
    if (!f)
        return fprintf(stderr, "cannot read %s\n", path), -1;
    static uint8_t buf[1 << 16];
    size_t size = fread(buf, 1, sizeof buf, f);
    fclose(f);
    struct aot_options opts;
    aot_options_default(&opts);
    if (wasm_module_load(buf, size, &fx->module, &err) ||
        (use_aot ? aot_module_load(fx->module, &opts, &fx->aot, &err) != FL_OK
                 : !(fx->code = interp_module_compile(fx->module, &err))) ||
        !(fx->store = runtime_store_create()) ||
        runtime_exec_init(&fx->exec, fx->store, 0, &err) ||
        runtime_instantiate(fx->store, fx->module, NULL, use_aot ? &aot_tier : &interp_tier,
                            use_aot ? (void *)fx->aot : (void *)fx->code, &fx->exec, &fx->instance, &err))
        return fprintf(stderr, "setup: %s\n", err.msg), -1;
    fx->mem = fx->instance->memories[0]->base;
    return 0;
}

static void teardown(struct fixture *fx)
{
    runtime_exec_fini(&fx->exec);
    runtime_store_destroy(fx->store);
    interp_module_destroy(fx->code);
    aot_module_destroy(fx->aot);
    wasm_module_destroy(fx->module);
}

static uint32_t func(struct fixture *fx, const char *name)
{
    return wasm_module_export_get(fx->module, name, WASM_EXTERN_FUNC);
}

static uint32_t rd32(struct fixture *fx, uint32_t a)
{
    return __atomic_load_n((uint32_t *)(fx->mem + a), __ATOMIC_SEQ_CST);
}

static uint64_t rd64(struct fixture *fx, uint32_t a)
{
    return __atomic_load_n((uint64_t *)(fx->mem + a), __ATOMIC_SEQ_CST);
}

static int reset(struct fixture *fx)
{
    uint64_t cells[1] = {0};
    struct runtime_extern e;
    if (!runtime_instance_export(fx->instance, "reset", &e))
        return -1;
    return runtime_call(&fx->exec, e.as.func, cells);
}

#define THREADS 4
#define ITERS 640
#define ROUNDS 25

static int test_counters_are_exact_across_threads(struct fixture *fx)
{
    uint32_t sp_global = runtime_module_stack_pointer(fx->module);
    CHECK(sp_global == 0);
    for (int round = 0; round < ROUNDS; round++) {
        CHECK(reset(fx) == RUNTIME_OK);
        struct runtime_thread *t[THREADS];
        for (uint32_t id = 0; id < THREADS; id++) {
            uint64_t args[3] = {id, THREADS, ITERS};
            struct runtime_thread_start start = {
                .instance = fx->instance, .func_index = func(fx, "worker"), .args = args,
                .stack_pointer_global = sp_global, .stack_pointer = 65536 - 4096 * id,
                .stack_cells = 1 << 14};
            struct fl_error err = {0};
            CHECK(runtime_thread_spawn(&start, &t[id], &err) == FL_OK);
        }
        for (uint32_t id = 0; id < THREADS; id++) {
            uint64_t result[1] = {0};
            char msg[256];
            int trap = runtime_thread_join(t[id], result, msg, sizeof msg);
            if (trap)
                fprintf(stderr, "thread %u: %s\n", id, msg);
            CHECK(trap == RUNTIME_OK);
            CHECK(result[0] == 65536 - 4096 * id);
        }
        uint32_t total = THREADS * ITERS;
        CHECK(rd32(fx, 0) == total);
        CHECK(rd64(fx, 8) == (uint64_t)ITERS * THREADS * (THREADS + 1) / 2);
        CHECK(rd32(fx, 28) == total); /* plain counter under the wasm mutex */
        CHECK(rd32(fx, 32) == total); /* compare-exchange loop */
        CHECK(rd32(fx, 36) == (total & 0xFFFF)); /* 16-bit rmw wraps */
        CHECK(rd32(fx, 24) == 0);     /* mutex free */
        for (uint32_t id = 0; id < THREADS; id++) {
            CHECK(rd32(fx, 64 + 4 * id) == 65536 - 4096 * id);
            CHECK(rd32(fx, 512 + 4 * id) == 65536 - 4096 * id); /* through the table */
        }
    }
    /* The origin's own stack pointer never changed. */
    CHECK(fx->instance->globals[0]->cells[0] == 65536);
    return 0;
}

static int test_producer_consumer_queue_delivers_everything(struct fixture *fx)
{
    for (int round = 0; round < 10; round++) {
        CHECK(reset(fx) == RUNTIME_OK);
        const uint64_t count = 3000;
        struct runtime_thread *p, *c;
        struct fl_error err = {0};
        struct runtime_thread_start ps = {.instance = fx->instance,
                                          .func_index = func(fx, "produce"),
                                          .args = &count,
                                          .stack_pointer_global = WASM_NO_INDEX};
        struct runtime_thread_start cs = ps;
        cs.func_index = func(fx, "consume");
        CHECK(runtime_thread_spawn(&cs, &c, &err) == FL_OK);
        CHECK(runtime_thread_spawn(&ps, &p, &err) == FL_OK);
        uint64_t pr[1], cr[1];
        CHECK(runtime_thread_join(p, pr, NULL, 0) == RUNTIME_OK);
        CHECK(runtime_thread_join(c, cr, NULL, 0) == RUNTIME_OK);
        CHECK(pr[0] == count);
        CHECK(cr[0] == count * (count + 1) / 2);
    }
    return 0;
}

static int test_interrupt_wakes_a_parked_thread(struct fixture *fx)
{
    CHECK(reset(fx) == RUNTIME_OK);
    struct runtime_thread *t;
    struct fl_error err = {0};
    struct runtime_thread_start s = {.instance = fx->instance, .func_index = func(fx, "park"),
                                     .stack_pointer_global = WASM_NO_INDEX};
    CHECK(runtime_thread_spawn(&s, &t, &err) == FL_OK);
    nanosleep(&(struct timespec){.tv_nsec = 50000000}, NULL);
    runtime_thread_interrupt(t);
    char msg[256];
    CHECK(runtime_thread_join(t, NULL, msg, sizeof msg) == RUNTIME_TRAP_INTERRUPTED);
    CHECK(strstr(msg, "interrupted") != NULL);
    /* A notify now finds nobody: the interrupted waiter left the lot. */
    uint32_t woken = 9;
    CHECK(runtime_atomic_notify(fx->instance->memories[0], 2000, 10, &woken) == RUNTIME_OK);
    CHECK(woken == 0);
    return 0;
}

static int test_wait_and_notify_rules(struct fixture *fx)
{
    struct runtime_memory *m = fx->instance->memories[0];
    uint32_t r = 9;
    CHECK(reset(fx) == RUNTIME_OK);
    CHECK(runtime_atomic_wait(&fx->exec, m, 0, 0, false, 1000000, &r) == RUNTIME_OK && r == 2);
    CHECK(runtime_atomic_wait(&fx->exec, m, 0, 5, false, -1, &r) == RUNTIME_OK && r == 1);
    CHECK(runtime_atomic_wait(&fx->exec, m, 0, 1ull << 40, true, -1, &r) == RUNTIME_OK && r == 1);
    CHECK(runtime_atomic_wait(&fx->exec, m, 2, 0, false, 0, &r) == RUNTIME_TRAP_UNALIGNED_ATOMIC);
    CHECK(runtime_atomic_wait(&fx->exec, m, 4, 0, true, 0, &r) == RUNTIME_TRAP_UNALIGNED_ATOMIC);
    CHECK(runtime_atomic_wait(&fx->exec, m, 65536, 0, false, 0, &r) ==
          RUNTIME_TRAP_MEMORY_OUT_OF_BOUNDS);
    CHECK(runtime_atomic_notify(m, 65534, 1, &r) == RUNTIME_TRAP_UNALIGNED_ATOMIC);
    CHECK(runtime_atomic_notify(m, 65536, 1, &r) == RUNTIME_TRAP_MEMORY_OUT_OF_BOUNDS);
    /* Unshared memory: wait traps, notify wakes nobody. */
    struct fl_error err = {0};
    struct wasm_limits l = {.min = 1, .max = 1, .has_max = true};
    struct runtime_memory *u = runtime_memory_create(fx->store, &l, &err);
    CHECK(u);
    CHECK(runtime_atomic_wait(&fx->exec, u, 0, 0, false, 0, &r) ==
          RUNTIME_TRAP_EXPECTED_SHARED_MEMORY);
    CHECK(runtime_atomic_notify(u, 0, 1, &r) == RUNTIME_OK && r == 0);
    CHECK(strcmp(runtime_trap_message(RUNTIME_TRAP_EXPECTED_SHARED_MEMORY),
                 "expected shared memory") == 0);
    return 0;
}

static int test_clone_rules(struct fixture *fx)
{
    struct runtime_instance *clone, *twice;
    struct fl_error err = {0};
    CHECK(runtime_instance_clone(fx->instance, &clone, &err) == FL_OK);
    CHECK(clone->memories[0] == fx->instance->memories[0]);
    CHECK(clone->tables[0] == fx->instance->tables[0]);
    CHECK(clone->globals[0] != fx->instance->globals[0]);
    CHECK(runtime_instance_clone(clone, &twice, &err) == FL_ERR_ARG);
    CHECK(runtime_clone_set_global(clone, 7, 1, &err) == FL_ERR_ARG);
    CHECK(runtime_clone_set_global(fx->instance, 0, 1, &err) == FL_ERR_ARG);
    CHECK(runtime_clone_set_global(clone, 0, 1234, &err) == FL_OK);
    uint64_t cells[3] = {0};
    CHECK(runtime_call_in_clone(&fx->exec, clone, 999, cells) == RUNTIME_TRAP_HOST);
    /* Direct call in the clone on this thread: worker with one thread. */
    CHECK(reset(fx) == RUNTIME_OK);
    cells[0] = 0, cells[1] = 1, cells[2] = 64;
    CHECK(runtime_call_in_clone(&fx->exec, clone, func(fx, "worker"), cells) == RUNTIME_OK);
    CHECK(cells[0] == 1234 && rd32(fx, 512) == 1234 && rd32(fx, 0) == 64);
    CHECK(fx->instance->globals[0]->cells[0] == 65536);
    runtime_instance_clone_destroy(clone);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3 && !(argc == 4 && !strcmp(argv[3], "aot"))) {
        fprintf(stderr, "usage: test_threads FILE.wasm TEST [aot]\n");
        return 2;
    }
    use_aot = argc == 4;
    static const struct {
        const char *name;
        int (*fn)(struct fixture *);
    } tests[] = {
        {"test_counters_are_exact_across_threads", test_counters_are_exact_across_threads},
        {"test_producer_consumer_queue_delivers_everything",
         test_producer_consumer_queue_delivers_everything},
        {"test_interrupt_wakes_a_parked_thread", test_interrupt_wakes_a_parked_thread},
        {"test_wait_and_notify_rules", test_wait_and_notify_rules},
        {"test_clone_rules", test_clone_rules},
    };
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        if (strcmp(argv[2], tests[i].name) != 0)
            continue;
        struct fixture fx;
        if (setup(&fx, argv[1]) != 0)
            return 1;
        int rc = tests[i].fn(&fx);
        teardown(&fx);
        printf("%s: %s\n", tests[i].name, rc ? "FAIL" : "ok");
        return rc;
    }
    fprintf(stderr, "unknown test %s\n", argv[2]);
    return 2;
}
