/* bench_faaslet.c: how fast Faaslets start and reset and how many fit:
 * proto-faaslet creation (load + init + snapshot), restore of a new Faaslet
 * (into never-used and into recycled memory), reset after a call, a whole
 * call, the chained call + await round trip (trivial callee), resident
 * memory and kernel mappings per idle Faaslet, and Faaslets concurrently
 * blocked in a guest sleep.
 * usage: bench_faaslet GUEST_FUNCS_DIR BENCH_FUNCS_DIR [SLEEPERS]; prints a
 * markdown table. */
#define _GNU_SOURCE
#include "exec/exec.h"
#include "faaslet/faaslet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, res = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &size, &res) != 2)
            res = 0;
        fclose(f);
    }
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static long map_count(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    long n = 0;
    int c;
    while (f && (c = fgetc(f)) != EOF)
        n += c == '\n';
    if (f)
        fclose(f);
    return n;
}

static long proc_long(const char *path)
{
    FILE *f = fopen(path, "r");
    long v = -1;
    if (f) {
        if (fscanf(f, "%ld", &v) != 1)
            v = -1;
        fclose(f);
    }
    return v;
}

static uint8_t *load(const char *dir, const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.wasm", dir, name);
    uint8_t *w;
    struct fl_error err;
    if (faaslet_read_file(path, &w, len, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        exit(1);
    }
    return w;
}

static void row(const char *what, double value, const char *unit, const char *goal,
                const char *faasm)
{
    printf("| %s | %.2f %s | %s | %s |\n", what, value, unit, goal, faasm);
}

/* Runs user/function with input to completion; returns its wall time in us. */
static double run_call(struct exec *e, const char *function, const char *input)
{
    struct fl_error err;
    struct exec_msg m;
    struct exec_request req = {.user = "b", .function = function, .func_ptr = -1,
                               .input = (const uint8_t *)input, .input_len = strlen(input)};
    double a = now_us();
    uint32_t id = exec_submit(e, &req, &err);
    if (!id || exec_await(e, id, -1, &m, &err) != FL_OK) {
        fprintf(stderr, "%s: %s\n", function, err.msg);
        exit(1);
    }
    double t = now_us() - a;
    if (m.return_value != 0) {
        fprintf(stderr, "%s(%s) failed: %.*s\n", function, input, (int)m.output_len,
                (const char *)m.output);
        exit(1);
    }
    exec_msg_fini(&m);
    exec_release(e, id);
    return t;
}

/* label + " [tag]" into buf (label alone without a tag). */
static const char *tagged(char *buf, size_t n, const char *label, const char *tag)
{
    if (!tag)
        return label;
    snprintf(buf, n, "%s [%s]", label, tag);
    return buf;
}

/* Chain round-trip rows on executor e; tag marks the rows. */
static int chain_rows(struct exec *e, const char *tag)
{
    char label[200];
    /* chain round trip with a trivial callee: (K chains - 0 chains) / K,
     * best of 5 rounds, warm Faaslets */
    enum { K = 2000 };
    double best = 1e30;
    for (int round = 0; round < 5; round++) {
        double t_k = run_call(e, "chain_trivial", "2000");
        double t_0 = run_call(e, "chain_trivial", "0");
        double per = (t_k - t_0) / K;
        best = per < best ? per : best;
    }
    row(tagged(label, sizeof label, "chained call + await round trip (trivial callee, warm, best of 5)", tag), best, "us",
        "<= 20 us", "-");
    best = 1e30;
    for (int round = 0; round < 3; round++) {
        double per = (run_call(e, "chain_nested", "200") - run_call(e, "chain_nested", "0")) / 200;
        best = per < best ? per : best;
    }
    row(tagged(label, sizeof label, "same, chain_nested (per level: snprintf/strtol in the guest, nested awaits)", tag), best, "us",
        "-", "-");

    return best < 1e30 ? 0 : 1;
}

/* Proto-faaslet, restore, reset and call rows for counter.wasm on tier
 * (aot: compiled objects kept in aot_dir); tag marks the rows. */
static int faaslet_rows(const char *guest, enum faaslet_tier tier, const char *aot_dir,
                        const char *tag)
{
    struct fl_error err;
    char label[200];
    size_t len;
    uint8_t *wasm = load(guest, "counter", &len);
    struct faaslet_config cfg = {.stack_cells = 8192, .tier = tier, .aot_dir = aot_dir};
    if (aot_dir) /* code generated once; the rows measure cached loads */
        faaslet_proto_destroy(faaslet_proto_create("b", "counter", wasm, len, &cfg, &err));
    enum { PROTOS = 10 };
    double t0 = now_us();
    for (int i = 0; i < PROTOS; i++)
        faaslet_proto_destroy(faaslet_proto_create("b", "counter", wasm, len, &cfg, &err));
    row(tag ? "proto-faaslet: load + cached code + init + snapshot (counter.wasm) [aot]" : "proto-faaslet: load + compile + init + snapshot (counter.wasm)",
        (now_us() - t0) / PROTOS / 1000, "ms", "-", "init 5.2 ms");
    struct faaslet_proto *p = faaslet_proto_create("b", "counter", wasm, len, &cfg, &err);
    if (!p) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }

    enum { N = 2000, WARM = 200 };
    struct faaslet **fs = calloc(N, sizeof *fs);
    long rss0 = rss_kib(), maps0 = map_count();
    t0 = now_us();
    for (int i = 0; i < N; i++)
        if (!(fs[i] = faaslet_create(p, &err))) {
            fprintf(stderr, "faaslet %d: %s\n", i, err.msg);
            return 1;
        }
    double cold = (now_us() - t0) / N;
    long rss1 = rss_kib(), maps1 = map_count();
    for (int i = 0; i < WARM; i++)
        faaslet_destroy(fs[i]);
    t0 = now_us();
    for (int i = 0; i < WARM; i++)
        if (!(fs[i] = faaslet_create(p, &err))) {
            fprintf(stderr, "faaslet %d: %s\n", i, err.msg);
            return 1;
        }
    double warm = (now_us() - t0) / WARM;
    row(tagged(label, sizeof label, "restore: new Faaslet, recycled memory slot (pool of destroyed Faaslets)", tag), warm, "us",
        "<= 10 us", "0.5 ms");
    row(tagged(label, sizeof label, "restore: new Faaslet, never-used memory (first-touch page faults)", tag), cold, "us",
        "<= 10 us", "0.5 ms");
    row(tagged(label, sizeof label, "resident memory per idle Faaslet (host structures + its copied image pages)", tag),
        (double)(rss1 - rss0) / N, "KiB", "<= 32 KiB", "200 KB / 90 KB");
    row(tagged(label, sizeof label, "kernel mappings per idle Faaslet (guarded 8 GiB slots)", tag), (double)(maps1 - maps0) / N,
        "", "-", "-");

    /* reset after a call dirtied the Faaslet (as a call would: a few pages
     * of data, stack and heap written) */
    struct faaslet_call c = {.user = "b", .func_ptr = -1};
    enum { CALLS = 5000, DIRTY = 16 };
    t0 = now_us();
    for (int i = 0; i < CALLS; i++) {
        faaslet_run(fs[0], &c, &err);
        faaslet_call_fini(&c);
    }
    double call_us = (now_us() - t0) / CALLS;
    struct runtime_memory *mem = faaslet_memory(fs[0]);
    uint64_t size = atomic_load(&mem->size);
    double reset_total = 0;
    for (int i = 0; i < CALLS; i++) {
        for (int k = 0; k < DIRTY; k++)
            mem->base[(size / DIRTY) * (uint64_t)k + (uint64_t)i % 4096] = (uint8_t)(i | 1);
        double a = now_us();
        if (faaslet_reset(fs[0], &err)) {
            fprintf(stderr, "reset: %s\n", err.msg);
            return 1;
        }
        reset_total += now_us() - a;
    }
    row(tagged(label, sizeof label, "reset to the snapshot after a call wrote 16 pages (memory, globals, tables, WASI)", tag),
        reset_total / CALLS, "us", "<= 10 us", "-");
    row(tagged(label, sizeof label, "whole call of counter.wasm (run main + reset), one thread", tag), call_us, "us", "-", "-");
    for (int i = 0; i < N; i++)
        faaslet_destroy(fs[i]);
    free(fs);
    faaslet_proto_destroy(p);
    free(wasm);
    return 0;
}


int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_faaslet GUEST_FUNCS_DIR BENCH_FUNCS_DIR [SLEEPERS]\n");
        return 2;
    }
    const char *guest = argv[1], *benchf = argv[2];
    long sleepers = argc > 3 ? atol(argv[3]) : 20000;
    struct fl_error err;
    size_t len;
    printf("| measure | faaslet | goal | Faasm (paper) |\n|---|---|---|---|\n");
    if (faaslet_rows(guest, FAASLET_TIER_INTERP, NULL, NULL))
        return 1;
    char cache[] = "/tmp/faaslet-bench-aot-XXXXXX";
    if (!mkdtemp(cache))
        return 1;
    int rc = faaslet_rows(guest, FAASLET_TIER_AOT, cache, "aot");
    char rm[128];
    snprintf(rm, sizeof rm, "rm -rf %s", cache);
    if (system(rm) != 0 || rc)
        return 1;

    /* executor: a store with chain_trivial, chain_nested and sleeper */
    char store[] = "/tmp/faaslet-bench-XXXXXX";
    if (!mkdtemp(store))
        return 1;
    const char *names[][2] = {{guest, "chain_nested"}, {benchf, "chain_trivial"},
                              {benchf, "sleeper"}};
    for (int i = 0; i < 3; i++) {
        uint8_t *w = load(names[i][0], names[i][1], &len);
        /* code for the executor's bounds-checked Faaslets */
        struct faaslet_upload_options uo = {.tier = FAASLET_TIER_AOT, .bounds_checks = true};
        if (faaslet_store_upload_opts(store, "b", names[i][1], w, len, &uo, &err))
            fprintf(stderr, "upload %s: %s\n", names[i][1], err.msg);
        free(w);
    }
    struct exec_config ec = {.store_dir = store, .workers = 2, .max_chain_depth = 1000000,
                             .idle_faaslets = 1000, .fiber_stack = 64u << 10,
                             .faaslet = {.max_memory = 2u << 20, .bounds_checked = true,
                                         .stack_cells = 4096, .tier = FAASLET_TIER_INTERP}};
    struct exec *e = exec_create(&ec, &err);
    if (!e) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    if (chain_rows(e, NULL))
        return 1;
    /* the same on the compiled tier (objects generated at upload) */
    ec.faaslet.tier = FAASLET_TIER_AOT;
    struct exec *ea = exec_create(&ec, &err);
    if (!ea || chain_rows(ea, "aot")) {
        fprintf(stderr, "aot executor: %s\n", ea ? "chain failed" : err.msg);
        return 1;
    }
    exec_destroy(ea);

    /* Faaslets blocked in a guest sleep at once: SLEEPERS calls of sleeper
     * with a sleep far longer than the run; abandoned by exec_destroy. */
    long r0 = rss_kib(), m0 = map_count();
    struct exec_request req = {.user = "b", .function = "sleeper", .func_ptr = -1,
                               .input = (const uint8_t *)"3600000", .input_len = 7};
    double a = now_us();
    for (long i = 0; i < sleepers; i++)
        if (!exec_submit(e, &req, &err)) {
            fprintf(stderr, "submit %ld: %s\n", i, err.msg);
            break;
        }
    struct exec_stats st = {0};
    uint32_t last = 0;
    double last_change = now_us();
    for (;;) {
        usleep(100000);
        exec_stats_get(e, &st);
        if (st.calls_blocked != last) {
            last = st.calls_blocked;
            last_change = now_us();
        }
        if (st.calls_blocked >= sleepers || now_us() - last_change > 10e6)
            break;
    }
    double took = (now_us() - a) / 1e6;
    long r1 = rss_kib(), m1 = map_count();
    printf("| Faaslets blocked in a guest sleep at once (of %ld submitted) | %u (%.1f s to get "
           "there; %.1f KiB RSS and %.4f kernel mappings each; %ld maps in all) | >= 200K | "
           "~70K / >100K |\n",
           sleepers, st.calls_blocked, took,
           st.calls_blocked ? (double)(r1 - r0) / st.calls_blocked : 0.0,
           st.calls_blocked ? (double)(m1 - m0) / st.calls_blocked : 0.0, m1);
    printf("| (kernel limits here: vm.max_map_count %ld, kernel.pid_max %ld, workers 2) | | | |\n",
           proc_long("/proc/sys/vm/max_map_count"), proc_long("/proc/sys/kernel/pid_max"));
    exec_destroy(e);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", store);
    if (system(cmd) != 0)
        return 1;
    printf("\ncommand: build/bin/bench_faaslet build/tests/guest/funcs build/bench/faaslet/funcs "
           "%ld\n",
           sleepers);
    return 0;
}
