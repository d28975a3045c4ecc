/* test_faaslet.c: the Faaslet part without the executor: the function
 * store's name checks and atomic uploads, proto-faaslet snapshots, restore
 * and reset (memory, globals, size), plain WASI commands, calls by pointer
 * without the export; code generation at upload and compiled objects that
 * are tampered with. Run one test: test_faaslet FUNCS_DIR PLAIN_WASM NAME
 * [interp|aot AOT_DIR] (the tier Faaslets run on; aot keeps compiled objects
 * in AOT_DIR). */
#define _GNU_SOURCE
#include "faaslet/faaslet.h"
#include "faaslet/faaslet_internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
    return "allow_user_segv_handler=1:handle_segv=0:detect_leaks=1";
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

static const char *funcs_dir, *plain_wasm;
static enum faaslet_tier tier = FAASLET_TIER_INTERP;
static const char *aot_dir;
static const struct faaslet_upload_options no_codegen = {.tier = FAASLET_TIER_INTERP};

static uint8_t *load(const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.wasm", funcs_dir, name);
    uint8_t *wasm = NULL;
    struct fl_error err;
    if (faaslet_read_file(name[0] == '/' ? name : path, &wasm, len, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        exit(2);
    }
    return wasm;
}

struct proto_job {
    const char *function;
    const uint8_t *wasm;
    size_t len;
    const struct faaslet_config *cfg;
    struct faaslet_proto *proto;
    struct fl_error err;
};

static void *proto_job_run(void *arg)
{
    struct proto_job *j = arg;
    j->proto = faaslet_proto_create("u", j->function, j->wasm, j->len, j->cfg, &j->err);
    return NULL;
}

static struct faaslet_proto *proto_of(const char *name, uint64_t max_memory)
{
    size_t len;
    uint8_t *wasm = load(name, &len);
    struct faaslet_config cfg = {.max_memory = max_memory, .tier = tier, .aot_dir = aot_dir};
    struct fl_error err;
    /* On a thread of its own, as src/exec makes protos: code generation
     * then leaves no LLVM thread-local storage on the main thread (LSan's
     * exit-time scan misreads glibc's dynamic TLS of the LLVM library). */
    struct proto_job job = {.function = name[0] == '/' ? "plain" : name, .wasm = wasm, .len = len,
                            .cfg = &cfg};
    pthread_t t;
    if (pthread_create(&t, NULL, proto_job_run, &job) == 0)
        pthread_join(t, NULL);
    else
        proto_job_run(&job);
    err = job.err;
    struct faaslet_proto *p = job.proto;
    if (!p)
        fprintf(stderr, "proto %s: %s\n", name, err.msg);
    else if (strcmp(faaslet_proto_tier_name(p), tier == FAASLET_TIER_AOT ? "aot" : "interp")) {
        fprintf(stderr, "proto %s runs on %s\n", name, faaslet_proto_tier_name(p));
        failures++;
    }
    free(wasm);
    return p;
}

static bool run(struct faaslet *f, int32_t ptr, const char *input, const char *want, int32_t rv)
{
    struct faaslet_call c = {.user = "u", .func_ptr = ptr, .input = (const uint8_t *)input,
                             .input_len = input ? strlen(input) : 0};
    struct fl_error err;
    bool ok = faaslet_run(f, &c, &err) == FL_OK;
    ok = ok && c.return_value == rv &&
         (!want || (c.output_len == strlen(want) && !memcmp(c.output, want, c.output_len)));
    if (!ok)
        fprintf(stderr, "  got rv %d output '%.*s' error '%s'\n", c.return_value,
                (int)c.output_len, c.output ? (const char *)c.output : "", c.error);
    faaslet_call_fini(&c);
    return ok;
}

static void test_names_are_checked(void)
{
    CHECK(faaslet_name_valid("hello"));
    CHECK(faaslet_name_valid("a-b_c.1"));
    const char *bad[] = {"", ".", "..", ".hidden", "a/b", "a b", "../x", "a\\b", "é"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(!faaslet_name_valid(bad[i]));
    char longname[FAASLET_MAX_NAME + 2];
    memset(longname, 'a', sizeof longname);
    longname[FAASLET_MAX_NAME] = '\0';
    CHECK(faaslet_name_valid(longname));
    longname[FAASLET_MAX_NAME] = 'a';
    longname[FAASLET_MAX_NAME + 1] = '\0';
    CHECK(!faaslet_name_valid(longname));
}

static void test_upload_stores_valid_and_rejects_invalid(void)
{
    char dir[] = "/tmp/faaslet-test-store-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    size_t len;
    uint8_t *wasm = load("hello", &len);
    struct fl_error err;
    CHECK(faaslet_store_upload_opts(dir, "u", "hello", wasm, len, &no_codegen, &err) == FL_OK);
    uint8_t *back;
    size_t back_len;
    CHECK(faaslet_store_read(dir, "u", "hello", &back, &back_len, &err) == FL_OK);
    CHECK(back_len == len && !memcmp(back, wasm, len));
    free(back);
    /* truncated: rejected, nothing stored, the old module stays */
    CHECK(faaslet_store_upload_opts(dir, "u", "bad", wasm, len / 2, &no_codegen, &err) ==
          FL_ERR_MALFORMED);
    CHECK(strstr(err.msg, "invalid module") != NULL);
    char path[512];
    snprintf(path, sizeof path, "%s/u/bad/function.wasm", dir);
    CHECK(access(path, F_OK) != 0);
    CHECK(faaslet_store_upload_opts(dir, "u", "hello", wasm, 7, &no_codegen, &err) != FL_OK);
    CHECK(faaslet_store_read(dir, "u", "hello", &back, &back_len, &err) == FL_OK &&
          back_len == len);
    free(back);
    CHECK(faaslet_store_upload(dir, "..", "x", wasm, len, &err) == FL_ERR_ARG);
    CHECK(faaslet_store_upload(dir, "u", "../x", wasm, len, &err) == FL_ERR_ARG);
    CHECK(faaslet_store_read(dir, "u", "nothing", &back, &back_len, &err) == FL_ERR_NOT_FOUND);
    free(wasm);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

static void test_reset_restores_memory_and_globals(void)
{
    struct faaslet_proto *p = proto_of("counter", 0);
    CHECK(p != NULL);
    if (!p)
        return;
    struct fl_error err;
    struct faaslet *f = faaslet_create(p, &err);
    CHECK(f != NULL);
    for (int i = 0; i < 5; i++)
        CHECK(run(f, -1, NULL, "1", 0));
    struct runtime_memory *mem = f->instance->memories[0];
    CHECK(atomic_load(&mem->size) == faaslet_proto_memory_size(p));
    /* a second Faaslet from the same snapshot is independent */
    struct faaslet *g = faaslet_create(p, &err);
    CHECK(g && run(g, -1, NULL, "1", 0) && run(f, -1, NULL, "1", 0));
    faaslet_destroy(g);
    faaslet_destroy(f);
    faaslet_proto_destroy(p);
}

static void test_memory_grown_by_a_call_is_dropped_by_reset(void)
{
    struct faaslet_proto *p = proto_of("oom", 8u << 20);
    CHECK(p != NULL);
    if (!p)
        return;
    struct fl_error err;
    struct faaslet *f = faaslet_create(p, &err);
    CHECK(f != NULL);
    struct faaslet_call c = {.user = "u", .func_ptr = -1};
    CHECK(faaslet_run(f, &c, &err) == FL_OK);
    CHECK(c.return_value == 1 && c.output && !memcmp(c.output, "allocated ", 10));
    faaslet_call_fini(&c);
    struct runtime_memory *mem = f->instance->memories[0];
    CHECK(atomic_load(&mem->size) == faaslet_proto_memory_size(p));
    CHECK(mem->max_pages == (8u << 20) / WASM_PAGE_SIZE);
    CHECK(runtime_memory_grow(mem, 1) >= 0 && mem->base[atomic_load(&mem->size) - 1] == 0);
    CHECK(faaslet_reset(f, &err) == FL_OK);
    faaslet_destroy(f);
    faaslet_proto_destroy(p);
}

static void test_zygote_runs_once_before_snapshot(void)
{
    struct faaslet_proto *p = proto_of("zygote", 0);
    CHECK(p && p->has_zygote && p->has_init);
    if (!p)
        return;
    struct fl_error err;
    struct faaslet *f = faaslet_create(p, &err);
    for (int i = 0; i < 3; i++)
        CHECK(f && run(f, -1, NULL, "zygote=42 calls=1 table=ready", 0));
    faaslet_destroy(f);
    faaslet_proto_destroy(p);
}

static void test_plain_wasi_command_skips_init(void)
{
    struct faaslet_proto *p = proto_of(plain_wasm, 0);
    CHECK(p && !p->has_init && !p->has_zygote);
    if (!p)
        return;
    struct fl_error err;
    struct faaslet *f = faaslet_create(p, &err);
    CHECK(f && run(f, -1, NULL, NULL, 1) && run(f, -1, NULL, NULL, 1));
    /* no _faasm_call_ptr: a call by pointer fails with a reason */
    struct faaslet_call c = {.user = "u", .func_ptr = 1};
    CHECK(f && faaslet_run(f, &c, &err) == FL_OK && c.failed && c.return_value != 0 &&
          strstr(c.error, "_faasm_call_ptr"));
    faaslet_call_fini(&c);
    faaslet_destroy(f);
    faaslet_proto_destroy(p);
}

static void test_bad_pointer_traps_the_call(void)
{
    struct faaslet_proto *p = proto_of("chain_ptr", 0);
    struct fl_error err;
    struct faaslet *f = p ? faaslet_create(p, &err) : NULL;
    CHECK(f != NULL);
    if (f) {
        struct faaslet_call c = {.user = "u", .func_ptr = 100000};
        CHECK(faaslet_run(f, &c, &err) == FL_OK && c.failed && c.return_value != 0);
        faaslet_call_fini(&c);
        /* without a host, chaining is refused (chain_ptr's await of id 0
         * fails, so main reports it) and the Faaslet still works */
        struct faaslet_call d = {.user = "u", .func_ptr = -1};
        CHECK(faaslet_run(f, &d, &err) == FL_OK && !d.failed && d.return_value != 0);
        faaslet_call_fini(&d);
    }
    faaslet_destroy(f);
    faaslet_proto_destroy(p);
}

static void test_invalid_module_is_rejected_by_proto(void)
{
    struct fl_error err;
    const uint8_t junk[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 0xff};
    CHECK(faaslet_proto_create("u", "junk", junk, sizeof junk, NULL, &err) == NULL);
    CHECK(err.code != FL_OK && strstr(err.msg, "invalid module"));
    CHECK(faaslet_proto_create("u", "..", junk, sizeof junk, NULL, &err) == NULL);
}

/* Number of compiled objects (*.so) in dir; *so gets the last one's path. */
static int count_objects(const char *dir, char *so, size_t n)
{
    DIR *d = opendir(dir);
    int count = 0;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l > 3 && !strcmp(de->d_name + l - 3, ".so") && de->d_name[0] != '.') {
            count++;
            snprintf(so, n, "%s/%s", dir, de->d_name);
        }
    }
    if (d)
        closedir(d);
    return count;
}

/* A proto of the function stored in <store>/u/<name> on tier t. */
static struct faaslet_proto *stored_proto(const char *store, const char *name, enum faaslet_tier t,
                                          struct fl_error *err)
{
    char fdir[512];
    snprintf(fdir, sizeof fdir, "%s/u/%s", store, name);
    uint8_t *wasm;
    size_t len;
    if (faaslet_store_read(store, "u", name, &wasm, &len, err))
        return NULL;
    struct faaslet_config cfg = {.tier = t, .aot_dir = fdir};
    struct faaslet_proto *p = faaslet_proto_create("u", name, wasm, len, &cfg, err);
    free(wasm);
    return p;
}

static void test_upload_generates_code_and_faaslets_run_it(void)
{
    char dir[] = "/tmp/faaslet-test-store-XXXXXX", fdir[512], so[600];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(fdir, sizeof fdir, "%s/u/hello", dir);
    size_t len;
    uint8_t *wasm = load("hello", &len);
    struct fl_error err;
    struct faaslet_upload_options aot = {.tier = FAASLET_TIER_AOT};
    CHECK(faaslet_store_upload_opts(dir, "u", "hello", wasm, len, &aot, &err) == FL_OK);
    CHECK(count_objects(fdir, so, sizeof so) == 1);
    struct stat before, after;
    CHECK(stat(so, &before) == 0);
    struct faaslet_proto *p = stored_proto(dir, "hello", FAASLET_TIER_AOT, &err);
    CHECK(p && !strcmp(faaslet_proto_tier_name(p), "aot"));
    struct faaslet *f = p ? faaslet_create(p, &err) : NULL;
    struct faaslet *g = p ? faaslet_create(p, &err) : NULL;
    CHECK(f && g && run(f, -1, NULL, "hello", 0) && run(g, -1, NULL, "hello", 0) &&
          run(f, -1, NULL, "hello", 0));
    faaslet_destroy(g);
    faaslet_destroy(f);
    faaslet_proto_destroy(p);
    /* loaded, not generated again */
    CHECK(stat(so, &after) == 0 && after.st_ino == before.st_ino &&
          after.st_mtim.tv_nsec == before.st_mtim.tv_nsec);
    /* the same module again keeps one object; another module replaces it */
    CHECK(faaslet_store_upload_opts(dir, "u", "hello", wasm, len, &aot, &err) == FL_OK);
    CHECK(count_objects(fdir, so, sizeof so) == 1);
    free(wasm);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

static void test_upload_rejected_at_codegen_stores_nothing(void)
{
    char dir[] = "/tmp/faaslet-test-store-XXXXXX", path[512];
    CHECK(mkdtemp(dir) != NULL);
    size_t len;
    uint8_t *wasm = load("hello", &len);
    struct fl_error err;
    CHECK(faaslet_store_upload_opts(dir, "u", "old", wasm, len, &no_codegen, &err) == FL_OK);
    /* a linker that fails: the module is valid, its code cannot be made */
    setenv("FAASLET_LLD", "/bin/false", 1);
    struct faaslet_upload_options aot = {.tier = FAASLET_TIER_AOT};
    CHECK(faaslet_store_upload_opts(dir, "v", "hello", wasm, len, &aot, &err) != FL_OK);
    CHECK(strstr(err.msg, "code generation failed") != NULL);
    snprintf(path, sizeof path, "%s/v", dir);
    CHECK(access(path, F_OK) != 0);
    /* an existing function keeps its module when a new upload fails */
    uint8_t junk_wasm[] = {0, 'a', 's', 'm', 1, 0, 0, 0};
    CHECK(faaslet_store_upload_opts(dir, "u", "old", junk_wasm, sizeof junk_wasm, &aot, &err) !=
          FL_OK);
    unsetenv("FAASLET_LLD");
    uint8_t *back;
    size_t back_len;
    CHECK(faaslet_store_read(dir, "u", "old", &back, &back_len, &err) == FL_OK &&
          back_len == len);
    free(back);
    free(wasm);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

/* Overwrites the middle of path with garbage (same size). */
static bool tamper(const char *path)
{
    struct stat st;
    int fd = open(path, O_WRONLY);
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0)
            close(fd);
        return false;
    }
    uint8_t junk[4096];
    memset(junk, 0xcc, sizeof junk);
    off_t at = st.st_size / 2 > (off_t)sizeof junk ? st.st_size / 2 : 0;
    size_t n = (size_t)(st.st_size - at) < sizeof junk ? (size_t)(st.st_size - at) : sizeof junk;
    bool ok = pwrite(fd, junk, n, at) == (ssize_t)n;
    close(fd);
    return ok;
}

static void test_tampered_object_is_never_run(void)
{
    char dir[] = "/tmp/faaslet-test-store-XXXXXX", fdir[512], so[600];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(fdir, sizeof fdir, "%s/u/hello", dir);
    size_t len;
    uint8_t *wasm = load("hello", &len);
    struct fl_error err;
    struct faaslet_upload_options aot = {.tier = FAASLET_TIER_AOT};
    CHECK(faaslet_store_upload_opts(dir, "u", "hello", wasm, len, &aot, &err) == FL_OK);
    free(wasm);
    CHECK(count_objects(fdir, so, sizeof so) == 1);
    /* tampered, no compiler: AUTO falls back to the interpreter */
    CHECK(tamper(so));
    setenv("FAASLET_LLD", "/bin/false", 1);
    struct faaslet_proto *p = stored_proto(dir, "hello", FAASLET_TIER_AUTO, &err);
    CHECK(p && !strcmp(faaslet_proto_tier_name(p), "interp"));
    struct faaslet *f = p ? faaslet_create(p, &err) : NULL;
    CHECK(f && run(f, -1, NULL, "hello", 0));
    faaslet_destroy(f);
    faaslet_proto_destroy(p);
    /* ... and AOT refuses */
    p = stored_proto(dir, "hello", FAASLET_TIER_AOT, &err);
    CHECK(p == NULL && strstr(err.msg, "no compiled code"));
    faaslet_proto_destroy(p);
    unsetenv("FAASLET_LLD");
    /* with a compiler: generated again, then run */
    p = stored_proto(dir, "hello", FAASLET_TIER_AOT, &err);
    CHECK(p && !strcmp(faaslet_proto_tier_name(p), "aot"));
    f = p ? faaslet_create(p, &err) : NULL;
    CHECK(f && run(f, -1, NULL, "hello", 0));
    faaslet_destroy(f);
    faaslet_proto_destroy(p);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

static const struct {
    const char *name;
    void (*fn)(void);
} tests[] = {
#define T(f) {#f, f}
    T(test_names_are_checked),
    T(test_upload_stores_valid_and_rejects_invalid),
    T(test_reset_restores_memory_and_globals),
    T(test_memory_grown_by_a_call_is_dropped_by_reset),
    T(test_zygote_runs_once_before_snapshot),
    T(test_plain_wasi_command_skips_init),
    T(test_bad_pointer_traps_the_call),
    T(test_invalid_module_is_rejected_by_proto),
    T(test_upload_generates_code_and_faaslets_run_it),
    T(test_upload_rejected_at_codegen_stores_nothing),
    T(test_tampered_object_is_never_run),
#undef T
};

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_faaslet FUNCS_DIR PLAIN_WASM [TEST [interp|aot AOT_DIR]]\n");
        return 2;
    }
    funcs_dir = argv[1];
    plain_wasm = argv[2];
    if (argc > 4 && !strcmp(argv[4], "aot")) {
        tier = FAASLET_TIER_AOT;
        aot_dir = argc > 5 ? argv[5] : NULL;
    }
    int ran = 0;
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        if (argc > 3 && strcmp(argv[3], tests[i].name) != 0)
            continue;
        int before = failures;
        tests[i].fn();
        printf("%s %s\n", failures == before ? "ok  " : "FAIL", tests[i].name);
        ran++;
    }
    if (!ran) {
        fprintf(stderr, "no test named %s\n", argc > 3 ? argv[3] : "?");
        return 2;
    }
    return failures ? 1 : 0;
}
