/* aot_test.c: the compiled tier end to end through the runtime: traps,
 * stack overflow and interrupts in compiled code leave the process healthy
 * for the next call; host calls and their traps; bounds-checked mode; SIMD
 * rejection; and the object cache (hits, and truncated / tampered / stale
 * entries rebuilt, never run).
 * usage: aot_test DIR_WITH_WASM CASE */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aot/aot.h"
#include "runtime/runtime.h"
#include "wasm/wasm.h"

#if defined(__SANITIZE_ADDRESS__)
#define AOT_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AOT_TEST_ASAN 1
#endif
#endif
#ifdef AOT_TEST_ASAN
/* Guard-page faults are the runtime's to handle (see src/cli/main.c). */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "allow_user_segv_handler=1:handle_segv=0:detect_leaks=1";
}
#endif

static const char *wasm_dir;
static int failures;

#define CHECK(cond, ...)                                                         \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                        \
            fprintf(stderr, "\n");                                               \
            failures++;                                                          \
        }                                                                        \
    } while (0)

static struct wasm_module *load_wasm(const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", wasm_dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(1);
    }
    static uint8_t buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    struct wasm_module *m = NULL;
    struct fl_error err = {0};
    if (wasm_module_load(buf, n, &m, &err) != FL_OK) {
        fprintf(stderr, "%s: %s\n", path, err.msg);
        exit(1);
    }
    return m;
}

/* An instance of basic.wasm with its host imports. */
struct fixture {
    struct wasm_module *module;
    struct aot_module *code;
    struct runtime_store *store;
    struct runtime_linker *linker;
    struct runtime_exec exec;
    struct runtime_instance *instance;
};

static int host_add(struct runtime_exec *exec, struct runtime_instance *caller, uint64_t *cells, void *data)
{
    (void)exec, (void)caller, (void)data;
    cells[0] = (uint32_t)((uint32_t)cells[0] + (uint32_t)cells[1]);
    return RUNTIME_OK;
}

static int host_fail(struct runtime_exec *exec, struct runtime_instance *caller, uint64_t *cells, void *data)
{
    (void)caller, (void)cells, (void)data;
    snprintf(exec->trap_msg, sizeof exec->trap_msg, "host says no");
    return RUNTIME_TRAP_HOST;
}

static void fixture_init(struct fixture *fx, const struct aot_options *opts, bool guard_pages)
{
    memset(fx, 0, sizeof *fx);
    struct fl_error err = {0};
    fx->module = load_wasm("basic.wasm");
    if (aot_module_load(fx->module, opts, &fx->code, &err) != FL_OK) {
        fprintf(stderr, "aot_module_load: %s\n", err.msg);
        exit(1);
    }
    fx->store = runtime_store_create();
    runtime_store_set_guard_pages(fx->store, guard_pages);
    fx->linker = runtime_linker_create(fx->store);
    if (runtime_exec_init(&fx->exec, fx->store, 0, &err) != FL_OK) {
        fprintf(stderr, "exec: %s\n", err.msg);
        exit(1);
    }
    static uint8_t add_types[] = {WASM_TYPE_I32, WASM_TYPE_I32, WASM_TYPE_I32};
    struct wasm_functype add_t = {2, 1, add_types}, fail_t = {0, 0, NULL};
    struct runtime_extern e = {.kind = WASM_EXTERN_FUNC};
    e.as.func = runtime_host_func_create(fx->store, &add_t, host_add, NULL, "add");
    runtime_linker_define(fx->linker, "host", "add", &e);
    e.as.func = runtime_host_func_create(fx->store, &fail_t, host_fail, NULL, "fail");
    runtime_linker_define(fx->linker, "host", "fail", &e);
}

static int fixture_instantiate(struct fixture *fx, struct fl_error *err)
{
    return runtime_linker_instantiate(fx->linker, fx->module, &aot_tier, fx->code, &fx->exec, &fx->instance, err);
}

static void fixture_fini(struct fixture *fx)
{
    runtime_exec_fini(&fx->exec);
    runtime_linker_destroy(fx->linker);
    runtime_store_destroy(fx->store);
    aot_module_destroy(fx->code);
    wasm_module_destroy(fx->module);
}

/* Calls export name with up to 2 i32 args; returns the trap, result in *out. */
static int call(struct fixture *fx, const char *name, int nargs, uint32_t a, uint32_t b, uint32_t *out)
{
    struct runtime_extern e;
    if (!runtime_instance_export(fx->instance, name, &e) || e.kind != WASM_EXTERN_FUNC) {
        fprintf(stderr, "no export %s\n", name);
        exit(1);
    }
    uint64_t cells[4] = {a, b, 0, 0};
    (void)nargs;
    int trap = runtime_call(&fx->exec, e.as.func, cells);
    if (out)
        *out = (uint32_t)cells[0];
    return trap;
}

static void expect_fib_works(struct fixture *fx)
{
    uint32_t r = 0;
    int trap = call(fx, "fib", 1, 20, 0, &r);
    CHECK(trap == RUNTIME_OK && r == 6765, "fib(20) after a trap: trap %d result %u", trap, r);
}

static struct fixture *default_fixture(struct fixture *fx)
{
    struct aot_options opts;
    aot_options_default(&opts);
    fixture_init(fx, &opts, true);
    struct fl_error err = {0};
    if (fixture_instantiate(fx, &err) != FL_OK) {
        fprintf(stderr, "instantiate: %s\n", err.msg);
        exit(1);
    }
    return fx;
}

static void test_traps_leave_process_healthy(void)
{
    struct fixture fx;
    default_fixture(&fx);
    for (int i = 0; i < 200; i++) {
        int trap = call(&fx, "oob", 0, 0, 0, NULL);
        CHECK(trap == RUNTIME_TRAP_MEMORY_OUT_OF_BOUNDS, "oob: trap %d", trap);
        trap = call(&fx, "oob_far", 0, 0, 0, NULL);
        CHECK(trap == RUNTIME_TRAP_MEMORY_OUT_OF_BOUNDS, "oob_far: trap %d", trap);
        trap = call(&fx, "div", 2, 1, 0, NULL);
        CHECK(trap == RUNTIME_TRAP_INT_DIVIDE_BY_ZERO, "div by zero: trap %d", trap);
        trap = call(&fx, "indirect", 2, 1, 5, NULL);
        CHECK(trap == RUNTIME_TRAP_UNINITIALIZED_ELEMENT, "null element: trap %d", trap);
        trap = call(&fx, "indirect", 2, 7, 5, NULL);
        CHECK(trap == RUNTIME_TRAP_UNDEFINED_ELEMENT, "element past the table: trap %d", trap);
    }
    uint32_t r = 0;
    CHECK(call(&fx, "indirect", 2, 0, 10, &r) == RUNTIME_OK && r == 55, "call_indirect fib(10) = %u", r);
    CHECK(call(&fx, "store_load", 2, 65532, 77, &r) == RUNTIME_OK && r == 77, "store_load at the end: %u", r);
    CHECK(call(&fx, "store_load", 2, 65533, 77, &r) == RUNTIME_TRAP_MEMORY_OUT_OF_BOUNDS, "store across the end");
    CHECK(call(&fx, "grow", 1, 1, 0, &r) == RUNTIME_OK && r == 1, "grow returns the old size: %u", r);
    CHECK(call(&fx, "store_load", 2, 65533, 78, &r) == RUNTIME_OK && r == 78, "store after grow: %u", r);
    expect_fib_works(&fx);
    fixture_fini(&fx);
}

static void test_stack_overflow_is_a_trap_and_recoverable(void)
{
    struct fixture fx;
    default_fixture(&fx);
    for (int i = 0; i < 5; i++) {
        int trap = call(&fx, "deep", 1, 0, 0, NULL);
        CHECK(trap == RUNTIME_TRAP_CALL_STACK_EXHAUSTED, "deep recursion: trap %d", trap);
        expect_fib_works(&fx);
    }
    fixture_fini(&fx);
}

static void *interrupt_later(void *arg)
{
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    runtime_exec_interrupt(arg);
    return NULL;
}

static void test_interrupt_stops_runaway_loop(void)
{
    struct fixture fx;
    default_fixture(&fx);
    for (int i = 0; i < 3; i++) {
        pthread_t t;
        pthread_create(&t, NULL, interrupt_later, &fx.exec);
        int trap = call(&fx, "spin", 0, 0, 0, NULL);
        pthread_join(t, NULL);
        CHECK(trap == RUNTIME_TRAP_INTERRUPTED, "spin: trap %d", trap);
        expect_fib_works(&fx);
    }
    fixture_fini(&fx);
}

static void test_host_calls_and_host_traps(void)
{
    struct fixture fx;
    default_fixture(&fx);
    uint32_t r = 0;
    CHECK(call(&fx, "call_add", 2, 40, 2, &r) == RUNTIME_OK && r == 42, "host add: %u", r);
    int trap = call(&fx, "call_fail", 0, 0, 0, NULL);
    CHECK(trap == RUNTIME_TRAP_HOST && !strcmp(fx.exec.trap_msg, "host says no"), "host trap %d '%s'", trap,
          fx.exec.trap_msg);
    expect_fib_works(&fx);
    fixture_fini(&fx);
}

static void test_bounds_checked_mode(void)
{
    struct fixture fx;
    struct aot_options opts;
    aot_options_default(&opts);
    opts.bounds_checks = true;
    fixture_init(&fx, &opts, false);
    struct fl_error err = {0};
    CHECK(fixture_instantiate(&fx, &err) == FL_OK, "instantiate: %s", err.msg);
    if (fx.instance) {
        uint32_t r = 0;
        CHECK(call(&fx, "oob", 0, 0, 0, NULL) == RUNTIME_TRAP_MEMORY_OUT_OF_BOUNDS, "checked oob");
        CHECK(call(&fx, "oob_far", 0, 0, 0, NULL) == RUNTIME_TRAP_MEMORY_OUT_OF_BOUNDS, "checked oob_far");
        CHECK(call(&fx, "store_load", 2, 65532, 5, &r) == RUNTIME_OK && r == 5, "checked store_load: %u", r);
        CHECK(call(&fx, "store_load", 2, 65533, 5, &r) == RUNTIME_TRAP_MEMORY_OUT_OF_BOUNDS, "checked store across the end");
        CHECK(call(&fx, "grow", 1, 1, 0, &r) == RUNTIME_OK && r == 1, "checked grow: %u", r);
        CHECK(call(&fx, "store_load", 2, 65533, 6, &r) == RUNTIME_OK && r == 6, "checked store after grow: %u", r);
        expect_fib_works(&fx);
    }
    fixture_fini(&fx);
}

static void test_in_process_link(void)
{
    /* link_in_process: same code, linked by LLVM's JIT linker, no ld.lld. */
    struct fixture fx;
    struct aot_options opts;
    aot_options_default(&opts);
    opts.link_in_process = true;
    fixture_init(&fx, &opts, true);
    struct fl_error err = {0};
    CHECK(fixture_instantiate(&fx, &err) == FL_OK, "instantiate: %s", err.msg);
    if (fx.instance) {
        CHECK(call(&fx, "oob", 0, 0, 0, NULL) == RUNTIME_TRAP_MEMORY_OUT_OF_BOUNDS, "jit-linked oob traps");
        expect_fib_works(&fx);
    }
    fixture_fini(&fx);
}

static void test_unchecked_code_refuses_unguarded_memory(void)
{
    struct fixture fx;
    struct aot_options opts;
    aot_options_default(&opts);
    fixture_init(&fx, &opts, false);
    struct fl_error err = {0};
    int rc = fixture_instantiate(&fx, &err);
    CHECK(rc == FL_ERR_ARG && strstr(err.msg, "bounds checks"), "rc %d: %s", rc, err.msg);
    fixture_fini(&fx);
}

static void test_simd_and_atomics_run(void)
{
    /* v128 values cross calls, locals and the cells boundary; atomics on
     * shared memory add up and an unaligned one traps. */
    struct wasm_module *m = load_wasm("simd.wasm");
    struct aot_options opts;
    aot_options_default(&opts);
    struct aot_module *code = NULL;
    struct fl_error err = {0};
    int rc = aot_module_load(m, &opts, &code, &err);
    CHECK(rc == FL_OK, "SIMD/threads module compiles: %s", err.msg);
    if (rc != FL_OK) {
        wasm_module_destroy(m);
        return;
    }
    struct runtime_store *store = runtime_store_create();
    struct runtime_linker *linker = runtime_linker_create(store);
    struct runtime_exec exec;
    struct runtime_instance *inst = NULL;
    if (runtime_exec_init(&exec, store, 0, &err) != FL_OK ||
        runtime_linker_instantiate(linker, m, &aot_tier, code, &exec, &inst, &err) != FL_OK) {
        CHECK(false, "instantiate: %s", err.msg);
    } else {
        struct runtime_extern e;
        uint64_t cells[4] = {0};
        CHECK(runtime_instance_export(inst, "f", &e) && runtime_call(&exec, e.as.func, cells) == RUNTIME_OK &&
                  (uint32_t)cells[0] == 5 + 32,
              "i32x4.mul through a call: got %u", (uint32_t)cells[0]);
        cells[0] = 0x1122334455667788ull;
        cells[1] = 0x99AABBCCDDEEFF00ull;
        CHECK(runtime_instance_export(inst, "pass", &e) && runtime_call(&exec, e.as.func, cells) == RUNTIME_OK &&
                  cells[0] == 0x1122334455667788ull && cells[1] == 0x99AABBCCDDEEFF00ull,
              "v128 param/result as two cells, low first");
        CHECK(runtime_instance_export(inst, "atomic", &e) && runtime_call(&exec, e.as.func, cells) == RUNTIME_OK &&
                  (uint32_t)cells[0] == 12,
              "atomic rmw.add twice: got %u", (uint32_t)cells[0]);
        CHECK(runtime_instance_export(inst, "unaligned", &e) &&
                  runtime_call(&exec, e.as.func, cells) == RUNTIME_TRAP_UNALIGNED_ATOMIC,
              "unaligned atomic load traps");
        CHECK(runtime_instance_export(inst, "atomic", &e) && runtime_call(&exec, e.as.func, cells) == RUNTIME_OK &&
                  (uint32_t)cells[0] == 24,
              "healthy after the trap: got %u", (uint32_t)cells[0]);
        runtime_exec_fini(&exec);
    }
    runtime_linker_destroy(linker);
    runtime_store_destroy(store);
    aot_module_destroy(code);
    wasm_module_destroy(m);
}

/* ---- cache ---- */

static char cache_dir[256];

static void remove_cache(void)
{
    DIR *d = opendir(cache_dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
                continue;
            char p[600];
            snprintf(p, sizeof p, "%s/%s", cache_dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(cache_dir);
}

/* Loads through the cache, runs fib(20), reports whether it came from the cache. */
static bool cached_run(const char *what)
{
    struct fixture fx;
    struct aot_options opts;
    aot_options_default(&opts);
    opts.cache_dir = cache_dir;
    fixture_init(&fx, &opts, true);
    bool hit = aot_module_from_cache(fx.code);
    struct fl_error err = {0};
    CHECK(fixture_instantiate(&fx, &err) == FL_OK, "%s: instantiate: %s", what, err.msg);
    if (fx.instance)
        expect_fib_works(&fx);
    fixture_fini(&fx);
    return hit;
}

static void entry_paths(char *so, char *meta, size_t n)
{
    struct wasm_module *m = load_wasm("basic.wasm");
    struct aot_options opts;
    aot_options_default(&opts);
    opts.cache_dir = cache_dir;
    char key[65];
    struct fl_error err = {0};
    aot_cache_key(m, &opts, key, &err);
    snprintf(so, n, "%s/%s.so", cache_dir, key);
    snprintf(meta, n, "%s/%s.meta", cache_dir, key);
    wasm_module_destroy(m);
}

static void test_cache_hit_and_damaged_entries_rebuilt(void)
{
    snprintf(cache_dir, sizeof cache_dir, "/tmp/faaslet-aot-test-%d/cache", (int)getpid());
    char so[512], meta[512];
    entry_paths(so, meta, sizeof so);

    CHECK(!cached_run("first load"), "first load compiles");
    CHECK(cached_run("second load"), "second load comes from the cache");

    /* Truncated object. */
    CHECK(truncate(so, 100) == 0, "truncate: %s", strerror(errno));
    CHECK(!cached_run("truncated"), "a truncated object is rebuilt");
    CHECK(cached_run("after truncation"), "and cached again");

    /* One flipped byte in the middle of the code. */
    FILE *f = fopen(so, "r+b");
    struct stat st;
    stat(so, &st);
    fseek(f, st.st_size / 2, SEEK_SET);
    int c = fgetc(f);
    fseek(f, st.st_size / 2, SEEK_SET);
    fputc(c ^ 0xFF, f);
    fclose(f);
    CHECK(!cached_run("tampered"), "a tampered object is rebuilt");
    CHECK(cached_run("after tampering"), "and cached again");

    /* Sidecar for another key, or missing. */
    f = fopen(meta, "w");
    fprintf(f, "faaslet-aot-cache 1\nkey 0000\nsha256 00\nsize 1\n");
    fclose(f);
    CHECK(!cached_run("wrong meta"), "a sidecar naming another key is rebuilt");
    unlink(meta);
    CHECK(!cached_run("no meta"), "a missing sidecar is rebuilt");
    CHECK(cached_run("final"), "and cached again");

    /* Different options, different key. */
    struct wasm_module *m = load_wasm("basic.wasm");
    struct aot_options a, b;
    aot_options_default(&a);
    aot_options_default(&b);
    b.bounds_checks = true;
    char ka[65], kb[65];
    struct fl_error err = {0};
    aot_cache_key(m, &a, ka, &err);
    aot_cache_key(m, &b, kb, &err);
    CHECK(strcmp(ka, kb) != 0, "options are part of the key");
    wasm_module_destroy(m);

    remove_cache();
    char parent[256];
    snprintf(parent, sizeof parent, "/tmp/faaslet-aot-test-%d", (int)getpid());
    rmdir(parent);
}

static const struct {
    const char *name;
    void (*fn)(void);
} cases[] = {
    {"traps_leave_process_healthy", test_traps_leave_process_healthy},
    {"stack_overflow_is_a_trap_and_recoverable", test_stack_overflow_is_a_trap_and_recoverable},
    {"interrupt_stops_runaway_loop", test_interrupt_stops_runaway_loop},
    {"host_calls_and_host_traps", test_host_calls_and_host_traps},
    {"bounds_checked_mode", test_bounds_checked_mode},
    {"unchecked_code_refuses_unguarded_memory", test_unchecked_code_refuses_unguarded_memory},
    {"simd_and_atomics_run", test_simd_and_atomics_run},
    {"in_process_link", test_in_process_link},
    {"cache_hit_and_damaged_entries_rebuilt", test_cache_hit_and_damaged_entries_rebuilt},
};

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: aot_test WASM_DIR CASE|all\n");
        return 2;
    }
    wasm_dir = argv[1];
    bool found = false;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (strcmp(argv[2], "all") && strcmp(argv[2], cases[i].name))
            continue;
        found = true;
        cases[i].fn();
    }
    if (!found) {
        fprintf(stderr, "no case %s\n", argv[2]);
        return 2;
    }
    if (failures)
        fprintf(stderr, "%d check(s) failed\n", failures);
    return failures ? 1 : 0;
}
