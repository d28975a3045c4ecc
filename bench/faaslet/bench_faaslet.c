/* bench_faaslet.c: how fast Faaslets start and reset and how many fit:
 * proto-faaslet creation (load + init + snapshot), restore of a new Faaslet,
 * reset after a call, a whole call, a chained call + await round trip,
 * resident memory per idle Faaslet, and Faaslets concurrently blocked in
 * await (a chain N deep: every level waits for the next).
 * usage: bench_faaslet FUNCS_DIR [MAX_BLOCKED]; prints a markdown table. */
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

static const char *funcs;

static uint8_t *load(const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.wasm", funcs, name);
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

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_faaslet FUNCS_DIR [MAX_BLOCKED]\n");
        return 2;
    }
    funcs = argv[1];
    long max_blocked = argc > 2 ? atol(argv[2]) : 20000;
    struct fl_error err;
    size_t len;
    uint8_t *wasm = load("counter", &len);
    struct faaslet_config cfg = {.stack_cells = 8192};

    printf("| measure | faaslet | goal | Faasm (paper) |\n|---|---|---|---|\n");
    enum { PROTOS = 10 };
    double t0 = now_us();
    for (int i = 0; i < PROTOS; i++)
        faaslet_proto_destroy(faaslet_proto_create("b", "counter", wasm, len, &cfg, &err));
    row("proto-faaslet: load + compile + init + snapshot (counter.wasm)",
        (now_us() - t0) / PROTOS / 1000, "ms", "-", "init 5.2 ms");
    struct faaslet_proto *p = faaslet_proto_create("b", "counter", wasm, len, &cfg, &err);
    if (!p) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }

    enum { N = 2000 };
    struct faaslet **fs = calloc(N, sizeof *fs);
    long rss0 = rss_kib(), maps0 = map_count();
    t0 = now_us();
    for (int i = 0; i < N; i++)
        if (!(fs[i] = faaslet_create(p, &err))) {
            fprintf(stderr, "faaslet %d: %s\n", i, err.msg);
            return 1;
        }
    double restore = (now_us() - t0) / N;
    long rss1 = rss_kib(), maps1 = map_count();
    row("restore: new Faaslet from the snapshot (instance + WASI + COW map)", restore, "us",
        "<= 10 us", "0.5 ms");
    row("resident memory per idle Faaslet (host structures; no wasm page touched)",
        (double)(rss1 - rss0) / N, "KiB", "<= 32 KiB", "200 KB / 90 KB");
    row("memory mappings per idle Faaslet", (double)(maps1 - maps0) / N, "", "-", "-");

    /* reset alone, after a call dirtied the Faaslet */
    struct faaslet_call c = {.user = "b", .func_ptr = -1};
    enum { CALLS = 5000 };
    double reset_total = 0;
    t0 = now_us();
    for (int i = 0; i < CALLS; i++) {
        faaslet_run(fs[0], &c, &err);
        faaslet_call_fini(&c);
    }
    double call_us = (now_us() - t0) / CALLS;
    for (int i = 0; i < CALLS; i++) {
        double a = now_us();
        faaslet_reset(fs[0], &err);
        reset_total += now_us() - a;
    }
    row("reset to the snapshot (memory re-map, globals, tables, WASI)", reset_total / CALLS, "us",
        "<= 10 us", "-");
    row("whole call of counter.wasm (run main + reset), one thread", call_us, "us", "-", "-");
    for (int i = 0; i < N; i++)
        faaslet_destroy(fs[i]);
    free(fs);
    faaslet_proto_destroy(p);
    free(wasm);

    /* executor: a store with chain_nested */
    char store[] = "/tmp/faaslet-bench-XXXXXX";
    if (!mkdtemp(store))
        return 1;
    const char *names[] = {"chain_nested", "hello"};
    for (int i = 0; i < 2; i++) {
        uint8_t *w = load(names[i], &len);
        faaslet_store_upload(store, "b", names[i], w, len, &err);
        free(w);
    }
    struct exec_config ec = {.store_dir = store, .workers = 2, .max_chain_depth = 1000000,
                             .idle_faaslets = 100000, .fiber_stack = 64u << 10,
                             .faaslet = {.max_memory = 2u << 20, .bounds_checked = true,
                                         .stack_cells = 4096}};
    struct exec *e = exec_create(&ec, &err);
    if (!e) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    struct exec_msg m;
    /* chain round trip: depth D minus depth 0, per level (warm Faaslets) */
    double per_level = 0;
    for (int round = 0; round < 3; round++) {
        int depths[2] = {0, 200};
        double t[2];
        for (int k = 0; k < 2; k++) {
            char in[16];
            snprintf(in, sizeof in, "%d", depths[k]);
            struct exec_request req = {.user = "b", .function = "chain_nested", .func_ptr = -1,
                                       .input = (const uint8_t *)in, .input_len = strlen(in)};
            double a = now_us();
            uint32_t id = exec_submit(e, &req, &err);
            exec_await(e, id, -1, &m, &err);
            t[k] = now_us() - a;
            exec_msg_fini(&m);
            exec_release(e, id);
        }
        per_level = (t[1] - t[0]) / depths[1];
    }
    row("chained call + await round trip (chain_nested, per level, warm)", per_level, "us",
        "<= 20 us", "-");

    /* concurrently blocked: one chain max_blocked deep */
    for (long n = 5000; n <= max_blocked; n *= 2) {
        char in[24];
        snprintf(in, sizeof in, "%ld", n);
        struct exec_request req = {.user = "b", .function = "chain_nested", .func_ptr = -1,
                                   .input = (const uint8_t *)in, .input_len = strlen(in)};
        long r0 = rss_kib();
        double a = now_us();
        uint32_t id = exec_submit(e, &req, &err);
        long peak_blocked = 0, peak_maps = 0, peak_rss = 0;
        while (exec_await(e, id, 50, &m, &err) == FL_ERR_LIMIT) {
            struct exec_stats st;
            exec_stats_get(e, &st);
            if (st.calls_blocked > peak_blocked) {
                peak_blocked = st.calls_blocked;
                peak_maps = map_count();
                peak_rss = rss_kib();
            }
        }
        bool ok = m.return_value == 0;
        printf("| chain %ld deep: peak Faaslets blocked in await at once | %ld (%s, %.1f s, "
               "%ld maps, %.1f KiB RSS each) | >= 200K | ~70K / >100K |\n",
               n, peak_blocked, ok ? "ok" : "failed", (now_us() - a) / 1e6, peak_maps,
               peak_blocked ? (double)(peak_rss - r0) / peak_blocked : 0.0);
        if (!ok)
            printf("|  failure | %.*s | | |\n", (int)(m.output_len > 200 ? 200 : m.output_len),
                   (const char *)m.output);
        exec_msg_fini(&m);
        exec_release(e, id);
        if (!ok)
            break;
    }
    exec_destroy(e);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", store);
    if (system(cmd) != 0)
        return 1;
    printf("\ncommand: build-faaslet/bin/bench_faaslet build-faaslet/tests/guest/funcs %ld\n",
           max_blocked);
    return 0;
}
