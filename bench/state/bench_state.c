/* bench_state.c: the state store's local and global tiers. Compares getting
 * a value into a Faaslet's linear memory by pointer (grow + map the shared
 * pages, what __faasm_read_state_ptr does) with a copying read (what
 * __faasm_read_state does), and measures push/pull throughput against the
 * in-process global tier, for 1 MiB and 64 MiB values. Prints a markdown table.
 * Usage: bench_state [--quick] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <time.h>

#include "runtime/runtime.h"
#include "state/state.h"

/* CPU time of this thread (user + kernel, page faults included): everything
 * measured runs on it, and it stays meaningful on a loaded shared machine
 * where wall time mostly measures waiting for a core. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, const struct fl_error *err)
{
    fprintf(stderr, "bench_state: %s: %s\n", what, err ? err->msg : "failed");
    exit(1);
}

/* Sums the value as 64-bit words, so that every page is really read. */
static uint64_t scan(const uint8_t *p, uint64_t n)
{
    uint64_t s = 0;
    for (uint64_t i = 0; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        s += w;
    }
    return s;
}

struct result {
    double ptr_access_us, copy_access_us;  /* value usable in linear memory */
    double ptr_scan_us, copy_scan_us;      /* ... and read once in full */
    double push_mbs, pull_mbs, partial_us;
};

static volatile uint64_t sink;

static void run(uint64_t size, int reps, struct result *r)
{
    struct fl_error err;
    struct state_store *s = state_store_create(NULL, &err);
    struct runtime_store *rs = runtime_store_create();
    if (!s || !rs)
        die("setup", &err);
    struct state_value *v;
    if (state_value_open(s, "bench", "value", size, 0, &v, &err))
        die("open", &err);
    uint8_t *src = malloc(size);
    for (uint64_t i = 0; i < size; i++)
        src[i] = (uint8_t)(i * 131 + 7);
    if (state_value_write(v, 0, src, size, &err) || state_value_push(v, &err))
        die("write", &err);
    uint64_t pages = (size + WASM_PAGE_SIZE - 1) / WASM_PAGE_SIZE;
    struct wasm_limits lim = {.min = 1};
    double ptr_a = 0, ptr_s = 0, copy_a = 0, copy_s = 0;
    for (int i = 0; i < reps; i++) {
        /* A fresh memory per round, as a Faaslet after its reset. */
        struct runtime_memory *m = runtime_memory_create(rs, &lim, &err);
        if (!m)
            die("memory", &err);
        double t0 = now_s();
        int64_t old = runtime_memory_grow(m, pages);
        if (old < 0 || state_map_into(v, m->base + (uint64_t)old * WASM_PAGE_SIZE,
                                      pages * WASM_PAGE_SIZE, &err))
            die("map", &err);
        double t1 = now_s();
        sink += scan(m->base + (uint64_t)old * WASM_PAGE_SIZE, size);
        double t2 = now_s();
        ptr_a += t1 - t0;
        ptr_s += t2 - t0;

        struct runtime_memory *m2 = runtime_memory_create(rs, &lim, &err);
        if (!m2)
            die("memory", &err);
        t0 = now_s();
        old = runtime_memory_grow(m2, pages); /* the guest's buffer (its malloc) */
        if (old < 0 || state_value_read(v, 0, m2->base + (uint64_t)old * WASM_PAGE_SIZE, size,
                                        &err))
            die("read", &err);
        t1 = now_s();
        sink += scan(m2->base + (uint64_t)old * WASM_PAGE_SIZE, size);
        t2 = now_s();
        copy_a += t1 - t0;
        copy_s += t2 - t0;
        /* Memories live until the store goes; drop their pages now. */
        state_unmap_from(m->base, m->reserved, false, NULL);
        state_unmap_from(m2->base, m2->reserved, false, NULL);
    }
    r->ptr_access_us = ptr_a / reps * 1e6;
    r->ptr_scan_us = ptr_s / reps * 1e6;
    r->copy_access_us = copy_a / reps * 1e6;
    r->copy_scan_us = copy_s / reps * 1e6;

    double t0 = now_s();
    for (int i = 0; i < reps; i++) {
        if (state_value_flag_dirty(v, 0, size, &err) || state_value_push(v, &err))
            die("push", &err);
    }
    r->push_mbs = (double)size * reps / (now_s() - t0) / (1 << 20);
    t0 = now_s();
    for (int i = 0; i < reps; i++) {
        if (state_value_pull(v, &err))
            die("pull", &err);
    }
    r->pull_mbs = (double)size * reps / (now_s() - t0) / (1 << 20);
    t0 = now_s();
    for (int i = 0; i < reps; i++) {
        if (state_value_write(v, size / 2, src, 16, &err) || state_value_push_partial(v, &err))
            die("partial push", &err);
    }
    r->partial_us = (now_s() - t0) / reps * 1e6;
    free(src);
    runtime_store_destroy(rs);
    state_store_destroy(s);
}

int main(int argc, char **argv)
{
    bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    struct {
        const char *name;
        uint64_t size;
        int reps;
    } sizes[] = {{"1 MiB", 1u << 20, quick ? 20 : 200}, {"64 MiB", 64u << 20, quick ? 2 : 10}};
    struct result r[2];
    for (int i = 0; i < 2; i++)
        run(sizes[i].size, sizes[i].reps, &r[i]);

    time_t t = time(NULL);
    char date[64];
    strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime(&t));
    struct utsname u;
    uname(&u);
    printf("- Date: %s; machine: %s %s, %ld CPUs\n", date, u.sysname, u.release,
           sysconf(_SC_NPROCESSORS_ONLN));
    printf("- In-process global tier; thread CPU time, mean of %d (1 MiB) / %d (64 MiB) rounds, "
           "each on a fresh linear memory.\n\n",
           sizes[0].reps, sizes[1].reps);
    printf("| what | 1 MiB | 64 MiB |\n|---|---|---|\n");
    printf("| pointer read: grow + map shared pages (us) | %.1f | %.1f |\n", r[0].ptr_access_us,
           r[1].ptr_access_us);
    printf("| copying read: grow + copy into memory (us) | %.1f | %.1f |\n", r[0].copy_access_us,
           r[1].copy_access_us);
    printf("| access: copy / pointer | %.0fx | %.0fx |\n",
           r[0].copy_access_us / r[0].ptr_access_us, r[1].copy_access_us / r[1].ptr_access_us);
    printf("| pointer read + one full scan (us) | %.1f | %.1f |\n", r[0].ptr_scan_us,
           r[1].ptr_scan_us);
    printf("| copying read + one full scan (us) | %.1f | %.1f |\n", r[0].copy_scan_us,
           r[1].copy_scan_us);
    printf("| push whole value (MiB/s) | %.0f | %.0f |\n", r[0].push_mbs, r[1].push_mbs);
    printf("| pull whole value (MiB/s) | %.0f | %.0f |\n", r[0].pull_mbs, r[1].pull_mbs);
    printf("| partial push, one dirty 64 KiB chunk (us) | %.1f | %.1f |\n", r[0].partial_us,
           r[1].partial_us);
    printf("\nReproduce: `build/bin/bench_state%s`\n", quick ? " --quick" : "");
    return (int)(sink & 0); /* keeps the scans */
}
