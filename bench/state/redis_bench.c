/* redis_bench.c: push/pull throughput of the state store on the Redis global
 * tier against redis-benchmark's raw SET/GET of the same value size on the
 * same Redis, as a ratio. Starts its own redis-server on a free loopback port
 * (or uses --port P), prints one markdown table and the command. */
#include "state/state.h"
#include "state/state_redis.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct size_case {
    const char *label;
    uint64_t bytes;
    int rounds;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) ||
        getsockname(fd, (struct sockaddr *)&a, &l))
        return -1;
    close(fd);
    return ntohs(a.sin_port);
}

static pid_t start_redis(const char *server, int port)
{
    char p[16];
    snprintf(p, sizeof p, "%d", port);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, 1);
        execlp(server, server, "--port", p, "--bind", "127.0.0.1", "--save", "", "--appendonly",
               "no", "--loglevel", "warning", (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* The store on Redis, retried while the server starts. */
static struct state_store *open_store(int port)
{
    struct fl_error err;
    for (int i = 0; i < 300; i++) {
        struct state_global *g = state_global_redis_create("127.0.0.1", port, &err);
        if (g) {
            struct state_store_options o = {.global = g};
            return state_store_create(&o, &err);
        }
        usleep(10000);
    }
    fprintf(stderr, "bench_state_redis: %s\n", err.msg);
    return NULL;
}

/* redis-benchmark's requests per second for SET and GET of `bytes`-byte values. */
static int raw_rps(const char *tool, int port, uint64_t bytes, int rounds, double *set_rps,
                   double *get_rps)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "%s -h 127.0.0.1 -p %d -t set,get -d %llu -n %d -c 1 --csv 2>/dev/null", tool, port,
             (unsigned long long)bytes, rounds);
    FILE *f = popen(cmd, "r");
    if (!f)
        return -1;
    char line[512];
    *set_rps = *get_rps = 0;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "\"SET\",\"", 7))
            *set_rps = atof(line + 7);
        else if (!strncmp(line, "\"GET\",\"", 7))
            *get_rps = atof(line + 7);
    }
    return pclose(f) == 0 && *set_rps > 0 && *get_rps > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    const char *server = "redis-server", *tool = "redis-benchmark";
    int port = 0;
    bool quick = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick"))
            quick = true;
        else if (!strcmp(argv[i], "--port") && i + 1 < argc)
            port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--redis-server") && i + 1 < argc)
            server = argv[++i];
        else if (!strcmp(argv[i], "--redis-benchmark") && i + 1 < argc)
            tool = argv[++i];
        else {
            fprintf(stderr, "usage: bench_state_redis [--quick] [--port P] [--redis-server PATH] "
                            "[--redis-benchmark PATH]\n");
            return 2;
        }
    }
    pid_t pid = -1;
    if (!port) {
        port = free_port();
        pid = start_redis(server, port);
    }
    struct state_store *store = open_store(port);
    if (!store)
        goto fail;
    struct size_case cases[] = {{"1 MiB", 1ull << 20, quick ? 50 : 200},
                                {"64 MiB", 64ull << 20, quick ? 3 : 10}};
    double push[2], pull[2], partial[2], rset[2], rget[2];
    struct fl_error err;
    for (int c = 0; c < 2; c++) {
        uint64_t n = cases[c].bytes;
        struct state_value *v;
        char key[32];
        snprintf(key, sizeof key, "bench%d", c);
        if (state_value_open(store, "bench", key, n, 0, &v, &err))
            goto fail_err;
        memset(state_value_data(v), 0x5a, n);
        if (state_value_push(v, &err)) /* warm-up: the key exists, pages touched */
            goto fail_err;
        double mib = (double)n * cases[c].rounds / (1 << 20);
        double t = now_s();
        for (int i = 0; i < cases[c].rounds; i++) {
            if (state_value_push(v, &err))
                goto fail_err;
        }
        push[c] = mib / (now_s() - t);
        t = now_s();
        for (int i = 0; i < cases[c].rounds; i++) {
            if (state_value_pull(v, &err))
                goto fail_err;
        }
        pull[c] = mib / (now_s() - t);
        t = now_s();
        for (int i = 0; i < cases[c].rounds; i++) {
            if (state_value_flag_dirty(v, 0, n, &err) || state_value_push_partial(v, &err))
                goto fail_err;
        }
        partial[c] = mib / (now_s() - t);
        double s_rps, g_rps;
        if (raw_rps(tool, port, n, cases[c].rounds, &s_rps, &g_rps)) {
            fprintf(stderr, "bench_state_redis: %s failed for %s values\n", tool, cases[c].label);
            goto fail;
        }
        rset[c] = s_rps * (double)n / (1 << 20);
        rget[c] = g_rps * (double)n / (1 << 20);
    }
    printf("| what (MiB/s, one client, loopback) | 1 MiB | 64 MiB |\n|---|---|---|\n");
    printf("| state push whole value (SET) | %.0f | %.0f |\n", push[0], push[1]);
    printf("| redis-benchmark SET -d size | %.0f | %.0f |\n", rset[0], rset[1]);
    printf("| push / raw SET | %.2f | %.2f |\n", push[0] / rset[0], push[1] / rset[1]);
    printf("| state pull whole value (MULTI + GETRANGE) | %.0f | %.0f |\n", pull[0], pull[1]);
    printf("| redis-benchmark GET | %.0f | %.0f |\n", rget[0], rget[1]);
    printf("| pull / raw GET | %.2f | %.2f |\n", pull[0] / rget[0], pull[1] / rget[1]);
    printf("| state push, every 64 KiB chunk dirty (MULTI + SETRANGEs) | %.0f | %.0f |\n",
           partial[0], partial[1]);
    printf("| all-dirty partial push / raw SET | %.2f | %.2f |\n", partial[0] / rset[0],
           partial[1] / rset[1]);
    printf("\nRounds: %d (1 MiB), %d (64 MiB); redis-benchmark -c 1 -n <rounds> -d <bytes>.\n",
           cases[0].rounds, cases[1].rounds);
    printf("Reproduce: `build/bin/bench_state_redis%s`\n", quick ? " --quick" : "");
    state_store_destroy(store);
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
    return 0;
fail_err:
    fprintf(stderr, "bench_state_redis: %s\n", err.msg);
fail:
    if (store)
        state_store_destroy(store);
    if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    return 1;
}
