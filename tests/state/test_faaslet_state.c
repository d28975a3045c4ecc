/* test_faaslet_state.c: state through real Faaslets (src/exec + src/faaslet):
 * the guest state_* functions run as calls and their documented outputs are
 * checked; concurrent calls of state_counter on several Faaslets share one
 * pointer-mapped value under the host-local write lock, across resets.
 * Run as `test_faaslet_state <test name> <guest funcs dir> <state funcs dir>`. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec/exec.h"
#include "faaslet/faaslet.h"
#include "state/state.h"

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            exit(1);                                                                 \
        }                                                                            \
    } while (0)

static const char *guest_dir, *state_dir;
static struct fl_error err;
static char root[64];
static struct state_store *sstore;
static struct exec *ex;

static void upload(const char *dir, const char *name)
{
    char path[4096], store[4200];
    snprintf(path, sizeof path, "%s/%s.wasm", dir, name);
    snprintf(store, sizeof store, "%s/store", root);
    uint8_t *wasm;
    size_t len;
    CHECK(faaslet_read_file(path, &wasm, &len, &err) == 0);
    CHECK(faaslet_store_upload(store, "alice", name, wasm, len, &err) == 0);
    free(wasm);
}

static void start(uint32_t workers)
{
    strcpy(root, "/tmp/fl-state-exec-XXXXXX");
    CHECK(mkdtemp(root) != NULL);
    upload(guest_dir, "state_basic");
    upload(guest_dir, "state_ptr");
    upload(guest_dir, "state_misc");
    upload(guest_dir, "state_cpp");
    upload(state_dir, "state_counter");
    sstore = state_store_create(NULL, &err);
    CHECK(sstore != NULL);
    char store[4200], files[4200];
    snprintf(store, sizeof store, "%s/store", root);
    snprintf(files, sizeof files, "%s/files", root);
    struct exec_config cfg = {
        .store_dir = store,
        .files_dir = files,
        .workers = workers,
        .timeout_ms = 60000,
        .faaslet = {.state = sstore},
    };
    ex = exec_create(&cfg, &err);
    if (!ex) {
        fprintf(stderr, "exec_create: %s\n", err.msg);
        exit(1);
    }
}

static void stop(void)
{
    exec_destroy(ex);
    state_store_destroy(sstore);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    CHECK(system(cmd) == 0);
}

static uint32_t submit(const char *function, const char *input)
{
    struct exec_request req = {
        .user = "alice",
        .function = function,
        .input = (const uint8_t *)input,
        .input_len = input ? strlen(input) : 0,
        .func_ptr = -1,
    };
    uint32_t id = exec_submit(ex, &req, &err);
    CHECK(id != 0);
    return id;
}

/* Awaits id; returns its return value and its output in out (NUL-terminated). */
static int await_output(uint32_t id, char *out, size_t cap)
{
    struct exec_msg msg;
    CHECK(exec_await(ex, id, 60000, &msg, &err) == 0);
    size_t n = msg.output_len < cap - 1 ? msg.output_len : cap - 1;
    memcpy(out, msg.output, n);
    out[n] = '\0';
    int rc = msg.return_value;
    exec_msg_fini(&msg);
    return rc;
}

static void expect(const char *function, const char *input, const char *output)
{
    char out[256];
    int rc = await_output(submit(function, input), out, sizeof out);
    if (rc != 0 || strcmp(out, output) != 0) {
        fprintf(stderr, "%s(%s): return %d, output '%s', want 0 and '%s'\n", function,
                input ? input : "", rc, out, output);
        exit(1);
    }
}

static void test_faaslets_run_every_state_function(void)
{
    start(2);
    expect("state_basic", NULL, "state ok");
    expect("state_basic", NULL, "state ok"); /* again, on a reset Faaslet */
    expect("state_misc", NULL, "misc ok");
    expect("state_cpp", NULL, "sum=45");
    struct state_global *g = state_store_global(sstore);
    char buf[16];
    CHECK(g->ops->get_range(g, "alice", "sb_value", 0, (uint8_t *)buf, 11, NULL, &err) == 0);
    CHECK(memcmp(buf, "HELLO world", 11) == 0);
    CHECK(g->ops->get_range(g, "alice", "sm_masked", 0, (uint8_t *)buf, 4, NULL, &err) == 0);
    CHECK(memcmp(buf, "AbCd", 4) == 0);
    struct state_value *v = state_value_find(sstore, "alice", "sm_file");
    CHECK(v && state_value_size(v) == 6 && memcmp(state_value_data(v), "faasm\n", 6) == 0);
    stop();
}

static void test_faaslets_share_a_pointer_mapped_value(void)
{
    start(2);
    /* Two concurrent writer/reader pairs; reads run after their writes. */
    expect("state_ptr", "write", "ptr ok");
    uint32_t r1 = submit("state_ptr", "read"), r2 = submit("state_ptr", "read");
    char out[64];
    CHECK(await_output(r1, out, sizeof out) == 0 && strcmp(out, "ptr ok") == 0);
    CHECK(await_output(r2, out, sizeof out) == 0 && strcmp(out, "ptr ok") == 0);
    stop();
}

#define COUNTER_CALLS 8
#define COUNTER_TIMES "30000" /* long enough that calls overlap even when each is fast */

static void test_concurrent_faaslets_count_exactly_under_the_write_lock(void)
{
    start(4);
    uint32_t ids[COUNTER_CALLS];
    for (int i = 0; i < COUNTER_CALLS; i++)
        ids[i] = submit("state_counter", COUNTER_TIMES);
    unsigned max = 0;
    for (int i = 0; i < COUNTER_CALLS; i++) {
        char out[64];
        CHECK(await_output(ids[i], out, sizeof out) == 0);
        unsigned seen;
        CHECK(sscanf(out, "count=%u", &seen) == 1);
        max = seen > max ? seen : max;
    }
    unsigned total = COUNTER_CALLS * (unsigned)atoi(COUNTER_TIMES);
    struct state_value *v = state_value_find(sstore, "alice", "sc_counter");
    CHECK(v != NULL);
    uint32_t counter;
    memcpy(&counter, state_value_data(v), 4);
    if (counter != total || max != total) {
        fprintf(stderr, "counter %u, max seen %u, want %u\n", counter, max, total);
        exit(1);
    }
    struct exec_stats st;
    exec_stats_get(ex, &st);
    fprintf(stderr, "faaslets created %llu, reused %llu\n",
            (unsigned long long)st.faaslets_created, (unsigned long long)st.faaslets_reused);
    CHECK(st.faaslets_created >= 2); /* several Faaslets mapped it at once */
    stop();
}

static const struct {
    const char *name;
    void (*fn)(void);
} tests[] = {
#define T(x) {#x, x}
    T(test_faaslets_run_every_state_function),
    T(test_faaslets_share_a_pointer_mapped_value),
    T(test_concurrent_faaslets_count_exactly_under_the_write_lock),
#undef T
};

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s TEST GUEST_FUNCS_DIR STATE_FUNCS_DIR\n", argv[0]);
        return 2;
    }
    guest_dir = argv[2];
    state_dir = argv[3];
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        if (strcmp(argv[1], tests[i].name) == 0) {
            tests[i].fn();
            return 0;
        }
    }
    fprintf(stderr, "unknown test %s\n", argv[1]);
    return 2;
}
