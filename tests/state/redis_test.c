/* redis_test.c: the Redis global tier (src/state/global_redis.c) against a
 * real redis-server that each test starts on a free loopback port and stops.
 * Multi-process tests re-run this binary as a tiny state CLI ("cli PORT CMD
 * ..."), so two OS processes share state only through Redis. */
#include "state/state.h"
#include "state/state_redis.h"

#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);      \
            test_cleanup();                                                                \
            exit(1);                                                                       \
        }                                                                                  \
    } while (0)
#define CHECK_OK(call)                                                                     \
    do {                                                                                   \
        int rc_ = (call);                                                                  \
        if (rc_) {                                                                         \
            fprintf(stderr, "%s:%d: %s -> %d: %s\n", __FILE__, __LINE__, #call, rc_,       \
                    err.msg);                                                              \
            test_cleanup();                                                                \
            exit(1);                                                                       \
        }                                                                                  \
    } while (0)

/* The redis-server this test started (test-process state, one per test). */
static const char *redis_server = "redis-server";
static pid_t redis_pid = -1;
static int redis_port;
static char redis_dir[64];

static void test_cleanup(void)
{
    if (redis_pid > 0) {
        kill(redis_pid, SIGKILL);
        waitpid(redis_pid, NULL, 0);
        redis_pid = -1;
    }
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || getsockname(fd, (struct sockaddr *)&a, &l))
        return -1;
    close(fd);
    return ntohs(a.sin_port);
}

/* Starts redis-server on redis_port (no persistence) and waits until it answers. */
static void redis_start(void)
{
    if (!redis_dir[0]) {
        snprintf(redis_dir, sizeof redis_dir, "/tmp/fl-redis-test-XXXXXX");
        CHECK(mkdtemp(redis_dir));
    }
    char port[16];
    snprintf(port, sizeof port, "%d", redis_port);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a killed test */
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, 1); /* its start-up banner; warnings still reach stderr */
        execlp(redis_server, redis_server, "--port", port, "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--dir", redis_dir, "--loglevel", "warning", (char *)NULL);
        _exit(127);
    }
    redis_pid = pid;
    for (int i = 0; i < 500; i++) {
        struct timeval tv = {0, 200000};
        redisContext *c = redisConnectWithTimeout("127.0.0.1", redis_port, tv);
        if (c && !c->err) {
            redisReply *r = redisCommand(c, "PING");
            bool ok = r && r->type == REDIS_REPLY_STATUS;
            if (r)
                freeReplyObject(r);
            redisFree(c);
            if (ok)
                return;
        } else if (c) {
            redisFree(c);
        }
        usleep(10000);
    }
    fprintf(stderr, "redis-server did not start on port %d\n", redis_port);
    test_cleanup();
    exit(1);
}

static void redis_stop(int sig)
{
    kill(redis_pid, sig);
    waitpid(redis_pid, NULL, 0);
    redis_pid = -1;
}

/* A raw command on a fresh connection, for checks; caller frees. */
static redisReply *raw(const char *fmt, ...)
{
    redisContext *c = redisConnect("127.0.0.1", redis_port);
    CHECK(c && !c->err);
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    redisFree(c);
    CHECK(r);
    return r;
}

/* Calls of one command since the last CONFIG RESETSTAT (INFO commandstats). */
static long long command_calls(const char *name)
{
    redisReply *r = raw("INFO commandstats");
    CHECK(r->type == REDIS_REPLY_STRING || r->type == 5 /* verbatim */);
    char pat[64];
    snprintf(pat, sizeof pat, "cmdstat_%s:calls=", name);
    const char *p = strstr(r->str, pat);
    long long n = p ? atoll(p + strlen(pat)) : 0;
    freeReplyObject(r);
    return n;
}

static struct state_store *redis_store(uint64_t lease_ms)
{
    struct fl_error err;
    struct state_global *g = state_global_redis_create("127.0.0.1", redis_port, &err);
    if (!g)
        fprintf(stderr, "redis backend: %s\n", err.msg);
    CHECK(g);
    struct state_store_options o = {.global = g, .lock_lease_ms = lease_ms};
    struct state_store *s = state_store_create(&o, &err);
    CHECK(s);
    return s;
}

static uint8_t pattern(uint64_t seed, uint64_t i)
{
    return (uint8_t)((i * 131 + seed * 7 + (i >> 11)) & 0xff);
}

/* ---- The CLI run as separate processes ---- */

static int cli(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    redis_port = atoi(argv[2]);
    const char *cmd = argv[3];
    struct fl_error err = {0};
    if (!strcmp(cmd, "hold-lock") && argc == 7) { /* USER KEY LEASE_MS */
        struct state_store *s = redis_store(strtoull(argv[6], NULL, 10));
        uint64_t token;
        CHECK_OK(state_lock_global(s, argv[4], argv[5], 10000, &token, &err));
        printf("locked\n");
        fflush(stdout);
        sleep(60); /* killed with SIGKILL by the test */
        return 3;
    }
    struct state_store *s = redis_store(0);
    int status = 0;
    if (!strcmp(cmd, "push") && argc == 8) { /* USER KEY SIZE SEED */
        uint64_t size = strtoull(argv[6], NULL, 10), seed = strtoull(argv[7], NULL, 10);
        struct state_value *v;
        CHECK_OK(state_value_open(s, argv[4], argv[5], size, 0, &v, &err));
        uint8_t *d = state_value_data(v);
        for (uint64_t i = 0; i < size; i++)
            d[i] = pattern(seed, i);
        CHECK_OK(state_value_flag_dirty(v, 0, size, &err));
        CHECK_OK(state_value_push(v, &err));
    } else if (!strcmp(cmd, "pull-check") && argc == 8) {
        uint64_t size = strtoull(argv[6], NULL, 10), seed = strtoull(argv[7], NULL, 10);
        struct state_value *v;
        CHECK_OK(state_value_open(s, argv[4], argv[5], 1, STATE_OPEN_SIZE_FROM_GLOBAL, &v, &err));
        CHECK(state_value_size(v) == size);
        CHECK_OK(state_value_pull(v, &err));
        const uint8_t *d = state_value_data(v);
        for (uint64_t i = 0; i < size; i++)
            CHECK(d[i] == pattern(seed, i));
    } else if (!strcmp(cmd, "append") && argc == 7) { /* USER KEY N TAG */
        int n = atoi(argv[5]);
        for (int i = 0; i < n; i++) {
            char e[16];
            snprintf(e, sizeof e, "%c%05d", argv[6][0], i);
            CHECK_OK(state_append(s, argv[4], "list", (const uint8_t *)e, 6, &err));
        }
    } else if (!strcmp(cmd, "count") && argc == 7) { /* USER KEY N */
        struct state_value *v;
        CHECK_OK(state_value_open(s, argv[4], argv[5], 8, 0, &v, &err));
        int n = atoi(argv[6]);
        for (int i = 0; i < n; i++) {
            uint64_t token, x;
            CHECK_OK(state_lock_global(s, argv[4], argv[5], 30000, &token, &err));
            CHECK_OK(state_value_pull(v, &err));
            CHECK_OK(state_value_read(v, 0, (uint8_t *)&x, 8, &err));
            x++;
            CHECK_OK(state_value_write(v, 0, (const uint8_t *)&x, 8, &err));
            CHECK_OK(state_value_push(v, &err));
            CHECK_OK(state_unlock_global(s, argv[4], argv[5], token, &err));
        }
    } else if (!strcmp(cmd, "versions") && argc == 7) { /* USER KEY N: whole-value versions */
        const uint64_t size = 16 * STATE_CHUNK_SIZE;
        struct state_value *v;
        CHECK_OK(state_value_open(s, argv[4], argv[5], size, 0, &v, &err));
        int n = atoi(argv[6]);
        for (int i = 1; i <= n; i++) {
            memset(state_value_data(v), i & 0xff, size);
            CHECK_OK(state_value_flag_dirty(v, 0, size, &err));
            /* Alternate the two write paths: SET and MULTI of SETRANGEs. */
            CHECK_OK(i % 2 ? state_value_push(v, &err) : state_value_push_partial(v, &err));
        }
    } else {
        status = 2;
    }
    state_store_destroy(s);
    return status;
}

/* Starts this binary as "cli PORT args..."; stdout to *out_fd if non-NULL. */
static pid_t spawn(int *out_fd, const char *a0, const char *a1, const char *a2, const char *a3,
                   const char *a4)
{
    char port[16];
    snprintf(port, sizeof port, "%d", redis_port);
    int p[2] = {-1, -1};
    if (out_fd)
        CHECK(pipe(p) == 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (out_fd) {
            dup2(p[1], 1);
            close(p[0]);
            close(p[1]);
        }
        const char *args[] = {"test_redis_state", "cli", port, a0, a1, a2, a3, a4, NULL};
        execv("/proc/self/exe", (char **)args);
        _exit(127);
    }
    if (out_fd) {
        close(p[1]);
        *out_fd = p[0];
    }
    return pid;
}

static void wait_ok(pid_t pid)
{
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fprintf(stderr, "child %d ended with status 0x%x\n", (int)pid, st);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* ---- Tests ---- */

static void test_value_pushed_by_one_process_is_pulled_by_another(void)
{
    redis_start();
    wait_ok(spawn(NULL, "push", "alice", "shared", "300000", "5"));
    /* The documented layout: Faasm's <user>_<key>. */
    redisReply *r = raw("STRLEN alice_shared");
    CHECK(r->type == REDIS_REPLY_INTEGER && r->integer == 300000);
    freeReplyObject(r);
    wait_ok(spawn(NULL, "pull-check", "alice", "shared", "300000", "5"));
    /* A second push from another process is what a third one then sees. */
    wait_ok(spawn(NULL, "push", "alice", "shared", "300000", "9"));
    wait_ok(spawn(NULL, "pull-check", "alice", "shared", "300000", "9"));
    redis_stop(SIGTERM);
}

static void test_concurrent_appends_from_two_processes_lose_nothing(void)
{
    redis_start();
    const int n = 400;
    char ns[16];
    snprintf(ns, sizeof ns, "%d", n);
    pid_t a = spawn(NULL, "append", "bob", ns, "A", NULL);
    pid_t b = spawn(NULL, "append", "bob", ns, "B", NULL);
    wait_ok(a);
    wait_ok(b);
    struct state_store *s = redis_store(0);
    struct fl_error err;
    uint8_t *buf = malloc(2 * n * 6);
    uint64_t used;
    CHECK_OK(state_read_appended(s, "bob", "list", 2 * n, buf, 2 * n * 6, &used, &err));
    CHECK(used == (uint64_t)2 * n * 6);
    int next[2] = {0, 0};
    for (int i = 0; i < 2 * n; i++) {
        char *e = (char *)buf + i * 6;
        int who = e[0] == 'A' ? 0 : 1;
        CHECK(e[0] == 'A' || e[0] == 'B');
        char num[6];
        memcpy(num, e + 1, 5);
        num[5] = 0;
        CHECK(atoi(num) == next[who]); /* each process's own order is kept */
        next[who]++;
    }
    CHECK(next[0] == n && next[1] == n);
    CHECK(state_read_appended(s, "bob", "list", 2 * n + 1, buf, 2 * n * 6, &used, &err) ==
          FL_ERR_LIMIT);
    CHECK_OK(state_clear_appended(s, "bob", "list", &err));
    CHECK(state_read_appended(s, "bob", "list", 1, buf, 6, &used, &err) == FL_ERR_LIMIT);
    free(buf);
    state_store_destroy(s);
    redis_stop(SIGTERM);
}

static void test_counter_under_global_lock_from_two_processes_is_exact(void)
{
    redis_start();
    pid_t a = spawn(NULL, "count", "carol", "counter", "150", NULL);
    pid_t b = spawn(NULL, "count", "carol", "counter", "150", NULL);
    wait_ok(a);
    wait_ok(b);
    redisReply *r = raw("GET carol_counter");
    CHECK(r->type == REDIS_REPLY_STRING && r->len == 8);
    uint64_t x;
    memcpy(&x, r->str, 8);
    freeReplyObject(r);
    CHECK(x == 300);
    r = raw("EXISTS carol_counter:lock");
    CHECK(r->integer == 0); /* every holder released it */
    freeReplyObject(r);
    redis_stop(SIGTERM);
}

static void test_partial_push_sends_only_dirty_chunks(void)
{
    redis_start();
    struct state_store *s = redis_store(0);
    struct fl_error err;
    const uint64_t size = 64 * STATE_CHUNK_SIZE;
    struct state_value *v;
    CHECK_OK(state_value_open(s, "dave", "big", size, 0, &v, &err));
    uint8_t *d = state_value_data(v);
    for (uint64_t i = 0; i < size; i++)
        d[i] = pattern(1, i);
    CHECK_OK(state_value_push(v, &err));
    redisReply *r = raw("CONFIG RESETSTAT");
    freeReplyObject(r);
    struct state_global_stats before, after;
    state_store_global(s)->ops->stats(state_store_global(s), &before);
    const uint64_t dirty[] = {3, 17, 40, 63};
    for (size_t i = 0; i < 4; i++) {
        uint8_t bytes[100];
        memset(bytes, 0xA0 + (int)i, sizeof bytes);
        CHECK_OK(state_value_write(v, dirty[i] * STATE_CHUNK_SIZE + 1000, bytes, sizeof bytes,
                                   &err));
    }
    CHECK_OK(state_value_push_partial(v, &err));
    CHECK(command_calls("setrange") == 4);
    CHECK(command_calls("set") == 0);
    state_store_global(s)->ops->stats(state_store_global(s), &after);
    CHECK(after.chunk_writes - before.chunk_writes == 4);
    CHECK(after.bytes_written - before.bytes_written == 4 * STATE_CHUNK_SIZE);
    r = raw("GET dave_big");
    CHECK(r->type == REDIS_REPLY_STRING && r->len == size);
    CHECK(memcmp(r->str, d, size) == 0);
    freeReplyObject(r);
    /* Nothing dirty: no chunk is sent at all. */
    freeReplyObject(raw("CONFIG RESETSTAT"));
    CHECK_OK(state_value_push_partial(v, &err));
    CHECK(command_calls("setrange") == 0);
    state_store_destroy(s);
    redis_stop(SIGTERM);
}

static void test_readers_never_see_a_half_written_value(void)
{
    redis_start();
    pid_t w = spawn(NULL, "versions", "erin", "v", "60", NULL);
    struct fl_error err;
    struct state_global *g = state_global_redis_create("127.0.0.1", redis_port, &err);
    CHECK(g);
    int seen = 0, st = 0;
    while (waitpid(w, &st, WNOHANG) == 0) {
        uint8_t *data;
        uint64_t len;
        int rc = g->ops->get(g, "erin", "v", &data, &len, &err);
        if (rc == FL_ERR_NOT_FOUND)
            continue;
        CHECK(rc == 0 && len == 16 * STATE_CHUNK_SIZE);
        for (uint64_t i = 1; i < len; i++)
            CHECK(data[i] == data[0]);
        free(data);
        seen++;
    }
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(seen > 0);
    g->ops->destroy(g);
    redis_stop(SIGTERM);
}

struct pusher {
    struct state_store *store;
    struct state_value *value;
    int ok, failed;
    char last_error[256];
};

static void *push_loop(void *arg)
{
    struct pusher *p = arg;
    for (int i = 0; i < 40; i++) {
        struct fl_error err = {0};
        if (state_value_push(p->value, &err) == 0) {
            p->ok++;
        } else {
            p->failed++;
            snprintf(p->last_error, sizeof p->last_error, "%s", err.msg);
        }
    }
    return NULL;
}

static void test_redis_killed_mid_run_gives_clean_errors_then_recovers(void)
{
    redis_start();
    struct state_store *s = redis_store(0);
    struct fl_error err;
    struct state_value *v;
    const uint64_t size = 32ull << 20;
    CHECK_OK(state_value_open(s, "frank", "v", size, 0, &v, &err));
    memset(state_value_data(v), 7, size);
    CHECK_OK(state_value_push(v, &err));
    /* Kill Redis while another thread pushes 32 MiB values. */
    struct pusher p = {.store = s, .value = v};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, push_loop, &p) == 0);
    usleep(50000);
    redis_stop(SIGKILL);
    pthread_join(t, NULL);
    CHECK(p.failed > 0);
    CHECK(strstr(p.last_error, "redis 127.0.0.1:"));
    /* Every kind of call fails cleanly while Redis is down. */
    char expect[96];
    snprintf(expect, sizeof expect, "redis 127.0.0.1:%d: connection refused", redis_port);
    uint64_t token, n;
    uint8_t buf[8];
    CHECK(state_value_push(v, &err) == FL_ERR_IO && strstr(err.msg, expect));
    CHECK(state_value_pull(v, &err) == FL_ERR_IO && strstr(err.msg, expect));
    CHECK(state_value_push_partial(v, &err) == FL_ERR_IO && strstr(err.msg, expect));
    CHECK(state_append(s, "frank", "l", buf, 1, &err) == FL_ERR_IO && strstr(err.msg, expect));
    CHECK(state_read_appended(s, "frank", "l", 1, buf, 8, &n, &err) == FL_ERR_IO);
    CHECK(state_lock_global(s, "frank", "v", 100, &token, &err) == FL_ERR_IO &&
          strstr(err.msg, expect));
    CHECK(state_size(s, "frank", "other", &n, &err) == FL_ERR_IO);
    /* Back on the same port: the next call works, no restart of ours. */
    redis_start();
    memset(state_value_data(v), 9, size);
    CHECK_OK(state_value_push(v, &err));
    CHECK_OK(state_lock_global(s, "frank", "v", 100, &token, &err));
    CHECK_OK(state_unlock_global(s, "frank", "v", token, &err));
    /* A clean restart leaves closed connections in the pool: still no error. */
    redis_stop(SIGTERM);
    redis_start();
    CHECK_OK(state_value_push(v, &err));
    redisReply *r = raw("STRLEN frank_v");
    CHECK(r->integer == (long long)size);
    freeReplyObject(r);
    r = raw("GETRANGE frank_v %llu %llu", (unsigned long long)size - 1, (unsigned long long)size - 1);
    CHECK(r->type == REDIS_REPLY_STRING && r->len == 1 && r->str[0] == 9);
    freeReplyObject(r);
    state_store_destroy(s);
    redis_stop(SIGTERM);
}

static void test_lease_expiry_frees_the_lock_of_a_killed_holder(void)
{
    redis_start();
    int out;
    pid_t h = spawn(&out, "hold-lock", "gina", "k", "800", NULL);
    char line[16] = {0};
    CHECK(read(out, line, 7) == 7 && !strcmp(line, "locked\n"));
    close(out);
    struct state_store *s = redis_store(0);
    struct fl_error err;
    uint64_t token;
    CHECK(state_lock_global(s, "gina", "k", 0, &token, &err) == FL_ERR_LIMIT);
    kill(h, SIGKILL);
    int st;
    waitpid(h, &st, 0);
    uint64_t t0 = now_ms();
    CHECK_OK(state_lock_global(s, "gina", "k", 5000, &token, &err));
    CHECK(now_ms() - t0 < 2000);
    CHECK_OK(state_unlock_global(s, "gina", "k", token, &err));
    CHECK(state_unlock_global(s, "gina", "k", token, &err) == FL_ERR_NOT_FOUND);
    state_store_destroy(s);
    redis_stop(SIGTERM);
}

static void test_unreachable_redis_is_a_clear_error(void)
{
    struct fl_error err;
    struct state_global *g = state_global_redis_create("127.0.0.1", redis_port, &err);
    CHECK(!g && err.code == FL_ERR_IO);
    char expect[96];
    snprintf(expect, sizeof expect, "redis 127.0.0.1:%d: connection refused", redis_port);
    CHECK(!strcmp(err.msg, expect));
    CHECK(!state_global_redis_create_addr("nohost", &err) && err.code == FL_ERR_ARG);
    CHECK(!state_global_redis_create_addr("h:0", &err) && err.code == FL_ERR_ARG);
    CHECK(!state_global_redis_create_addr("h:12x", &err) && err.code == FL_ERR_ARG);
    CHECK(!state_global_redis_create_addr(":6379", &err) && err.code == FL_ERR_ARG);
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", redis_port);
    CHECK(!state_global_redis_create_addr(addr, &err) && err.code == FL_ERR_IO);
    redis_start();
    g = state_global_redis_create_addr(addr, &err);
    CHECK(g);
    g->ops->destroy(g);
    redis_stop(SIGTERM);
}

/* Reads a backend's whole value, "-" if absent, for comparisons. */
static void both_get(struct state_global *a, struct state_global *b, const char *user,
                     const char *key)
{
    struct fl_error err;
    uint8_t *da, *db;
    uint64_t la, lb;
    int ra = a->ops->get(a, user, key, &da, &la, &err);
    int rb = b->ops->get(b, user, key, &db, &lb, &err);
    if (ra != rb || la != lb || (la && memcmp(da, db, la)))
        fprintf(stderr, "%s/%s: in-process rc %d len %" PRIu64 ", redis rc %d len %" PRIu64 "\n",
                user, key, ra, la, rb, lb);
    CHECK(ra == rb && la == lb && (!la || !memcmp(da, db, la)));
    free(da);
    free(db);
}

static void test_backend_agrees_with_the_in_process_tier(void)
{
    redis_start();
    struct fl_error err;
    struct state_global *g[2] = {state_global_inproc_create(),
                                 state_global_redis_create("127.0.0.1", redis_port, &err)};
    CHECK(g[0] && g[1]);
    const uint64_t big = 3 * STATE_CHUNK_SIZE + 77;
    uint8_t *data = malloc(big), *dirty = calloc(4, 1), *mask = calloc(big, 1);
    for (uint64_t i = 0; i < big; i++)
        data[i] = pattern(3, i);
    for (int b = 0; b < 2; b++) {
        struct state_global *x = g[b];
        uint64_t size = 0;
        uint8_t buf[16];
        CHECK(x->ops->size(x, "u", "k", &size, &err) == FL_ERR_NOT_FOUND);
        CHECK(x->ops->get_range(x, "u", "k", 0, buf, 4, NULL, &err) == FL_ERR_NOT_FOUND);
        CHECK_OK(x->ops->set(x, "u", "k", (const uint8_t *)"hello", 5, &err));
        memset(buf, 0xee, sizeof buf);
        CHECK_OK(x->ops->get_range(x, "u", "k", 3, buf, 10, &size, &err));
        CHECK(size == 5 && !memcmp(buf, "lo\0\0\0\0\0\0\0\0\xee", 11));
        CHECK_OK(x->ops->set_range(x, "u", "k", 8, (const uint8_t *)"xy", 2, &err));
        CHECK_OK(x->ops->set_range(x, "u", "k", 20, NULL, 0, &err));
        CHECK_OK(x->ops->size(x, "u", "k", &size, &err));
        CHECK(size == 20);
        CHECK_OK(x->ops->set(x, "u", "empty", NULL, 0, &err));
        CHECK_OK(x->ops->size(x, "u", "empty", &size, &err));
        CHECK(size == 0);
        CHECK_OK(x->ops->set_range(x, "u", "made", 0, NULL, 0, &err));
        /* Chunked writes: grow, then cut. */
        memset(dirty, 0, 4);
        dirty[0] = 1, dirty[2] = 1, dirty[3] = 1;
        CHECK_OK(x->ops->set_chunks(x, "u", "c", data, big, dirty, &err));
        dirty[0] = 0, dirty[2] = 0, dirty[3] = 0;
        dirty[1] = 1;
        CHECK_OK(x->ops->set_chunks(x, "u", "c2", data, big, dirty, &err));
        CHECK_OK(x->ops->set_chunks(x, "u", "c2", data, 100, dirty + 3, &err));
        CHECK_OK(x->ops->set(x, "u", "m", data, 1000, &err));
        for (uint64_t i = 0; i < big; i += 3)
            mask[i] = 1;
        CHECK_OK(x->ops->set_masked(x, "u", "m", data + 1, mask, 5000, &err));
        /* Names that a naive "<user>_<key>" layout would mix up. */
        CHECK_OK(x->ops->set(x, "a_b", "c", (const uint8_t *)"1", 1, &err));
        CHECK_OK(x->ops->set(x, "a", "b_c", (const uint8_t *)"22", 2, &err));
        CHECK_OK(x->ops->set(x, "a", "x:append", (const uint8_t *)"333", 3, &err));
        CHECK_OK(x->ops->append(x, "a", "x", (const uint8_t *)"e1", 2, &err));
        CHECK_OK(x->ops->append(x, "a", "x", NULL, 0, &err));
        CHECK_OK(x->ops->append(x, "a", "x", (const uint8_t *)"e3", 2, &err));
        CHECK_OK(x->ops->set(x, "%41", "%3A:", (const uint8_t *)"4444", 4, &err));
        uint64_t used = 99;
        CHECK_OK(x->ops->read_appended(x, "a", "x", 2, buf, sizeof buf, &used, &err));
        CHECK(used == 2 && !memcmp(buf, "e1", 2));
        CHECK_OK(x->ops->read_appended(x, "a", "x", 0, buf, 0, &used, &err));
        CHECK(used == 0);
        CHECK(x->ops->read_appended(x, "a", "x", 4, buf, sizeof buf, &used, &err) == FL_ERR_LIMIT);
        CHECK(x->ops->read_appended(x, "a", "x", 3, buf, 3, &used, &err) == FL_ERR_LIMIT);
        CHECK(x->ops->read_appended(x, "a", "nothing", 1, buf, 3, &used, &err) == FL_ERR_LIMIT);
        /* Locks: a second taker waits, then gives up; a stale token is refused. */
        uint64_t t1, t2;
        CHECK_OK(x->ops->lock(x, "u", "k", 10000, 0, &t1, &err));
        CHECK(x->ops->lock(x, "u", "k", 10000, 30, &t2, &err) == FL_ERR_LIMIT);
        CHECK(x->ops->unlock(x, "u", "k", t1 + 1, &err) == FL_ERR_NOT_FOUND);
        CHECK_OK(x->ops->unlock(x, "u", "k", t1, &err));
        CHECK_OK(x->ops->lock(x, "u", "k", 10000, 0, &t2, &err));
        CHECK_OK(x->ops->unlock(x, "u", "k", t2, &err));
        /* Bad names are errors (the store checks them before the in-process tier). */
        if (b == 1)
            CHECK(x->ops->size(x, "u", NULL, &size, &err) == FL_ERR_ARG);
    }
    const char *keys[][2] = {{"u", "k"},   {"u", "empty"}, {"u", "made"}, {"u", "c"},
                             {"u", "c2"},  {"u", "m"},     {"a_b", "c"},  {"a", "b_c"},
                             {"a", "x:append"}, {"%41", "%3A:"}, {"u", "absent"}};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        both_get(g[0], g[1], keys[i][0], keys[i][1]);
    /* Over Redis's string limit: refused before anything is sent. */
    uint8_t one = 1;
    CHECK(g[1]->ops->set_range(g[1], "u", "k", STATE_REDIS_MAX_VALUE_BYTES, &one, 1, &err) ==
          FL_ERR_LIMIT);
    char k[64];
    CHECK(state_redis_key("a_b", "c:d%", ":lock", k, sizeof k) && !strcmp(k, "a%5Fb_c%3Ad%25:lock"));
    CHECK(state_redis_key("demo", "my_key", "", k, sizeof k) && !strcmp(k, "demo_my_key"));
    CHECK(state_redis_key("demo", "my_key", "", k, 8) == 0);
    free(data);
    free(dirty);
    free(mask);
    g[0]->ops->destroy(g[0]);
    g[1]->ops->destroy(g[1]);
    redis_stop(SIGTERM);
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "cli"))
        return cli(argc, argv);
    if (argc < 2) {
        fprintf(stderr, "usage: test_redis_state TEST [REDIS_SERVER]\n");
        return 2;
    }
    if (argc >= 3)
        redis_server = argv[2];
    redis_port = free_port();
    CHECK(redis_port > 0);
    static const struct {
        const char *name;
        void (*fn)(void);
    } tests[] = {
#define T(f) {#f, f}
        T(test_value_pushed_by_one_process_is_pulled_by_another),
        T(test_concurrent_appends_from_two_processes_lose_nothing),
        T(test_counter_under_global_lock_from_two_processes_is_exact),
        T(test_partial_push_sends_only_dirty_chunks),
        T(test_readers_never_see_a_half_written_value),
        T(test_redis_killed_mid_run_gives_clean_errors_then_recovers),
        T(test_lease_expiry_frees_the_lock_of_a_killed_holder),
        T(test_unreachable_redis_is_a_clear_error),
        T(test_backend_agrees_with_the_in_process_tier),
#undef T
    };
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        if (!strcmp(argv[1], tests[i].name)) {
            tests[i].fn();
            test_cleanup();
            if (redis_dir[0])
                rmdir(redis_dir);
            printf("%s: ok\n", tests[i].name);
            return 0;
        }
    }
    fprintf(stderr, "unknown test %s\n", argv[1]);
    return 2;
}
