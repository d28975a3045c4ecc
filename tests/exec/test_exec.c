/* test_exec.c: calls end to end: the guest functions of tests/guest/funcs
 * (built by faaslet-cc) uploaded to a temporary store and run through an
 * executor, each checked against the behaviour its header promises; plus
 * chains deeper and wider than the worker pool, limits and failures.
 * Run one test: test_exec FUNCS_DIR NAME (ctest registers each). */
#define _GNU_SOURCE
#include "exec/exec.h"
#include "faaslet/faaslet.h"
#ifdef FL_HAVE_HOST_STATE
#include "state/state.h"
#endif

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifdef __has_feature
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#ifdef __SANITIZE_ADDRESS__
#define TEST_ASAN 1
#endif
#ifdef TEST_ASAN
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "allow_user_segv_handler=1:handle_segv=0:detect_leaks=1:detect_stack_use_after_return=0";
}
#endif

static int failures;
#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                              \
        }                                                                            \
    } while (0)

static const char *funcs_dir;
static char store_dir[512];
/* Tier of every Faaslet (argv[3]: interp, the default, or aot). The aot
 * store (argv[4]) outlives the test, so compiled objects are reused. */
static enum faaslet_tier tier = FAASLET_TIER_INTERP;
static bool keep_store;

/* Uploads every .wasm of funcs_dir as user "t" into a fresh store (no code
 * generation: on aot, a function's code is generated on its first call). */
static void make_store(void)
{
    static bool made;
    if (made)
        return;
    made = true;
    if (keep_store) {
        mkdir(store_dir, 0755);
    } else {
        snprintf(store_dir, sizeof store_dir, "/tmp/faaslet-test-exec-XXXXXX");
        if (!mkdtemp(store_dir)) {
            perror("mkdtemp");
            exit(2);
        }
    }
    DIR *d = opendir(funcs_dir);
    if (!d) {
        perror(funcs_dir);
        exit(2);
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (n < 6 || strcmp(de->d_name + n - 5, ".wasm"))
            continue;
        char path[1024], name[256];
        snprintf(path, sizeof path, "%s/%s", funcs_dir, de->d_name);
        snprintf(name, sizeof name, "%.*s", (int)(n - 5), de->d_name);
        uint8_t *wasm;
        size_t len;
        struct fl_error err;
        if (faaslet_read_file(path, &wasm, &len, &err) ||
            faaslet_store_upload_opts(store_dir, "t", name, wasm, len,
                                      &(struct faaslet_upload_options){.tier = FAASLET_TIER_INTERP},
                                      &err)) {
            fprintf(stderr, "upload %s: %s\n", name, err.msg);
            exit(2);
        }
        free(wasm);
    }
    closedir(d);
    /* recurse: _start calls f(0), f(n) = f(n + 1) + 1 (no tail call), so
     * the fiber's native stack runs out on the compiled tier */
    static const uint8_t recurse[] = {
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x09, 0x02, 0x60, 0x00, 0x00, 0x60,
        0x01, 0x7f, 0x01, 0x7f, 0x03, 0x03, 0x02, 0x00, 0x01, 0x07, 0x0a, 0x01, 0x06, 0x5f, 0x73,
        0x74, 0x61, 0x72, 0x74, 0x00, 0x00, 0x0a, 0x16, 0x02, 0x07, 0x00, 0x41, 0x00, 0x10, 0x01,
        0x1a, 0x0b, 0x0c, 0x00, 0x20, 0x00, 0x41, 0x01, 0x6a, 0x10, 0x01, 0x41, 0x01, 0x6a, 0x0b};
    struct fl_error err;
    if (faaslet_store_upload_opts(store_dir, "t", "recurse", recurse, sizeof recurse,
                                  &(struct faaslet_upload_options){.tier = FAASLET_TIER_INTERP},
                                  &err)) {
        fprintf(stderr, "upload recurse: %s\n", err.msg);
        exit(2);
    }
}

static void remove_store(void)
{
    if (store_dir[0] && !keep_store) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", store_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", store_dir);
    }
}

#ifdef FL_HAVE_HOST_STATE
static struct state_store *state;
#endif

static struct exec *start(uint32_t workers, uint32_t timeout_ms, uint64_t max_memory,
                          uint32_t max_depth)
{
    make_store();
    char files[600];
    snprintf(files, sizeof files, "%s/.files", store_dir);
    struct exec_config cfg = {
        .store_dir = store_dir,
        .files_dir = files,
        .workers = workers,
        .timeout_ms = timeout_ms,
        .max_chain_depth = max_depth,
        .faaslet = {.max_memory = max_memory, .tier = tier},
    };
    struct fl_error err;
#ifdef FL_HAVE_HOST_STATE
    if (!state)
        state = state_store_create(NULL, &err);
    cfg.faaslet.state = state;
#endif
    struct exec *e = exec_create(&cfg, &err);
    if (!e) {
        fprintf(stderr, "exec_create: %s\n", err.msg);
        exit(2);
    }
    return e;
}

/* Runs one call and returns its message (caller frees). */
static struct exec_msg call(struct exec *e, const char *fn, const char *input, const char *cmdline)
{
    struct exec_request req = {.user = "t", .function = fn, .func_ptr = -1, .cmdline = cmdline,
                               .input = (const uint8_t *)input,
                               .input_len = input ? strlen(input) : 0};
    struct fl_error err;
    struct exec_msg m;
    memset(&m, 0, sizeof m);
    uint32_t id = exec_submit(e, &req, &err);
    CHECK(id != 0);
    if (!id)
        return m;
    int rc = exec_await(e, id, 60000, &m, &err);
    CHECK(rc == FL_OK);
    if (rc)
        fprintf(stderr, "await %s: %s\n", fn, err.msg);
    exec_release(e, id);
    return m;
}

static bool output_is(const struct exec_msg *m, const char *want)
{
    bool ok = m->output_len == strlen(want) && !memcmp(m->output, want, m->output_len);
    if (!ok)
        fprintf(stderr, "  output '%.*s' (rv %d), expected '%s'\n", (int)m->output_len,
                (const char *)m->output, m->return_value, want);
    return ok;
}

static bool output_has(const struct exec_msg *m, const char *want)
{
    bool ok = m->output && memmem(m->output, m->output_len, want, strlen(want));
    if (!ok)
        fprintf(stderr, "  output '%.*s' lacks '%s'\n", (int)m->output_len,
                (const char *)m->output, want);
    return ok;
}

/* Calls fn and checks its output and return value. */
static void expect(struct exec *e, const char *fn, const char *input, const char *cmdline,
                   const char *want, int32_t rv)
{
    struct exec_msg m = call(e, fn, input, cmdline);
    CHECK(output_is(&m, want));
    CHECK(m.return_value == rv);
    CHECK(m.status == (rv == 0 ? EXEC_DONE : m.status));
    exec_msg_fini(&m);
}

static void test_hello_outputs_hello(void)
{
    struct exec *e = start(2, 0, 0, 0);
    expect(e, "hello", "anything", NULL, "hello", 0);
    expect(e, "hello_cpp", NULL, NULL, "tupni-on|8|10", 0);
    exec_destroy(e);
}

static void test_echo_and_input_sizes(void)
{
    struct exec *e = start(2, 0, 0, 0);
    expect(e, "echo", "abc", NULL, "abc", 0);
    expect(e, "echo", NULL, NULL, "", 0);
    expect(e, "input_size", "hello world", NULL, "11 he", 0);
    expect(e, "input_size", NULL, NULL, "0 ", 0);
    /* a large binary input comes back byte for byte */
    size_t n = 300000;
    uint8_t *big = malloc(n);
    for (size_t i = 0; i < n; i++)
        big[i] = (uint8_t)(i * 7 + 1);
    big[10] = 0;
    struct exec_request req = {.user = "t", .function = "echo", .func_ptr = -1, .input = big,
                               .input_len = n};
    struct fl_error err;
    struct exec_msg m;
    uint32_t id = exec_submit(e, &req, &err);
    CHECK(id && exec_await(e, id, 60000, &m, &err) == FL_OK);
    CHECK(m.output_len == n && !memcmp(m.output, big, n) && m.return_value == 0);
    exec_msg_fini(&m);
    free(big);
    exec_destroy(e);
}

static void test_chain_by_name_and_await_output(void)
{
    struct exec *e = start(2, 0, 0, 0);
    expect(e, "chain_named", "ping", NULL, "chained:ping", 0);
    expect(e, "chain_cpp", NULL, NULL, "echo:hi child:7", 0);
    exec_destroy(e);
}

static void test_chain_by_pointer_returns_callee_status(void)
{
    struct exec *e = start(2, 0, 0, 0);
    expect(e, "chain_ptr", "21", NULL, "42", 0);
    exec_destroy(e);
}

static void test_nested_and_batch_chains(void)
{
    struct exec *e = start(2, 0, 0, 0);
    expect(e, "chain_nested", "3", NULL, "6", 0);
    expect(e, "chain_nested", "0", NULL, "0", 0);
    expect(e, "chain_batch", NULL, NULL, "ok=0 bad=1", 0);
    exec_destroy(e);
}

static void test_deep_chain_with_one_worker_does_not_deadlock(void)
{
    struct exec *e = start(1, 0, 0, 0);
    /* 40 levels, each awaiting its child, on one worker thread */
    expect(e, "chain_nested", "40", NULL, "820", 0);
    exec_destroy(e);
}

static void test_wide_chains_with_two_workers_do_not_deadlock(void)
{
    struct exec *e = start(2, 0, 0, 0);
    enum { N = 40 };
    uint32_t ids[N];
    struct fl_error err;
    for (int i = 0; i < N; i++) {
        struct exec_request req = {.user = "t", .function = i % 2 ? "chain_batch" : "chain_named",
                                   .func_ptr = -1, .input = (const uint8_t *)"x", .input_len = 1};
        ids[i] = exec_submit(e, &req, &err);
        CHECK(ids[i] != 0);
    }
    for (int i = 0; i < N; i++) {
        struct exec_msg m;
        CHECK(exec_await(e, ids[i], 60000, &m, &err) == FL_OK);
        CHECK(output_is(&m, i % 2 ? "ok=0 bad=1" : "chained:x"));
        exec_msg_fini(&m);
        exec_release(e, ids[i]);
    }
    exec_destroy(e);
}

static void test_chain_depth_limit_refuses_deeper_calls(void)
{
    struct exec *e = start(2, 0, 0, 3);
    expect(e, "chain_nested", "2", NULL, "3", 0);
    struct exec_msg m = call(e, "chain_nested", "10", NULL);
    CHECK(m.return_value != 0);
    exec_msg_fini(&m);
    exec_destroy(e);
}

static void test_zygote_globals_seen_by_every_call(void)
{
    struct exec *e = start(2, 0, 0, 0);
    for (int i = 0; i < 3; i++)
        expect(e, "zygote", NULL, NULL, "zygote=42 calls=1 table=ready", 0);
    exec_destroy(e);
}

static void test_counter_sees_one_on_every_call(void)
{
    struct exec *e = start(2, 0, 0, 0);
    for (int i = 0; i < 8; i++)
        expect(e, "counter", NULL, NULL, "1", 0);
    struct exec_stats st;
    exec_stats_get(e, &st);
    CHECK(st.faaslets_reused >= 6); /* the same Faaslets, reset between calls */
    exec_destroy(e);
}

static void test_argv_comes_from_cmdline(void)
{
    struct exec *e = start(2, 0, 0, 0);
    expect(e, "argv", NULL, "a bb ccc", "a bb ccc", 3);
    expect(e, "argv", NULL, NULL, "", 0);
    expect(e, "argv", NULL, "x", "x", 1);
    exec_destroy(e);
}

static void test_conf_flag_unknown_is_off(void)
{
    struct exec *e = start(1, 0, 0, 0);
    expect(e, "conf_flag", NULL, NULL, "unknown=0", 0);
    exec_destroy(e);
}

static void test_trap_fails_call_and_host_goes_on(void)
{
    struct exec *e = start(2, 0, 0, 0);
    struct exec_msg m = call(e, "trap", NULL, NULL);
    CHECK(m.status == EXEC_FAILED && m.return_value != 0);
    CHECK(output_has(&m, "unreachable"));
    exec_msg_fini(&m);
    expect(e, "hello", NULL, NULL, "hello", 0);
    m = call(e, "trap", NULL, NULL); /* the reset Faaslet traps the same way again */
    CHECK(m.status == EXEC_FAILED && output_has(&m, "unreachable"));
    exec_msg_fini(&m);
    exec_destroy(e);
}

static void test_unbounded_recursion_traps_and_host_goes_on(void)
{
    struct exec *e = start(2, 0, 0, 0);
    for (int i = 0; i < 2; i++) {
        struct exec_msg m = call(e, "recurse", NULL, NULL);
        CHECK(m.status == EXEC_FAILED && m.return_value != 0);
        CHECK(output_has(&m, "stack"));
        exec_msg_fini(&m);
        expect(e, "hello", NULL, NULL, "hello", 0);
    }
    exec_destroy(e);
}

static void test_timeout_ends_a_loop_and_others_go_on(void)
{
    struct exec *e = start(2, 200, 0, 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct exec_msg m = call(e, "loop", NULL, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
    CHECK(m.status == EXEC_FAILED && m.return_value != 0);
    CHECK(output_has(&m, "timed out after 200 ms"));
    CHECK(ms >= 150 && ms < 10000);
    exec_msg_fini(&m);
    expect(e, "counter", NULL, NULL, "1", 0);
    m = call(e, "loop", NULL, NULL); /* a reused Faaslet is not left interrupted or stuck */
    CHECK(output_has(&m, "timed out"));
    exec_msg_fini(&m);
    expect(e, "hello", NULL, NULL, "hello", 0);
    exec_destroy(e);
}

static void test_memory_limit_makes_malloc_fail(void)
{
    struct exec *e = start(2, 0, 16u << 20, 0);
    struct exec_msg m = call(e, "oom", NULL, NULL);
    int mib = -1;
    CHECK(m.output && sscanf((const char *)m.output, "allocated %d MiB", &mib) == 1);
    CHECK(mib >= 1 && mib < 16);
    CHECK(m.return_value == 1); /* oom.c wants >= 32 MiB */
    exec_msg_fini(&m);
    expect(e, "counter", NULL, NULL, "1", 0);
    exec_destroy(e);
    e = start(2, 0, 0, 0); /* the module's own 64 MiB limit */
    m = call(e, "oom", NULL, NULL);
    CHECK(m.return_value == 0 && output_has(&m, "allocated "));
    exec_msg_fini(&m);
    exec_destroy(e);
}

static void test_memory_limit_below_start_size_fails_call(void)
{
    struct exec *e = start(1, 0, 64u << 10, 0);
    struct exec_msg m = call(e, "hello", NULL, NULL);
    CHECK(m.status == EXEC_FAILED && m.return_value != 0 && output_has(&m, "limit"));
    exec_msg_fini(&m);
    exec_destroy(e);
}

static void test_bad_chain_target_fails_only_its_call(void)
{
    struct exec *e = start(2, 0, 0, 0);
    expect(e, "chain_missing", NULL, NULL, "missing failed", 0);
    struct exec_msg m = call(e, "no_such_function", NULL, NULL);
    CHECK(m.status == EXEC_FAILED && m.return_value != 0 && output_has(&m, "no function"));
    exec_msg_fini(&m);
    exec_destroy(e);
}

static void test_submit_rejects_bad_names(void)
{
    struct exec *e = start(1, 0, 0, 0);
    struct fl_error err;
    const char *bad[] = {"..", ".", "a/b", "", "../../etc"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct exec_request req = {.user = "t", .function = bad[i], .func_ptr = -1};
        CHECK(exec_submit(e, &req, &err) == 0 && err.code == FL_ERR_ARG);
        req.user = bad[i];
        req.function = "hello";
        CHECK(exec_submit(e, &req, &err) == 0 && err.code == FL_ERR_ARG);
    }
    exec_destroy(e);
}

static void test_message_fields_are_filled(void)
{
    struct exec *e = start(1, 0, 0, 0);
    struct exec_request req = {.user = "t", .function = "echo", .func_ptr = -1,
                               .input = (const uint8_t *)"q", .input_len = 1, .app_id = 77};
    struct fl_error err;
    struct exec_msg m;
    uint32_t id = exec_submit(e, &req, &err);
    CHECK(id && exec_await(e, id, 60000, &m, &err) == FL_OK);
    CHECK(m.id == id && m.app_id == 77 && !strcmp(m.user, "t") && !strcmp(m.function, "echo"));
    CHECK(m.status == EXEC_DONE && m.start_ns >= m.submit_ns && m.finish_ns >= m.start_ns);
    CHECK(m.executing_host[0] != '\0' && m.func_ptr == -1);
    exec_msg_fini(&m);
    CHECK(exec_await(e, 999999, 0, &m, &err) == FL_ERR_NOT_FOUND);
    exec_destroy(e);
}

#ifdef FL_HAVE_HOST_STATE
static void test_state_function_runs_with_a_state_store(void)
{
    struct exec *e = start(1, 0, 0, 0);
    expect(e, "state_basic", NULL, NULL, "state ok", 0);
    /* state pages mapped into linear memory, seen by a later call */
    expect(e, "state_ptr", "write", NULL, "ptr ok", 0);
    expect(e, "state_ptr", "read", NULL, "ptr ok", 0);
    exec_destroy(e);
}
#endif

static const struct {
    const char *name;
    void (*fn)(void);
} tests[] = {
#define T(f) {#f, f}
    T(test_hello_outputs_hello),
    T(test_echo_and_input_sizes),
    T(test_chain_by_name_and_await_output),
    T(test_chain_by_pointer_returns_callee_status),
    T(test_nested_and_batch_chains),
    T(test_deep_chain_with_one_worker_does_not_deadlock),
    T(test_wide_chains_with_two_workers_do_not_deadlock),
    T(test_chain_depth_limit_refuses_deeper_calls),
    T(test_zygote_globals_seen_by_every_call),
    T(test_counter_sees_one_on_every_call),
    T(test_argv_comes_from_cmdline),
    T(test_conf_flag_unknown_is_off),
    T(test_trap_fails_call_and_host_goes_on),
    T(test_unbounded_recursion_traps_and_host_goes_on),
    T(test_timeout_ends_a_loop_and_others_go_on),
    T(test_memory_limit_makes_malloc_fail),
    T(test_memory_limit_below_start_size_fails_call),
    T(test_bad_chain_target_fails_only_its_call),
    T(test_submit_rejects_bad_names),
    T(test_message_fields_are_filled),
#ifdef FL_HAVE_HOST_STATE
    T(test_state_function_runs_with_a_state_store),
#endif
#undef T
};

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_exec FUNCS_DIR [TEST]\n");
        return 2;
    }
    funcs_dir = argv[1];
    if (argc > 4 && !strcmp(argv[3], "aot")) {
        tier = FAASLET_TIER_AOT;
        keep_store = true;
        snprintf(store_dir, sizeof store_dir, "%s", argv[4]);
    }
    int ran = 0;
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        if (argc > 2 && strcmp(argv[2], tests[i].name) != 0)
            continue;
        int before = failures;
        tests[i].fn();
        printf("%s %s\n", failures == before ? "ok  " : "FAIL", tests[i].name);
        ran++;
    }
    remove_store();
#ifdef FL_HAVE_HOST_STATE
    state_store_destroy(state);
#endif
    if (!ran) {
        fprintf(stderr, "no test named %s\n", argc > 2 ? argv[2] : "?");
        return 2;
    }
    return failures ? 1 : 0;
}
