/* bench_calls.c: the executor alone, no HTTP: keeps N calls of a function
 * in flight (each finished call's on_finish submits the next) for a few
 * seconds and prints calls/s, so bench/http/run can show how much of a sync
 * HTTP call is the server and how much the call itself.
 *   bench_calls STORE USER FUNCTION [IN_FLIGHT] [SECONDS] [WORKERS] */
#include "exec/exec.h"
#include "state/state.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

struct bench {
    struct exec *exec;
    struct exec_request req;
    atomic_ullong done;
    atomic_bool stop;
    atomic_uint outstanding;
};

static void finished(void *data, uint32_t id)
{
    struct bench *b = data;
    exec_release(b->exec, id);
    atomic_fetch_add(&b->done, 1);
    if (!atomic_load(&b->stop)) {
        struct fl_error err;
        if (exec_submit(b->exec, &b->req, &err))
            return;
    }
    atomic_fetch_sub(&b->outstanding, 1);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_calls STORE USER FUNCTION [IN_FLIGHT] [SECONDS] [WORKERS]\n");
        return 2;
    }
    unsigned in_flight = argc > 4 ? (unsigned)atoi(argv[4]) : 64;
    double seconds = argc > 5 ? atof(argv[5]) : 3;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned workers = argc > 6 ? (unsigned)atoi(argv[6]) : (unsigned)(cpus > 0 ? cpus : 2);
    struct fl_error err;
    struct state_store *state = state_store_create(NULL, &err);
    struct exec_config cfg = {.store_dir = argv[1], .workers = workers, .timeout_ms = 60000,
                              .faaslet = {.state = state}};
    static struct bench b;
    b.exec = exec_create(&cfg, &err);
    if (!state || !b.exec) {
        fprintf(stderr, "bench_calls: %s\n", err.msg);
        return 1;
    }
    b.req = (struct exec_request){.user = argv[2], .function = argv[3], .func_ptr = -1,
                                  .on_finish = finished, .on_finish_data = &b};
    /* warm up: one call loads the proto-faaslet */
    struct exec_request one = b.req;
    one.on_finish = NULL;
    struct exec_msg msg;
    uint32_t id = exec_submit(b.exec, &one, &err);
    if (!id || exec_await(b.exec, id, -1, &msg, &err) || msg.status != EXEC_DONE) {
        fprintf(stderr, "bench_calls: the call failed: %s\n", id ? err.msg : "submit");
        return 1;
    }
    exec_msg_fini(&msg);
    exec_release(b.exec, id);
    double t0 = now_s();
    atomic_store(&b.outstanding, in_flight);
    for (unsigned i = 0; i < in_flight; i++)
        if (!exec_submit(b.exec, &b.req, &err))
            atomic_fetch_sub(&b.outstanding, 1);
    while (now_s() - t0 < seconds)
        usleep(10000);
    unsigned long long n = atomic_load(&b.done);
    double t = now_s() - t0;
    atomic_store(&b.stop, true);
    while (atomic_load(&b.outstanding))
        usleep(1000);
    printf("%.0f calls/s (%u in flight, %u workers, %llu calls in %.2f s)\n", (double)n / t,
           in_flight, workers, n, t);
    exec_destroy(b.exec);
    state_store_destroy(state);
    return 0;
}
