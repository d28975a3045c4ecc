/* test_host_state.c: the `__faasm_*` state imports (src/faaslet/host_state.c)
 * driven by real wasm: the guest test functions (tests/guest/funcs/state_*)
 * and state_imports.wat, run by the interpreter in a minimal stand-in for a
 * Faaslet (instance + WASI + input/output + state context). Several mini
 * Faaslets share one state store, as Faaslets of one host do.
 * Run as `test_host_state <test name> <guest funcs dir> <state_imports.wasm>`. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "faaslet/host_state.h"
#include "interp/interp.h"
#include "runtime/runtime.h"
#include "state/state.h"
#include "wasi/wasi.h"

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            exit(1);                                                                 \
        }                                                                            \
    } while (0)

static const char *funcs_dir, *imports_wasm;
static struct fl_error err;

/* What the host shares: one runtime store, thread context and state store. */
static struct runtime_store *rstore;
static struct runtime_exec exec;
static struct state_store *sstore;

struct module {
    uint8_t *bytes;
    struct wasm_module *module;
    struct interp_module *code;
};

/* A stand-in for a Faaslet. */
struct mini {
    struct runtime_linker *linker;
    struct wasi_ctx *wasi;
    struct faaslet_state_ctx state;
    struct runtime_instance *instance;
    const char *input;
    char output[256];
    uint32_t output_len;
};

static void load_module(struct module *m, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    m->bytes = malloc((size_t)n);
    CHECK(fread(m->bytes, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    if (wasm_module_load(m->bytes, (size_t)n, &m->module, &err) != 0) {
        fprintf(stderr, "%s: %s\n", path, err.msg);
        exit(1);
    }
    m->code = interp_module_compile(m->module, &err);
    CHECK(m->code != NULL);
}

static void free_module(struct module *m)
{
    interp_module_destroy(m->code);
    wasm_module_destroy(m->module);
    free(m->bytes);
}

static int read_input(struct runtime_exec *e, struct runtime_instance *caller, uint64_t *cells,
                      void *data)
{
    (void)e;
    struct mini *f = data;
    uint32_t size = f->input ? (uint32_t)strlen(f->input) : 0;
    uint32_t len = (uint32_t)cells[1];
    if (len == 0) {
        cells[0] = size;
        return RUNTIME_OK;
    }
    uint32_t n = len < size ? len : size;
    uint8_t *p = runtime_memory_ptr(caller->memories[0], (uint32_t)cells[0], n);
    if (!p)
        return RUNTIME_TRAP_HOST;
    memcpy(p, f->input, n);
    cells[0] = n;
    return RUNTIME_OK;
}

static int write_output(struct runtime_exec *e, struct runtime_instance *caller, uint64_t *cells,
                        void *data)
{
    (void)e;
    struct mini *f = data;
    uint32_t len = (uint32_t)cells[1];
    uint8_t *p = runtime_memory_ptr(caller->memories[0], (uint32_t)cells[0], len);
    if (!p || len >= sizeof f->output)
        return RUNTIME_TRAP_HOST;
    memcpy(f->output, p, len);
    f->output[len] = '\0';
    f->output_len = len;
    return RUNTIME_OK;
}

static void define_io(struct mini *f)
{
    uint8_t t2[3] = {WASM_TYPE_I32, WASM_TYPE_I32, WASM_TYPE_I32};
    struct wasm_functype in = {2, 1, t2}, out = {2, 0, t2};
    struct runtime_extern e = {.kind = WASM_EXTERN_FUNC};
    e.as.func = runtime_host_func_create(rstore, &in, read_input, f, "__faasm_read_input");
    CHECK(e.as.func && runtime_linker_define(f->linker, "env", "__faasm_read_input", &e) == 0);
    e.as.func = runtime_host_func_create(rstore, &out, write_output, f, "__faasm_write_output");
    CHECK(e.as.func && runtime_linker_define(f->linker, "env", "__faasm_write_output", &e) == 0);
}

/* A mini Faaslet of module m; tmp_dir (may be NULL) is preopened as /tmp. */
static void mini_init(struct mini *f, struct module *m, const char *tmp_dir)
{
    memset(f, 0, sizeof *f);
    const char *argv[] = {"func"};
    f->wasi = wasi_ctx_create(1, argv, 0, NULL, &err);
    CHECK(f->wasi != NULL);
    if (tmp_dir)
        CHECK(wasi_ctx_add_preopen(f->wasi, tmp_dir, "/tmp", &err) == 0);
    f->linker = runtime_linker_create(rstore);
    CHECK(f->linker != NULL);
    CHECK(wasi_define_imports(f->linker, rstore, f->wasi, &err) == 0);
    CHECK(faaslet_state_ctx_init(&f->state, sstore, f->wasi, &err) == 0);
    CHECK(faaslet_host_state_define(f->linker, rstore, &f->state, &err) == 0);
    define_io(f);
    if (runtime_linker_instantiate(f->linker, m->module, &interp_tier, m->code, &exec,
                                   &f->instance, &err) != 0) {
        fprintf(stderr, "instantiate: %s\n", err.msg);
        exit(1);
    }
}

static void mini_fini(struct mini *f)
{
    faaslet_state_ctx_fini(&f->state);
    runtime_linker_destroy(f->linker);
    wasi_ctx_destroy(f->wasi);
}

static struct runtime_memory *mini_memory(struct mini *f)
{
    return f->instance->memories[0];
}

/* Calls export name with args (n of them) as user "alice"; leaves the call
 * open (its mappings and locks live) unless end is set. Returns the trap. */
static int mini_call(struct mini *f, bool end, const char *name, uint64_t *cells)
{
    struct runtime_extern ext;
    CHECK(runtime_instance_export(f->instance, name, &ext) && ext.kind == WASM_EXTERN_FUNC);
    faaslet_state_call_begin(&f->state, "alice");
    exec.trap_msg[0] = '\0';
    int trap = runtime_call(&exec, ext.as.func, cells);
    if (end)
        faaslet_state_call_end(&f->state, mini_memory(f));
    return trap;
}

/* Runs a guest function's _start with input; returns main's status. */
static int mini_run(struct mini *f, const char *input)
{
    f->input = input;
    f->output[0] = '\0';
    uint64_t cells[1] = {0};
    int trap = mini_call(f, true, "_start", cells);
    if (trap == RUNTIME_TRAP_EXIT)
        return exec.exit_code;
    if (trap != RUNTIME_OK) {
        fprintf(stderr, "trap %d: %s\n", trap, exec.trap_msg);
        return -1;
    }
    return 0;
}

static void global_value(const char *key, char *buf, uint64_t len)
{
    struct state_global *g = state_store_global(sstore);
    uint64_t size = 0;
    CHECK(g->ops->get_range(g, "alice", key, 0, (uint8_t *)buf, len, &size, &err) == 0);
    CHECK(size == len);
}

static void put_string(struct mini *f, uint32_t addr, const char *s)
{
    char *p = runtime_memory_ptr(mini_memory(f), addr, strlen(s) + 1);
    CHECK(p != NULL);
    memcpy(p, s, strlen(s) + 1);
}

static char *path_in(const char *dir, const char *name)
{
    char *p;
    CHECK(asprintf(&p, "%s/%s", dir, name) > 0);
    return p;
}

/* ---- Guest functions ---- */

static void test_guest_state_basic_runs_every_copying_call(void)
{
    struct module m;
    char *path = path_in(funcs_dir, "state_basic.wasm");
    load_module(&m, path);
    struct mini f;
    mini_init(&f, &m, NULL);
    CHECK(mini_run(&f, NULL) == 0);
    CHECK(strcmp(f.output, "state ok") == 0);
    char buf[11];
    global_value("sb_value", buf, 11);
    CHECK(memcmp(buf, "HELLO world", 11) == 0);
    /* Calls are repeatable (appended list cleared, value rewritten). */
    CHECK(mini_run(&f, NULL) == 0);
    CHECK(strcmp(f.output, "state ok") == 0);
    mini_fini(&f);
    free_module(&m);
    free(path);
}

static void test_guest_state_ptr_is_shared_by_two_faaslets(void)
{
    struct module m;
    char *path = path_in(funcs_dir, "state_ptr.wasm");
    load_module(&m, path);
    struct mini writer, reader;
    mini_init(&writer, &m, NULL);
    mini_init(&reader, &m, NULL);
    int rc = mini_run(&writer, "write");
    fprintf(stderr, "writer: %d %s\n", rc, writer.output);
    CHECK(rc == 0 && strcmp(writer.output, "ptr ok") == 0);
    rc = mini_run(&reader, "read");
    fprintf(stderr, "reader: %d %s\n", rc, reader.output);
    CHECK(rc == 0 && strcmp(reader.output, "ptr ok") == 0);
    /* Both pushes reached the global tier. */
    char buf[8192];
    global_value("sp_shared", buf, sizeof buf);
    CHECK(buf[4095] == (char)(4095 % 251) && memcmp(buf + 4096, "WXYZ", 4) == 0);
    /* Each call grew memory for its mapping; calls again still work. */
    CHECK(mini_run(&reader, "read") == 0 && mini_run(&writer, "write") == 0);
    mini_fini(&writer);
    mini_fini(&reader);
    free_module(&m);
    free(path);
}

static void test_guest_state_misc_locks_masks_and_files(void)
{
    char tmpl[] = "/tmp/fl-state-XXXXXX";
    CHECK(mkdtemp(tmpl) != NULL);
    struct module m;
    char *path = path_in(funcs_dir, "state_misc.wasm");
    load_module(&m, path);
    struct mini f;
    mini_init(&f, &m, tmpl);
    int rc = mini_run(&f, NULL);
    fprintf(stderr, "misc: %d %s\n", rc, f.output);
    CHECK(rc == 0 && strcmp(f.output, "misc ok") == 0);
    char buf[6];
    global_value("sm_masked", buf, 4);
    CHECK(memcmp(buf, "AbCd", 4) == 0);
    struct state_value *v = state_value_find(sstore, "alice", "sm_file");
    CHECK(v && state_value_size(v) == 6 && memcmp(state_value_data(v), "faasm\n", 6) == 0);
    /* The global lock was released by the guest. */
    uint64_t token;
    CHECK(state_lock_global(sstore, "alice", "sm_masked", 0, &token, &err) == 0);
    CHECK(state_unlock_global(sstore, "alice", "sm_masked", token, &err) == 0);
    char *file = path_in(tmpl, "sm_file.txt");
    unlink(file);
    rmdir(tmpl);
    free(file);
    mini_fini(&f);
    free_module(&m);
    free(path);
}

static void test_guest_state_cpp_sums_shared_ints(void)
{
    struct module m;
    char *path = path_in(funcs_dir, "state_cpp.wasm");
    load_module(&m, path);
    struct mini f;
    mini_init(&f, &m, NULL);
    int rc = mini_run(&f, NULL);
    CHECK(rc == 0 && strcmp(f.output, "sum=45") == 0);
    mini_fini(&f);
    free_module(&m);
    free(path);
}

/* ---- Imports driven directly ---- */

static void test_pointer_mapping_is_shared_without_copy(void)
{
    struct module m;
    load_module(&m, imports_wasm);
    struct mini a, b;
    mini_init(&a, &m, NULL);
    mini_init(&b, &m, NULL);
    put_string(&a, 16, "shared");
    put_string(&b, 16, "shared");
    uint64_t ca[2] = {16, 100000}, cb[2] = {16, 100000};
    CHECK(mini_call(&a, false, "ptr", ca) == RUNTIME_OK);
    CHECK(mini_call(&b, false, "ptr", cb) == RUNTIME_OK);
    uint32_t pa = (uint32_t)ca[0], pb = (uint32_t)cb[0];
    CHECK(pa % WASM_PAGE_SIZE == 0 && pa >= WASM_PAGE_SIZE); /* grown past the old end */
    /* A store by wasm code in Faaslet a is a load in Faaslet b. */
    uint64_t st[2] = {pa + 99999, 42};
    CHECK(mini_call(&a, false, "store8", st) == RUNTIME_OK);
    uint64_t ld[1] = {pb + 99999};
    CHECK(mini_call(&b, false, "load8", ld) == RUNTIME_OK && ld[0] == 42);
    /* The same key in the same call gives the same address; offsets add. */
    uint64_t again[2] = {16, 100000};
    CHECK(mini_call(&a, false, "ptr", again) == RUNTIME_OK && (uint32_t)again[0] == pa);
    uint64_t off[4] = {16, 100000, 70000, 10};
    CHECK(mini_call(&a, false, "roffptr", off) == RUNTIME_OK && (uint32_t)off[0] == pa + 70000);
    /* A size other than the value's is misuse. */
    uint64_t bad[2] = {16, 5};
    CHECK(mini_call(&a, false, "ptr", bad) == RUNTIME_TRAP_HOST);
    CHECK(strstr(exec.trap_msg, "__faasm_read_state_ptr") && strstr(exec.trap_msg, "100000"));
    /* Ending a's call detaches its mapping: its pages are private again. */
    faaslet_state_call_end(&a.state, mini_memory(&a));
    uint8_t *p = runtime_memory_ptr(mini_memory(&a), pa + 99999, 1);
    CHECK(p && *p == 0);
    *p = 7;
    ld[0] = pb + 99999;
    CHECK(mini_call(&b, true, "load8", ld) == RUNTIME_OK && ld[0] == 42);
    mini_fini(&a);
    mini_fini(&b);
    free_module(&m);
}

static void test_call_end_releases_locks_the_call_holds(void)
{
    struct module m;
    load_module(&m, imports_wasm);
    struct mini f;
    mini_init(&f, &m, NULL);
    put_string(&f, 16, "locked");
    uint64_t c[1] = {16};
    CHECK(mini_call(&f, false, "lockw", c) == RUNTIME_OK);
    c[0] = 16;
    CHECK(mini_call(&f, false, "lockg", c) == RUNTIME_OK);
    struct state_value *v;
    CHECK(state_value_lockable(sstore, "alice", "locked", &v, &err) == 0);
    CHECK(state_value_lock(v, false, 0) == FL_ERR_LIMIT);
    uint64_t token;
    CHECK(state_lock_global(sstore, "alice", "locked", 0, &token, &err) == FL_ERR_LIMIT);
    faaslet_state_call_end(&f.state, mini_memory(&f)); /* e.g. the call trapped */
    CHECK(state_value_lock(v, false, 0) == 0);
    state_value_unlock(v, false);
    CHECK(state_lock_global(sstore, "alice", "locked", 0, &token, &err) == 0);
    CHECK(state_unlock_global(sstore, "alice", "locked", token, &err) == 0);
    /* Nested reads in one call are fine; a write while reading is misuse. */
    c[0] = 16;
    CHECK(mini_call(&f, false, "lockr", c) == RUNTIME_OK);
    c[0] = 16;
    CHECK(mini_call(&f, false, "lockr", c) == RUNTIME_OK);
    c[0] = 16;
    CHECK(mini_call(&f, false, "lockw", c) == RUNTIME_TRAP_HOST);
    c[0] = 16;
    CHECK(mini_call(&f, false, "unlockr", c) == RUNTIME_OK);
    c[0] = 16;
    CHECK(mini_call(&f, false, "unlockr", c) == RUNTIME_OK);
    c[0] = 16;
    CHECK(mini_call(&f, true, "unlockr", c) == RUNTIME_TRAP_HOST);
    CHECK(strstr(exec.trap_msg, "__faasm_unlock_state_read: key locked"));
    mini_fini(&f);
    free_module(&m);
}

static void test_guest_misuse_traps_with_the_import_name(void)
{
    struct module m;
    load_module(&m, imports_wasm);
    struct mini f;
    mini_init(&f, &m, NULL);
    put_string(&f, 16, "k");
    put_string(&f, 48, "huge");
    struct {
        const char *export;
        uint64_t cells[5];
        const char *msg;
    } cases[] = {
        {"read", {70000, 0, 0}, "__faasm_read_state: key pointer 0x11170 is outside memory"},
        {"read", {16, 0, (uint32_t)-4}, "negative length"},
        {"read", {16, 65530, 100}, "buffer"},
        {"write", {16, 65535, 2}, "__faasm_write_state: data"},
        {"ptr", {16, 0}, "must be positive"},
        {"woff", {16, 10, 8, 0, 4}, "outside the value"},
        {"roff", {16, 10, (uint32_t)-1, 0, 1}, "outside the value"},
        {"flag", {16, 11}, "value is 10 bytes, the call says 11"},
        {"rapp", {16, 0, 0, 1}, "1 elements asked, 0 appended"},
        {"unlockw", {16}, "does not hold its write lock"},
        {"unlockg", {16}, "does not hold its global lock"},
        {"ptr", {48, 0x7fffffff}, "over the limit"},
    };
    /* A key without a NUL before the end of memory. */
    char *end = runtime_memory_ptr(mini_memory(&f), WASM_PAGE_SIZE - 3, 3);
    memcpy(end, "abc", 3);
    uint64_t w[3] = {16, 32, 10};
    CHECK(mini_call(&f, false, "write", w) == RUNTIME_OK); /* "k" is 10 bytes now */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t cells[5];
        memcpy(cells, cases[i].cells, sizeof cells);
        int trap = mini_call(&f, false, cases[i].export, cells);
        if (trap != RUNTIME_TRAP_HOST || !strstr(exec.trap_msg, cases[i].msg)) {
            fprintf(stderr, "case %zu (%s): trap %d msg '%s', want '%s'\n", i, cases[i].export,
                    trap, exec.trap_msg, cases[i].msg);
            exit(1);
        }
    }
    uint64_t nonul[3] = {WASM_PAGE_SIZE - 3, 0, 0};
    CHECK(mini_call(&f, false, "read", nonul) == RUNTIME_TRAP_HOST);
    CHECK(strstr(exec.trap_msg, "no NUL"));
    /* After all that the Faaslet still works. */
    uint64_t r[3] = {16, 100, 10};
    CHECK(mini_call(&f, true, "read", r) == RUNTIME_OK && r[0] == 10);
    /* No call running (no user): every import traps instead of guessing. */
    struct runtime_extern ext;
    CHECK(runtime_instance_export(f.instance, "read", &ext));
    uint64_t c[3] = {16, 0, 0};
    CHECK(runtime_call(&exec, ext.as.func, c) == RUNTIME_TRAP_HOST);
    CHECK(strstr(exec.trap_msg, "no call is running"));
    mini_fini(&f);
    free_module(&m);
}

static void test_interrupt_stops_a_lock_wait(void)
{
    struct module m;
    load_module(&m, imports_wasm);
    struct mini f;
    mini_init(&f, &m, NULL);
    put_string(&f, 16, "busy");
    struct state_value *v;
    CHECK(state_value_lockable(sstore, "alice", "busy", &v, &err) == 0);
    CHECK(state_value_lock(v, true, 0) == 0); /* someone else holds it */
    atomic_store(&exec.interrupt, 1);         /* e.g. the call's timeout fired */
    uint64_t c[1] = {16};
    CHECK(mini_call(&f, true, "lockw", c) == RUNTIME_TRAP_INTERRUPTED);
    state_value_unlock(v, true);
    mini_fini(&f);
    free_module(&m);
}

static const struct {
    const char *name;
    void (*fn)(void);
} tests[] = {
#define T(x) {#x, x}
    T(test_guest_state_basic_runs_every_copying_call),
    T(test_guest_state_ptr_is_shared_by_two_faaslets),
    T(test_guest_state_misc_locks_masks_and_files),
    T(test_guest_state_cpp_sums_shared_ints),
    T(test_pointer_mapping_is_shared_without_copy),
    T(test_call_end_releases_locks_the_call_holds),
    T(test_guest_misuse_traps_with_the_import_name),
    T(test_interrupt_stops_a_lock_wait),
#undef T
};

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s TEST FUNCS_DIR STATE_IMPORTS_WASM\n", argv[0]);
        return 2;
    }
    funcs_dir = argv[2];
    imports_wasm = argv[3];
    rstore = runtime_store_create();
    CHECK(rstore && runtime_exec_init(&exec, rstore, 0, &err) == 0);
    sstore = state_store_create(NULL, &err);
    CHECK(sstore != NULL);
    int found = 0;
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        if (strcmp(argv[1], tests[i].name) == 0) {
            tests[i].fn();
            found = 1;
        }
    }
    runtime_exec_fini(&exec);
    runtime_store_destroy(rstore);
    state_store_destroy(sstore);
    if (!found) {
        fprintf(stderr, "unknown test %s\n", argv[1]);
        return 2;
    }
    return 0;
}
