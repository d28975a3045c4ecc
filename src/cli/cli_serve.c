/* cli_serve.c: `faaslet serve`: the HTTP API server (src/http) over an
 * executor (src/exec), the function store and a state store (global tier
 * in-process, or on Redis with --redis so that several servers share it).
 * Runs until SIGTERM or SIGINT, then drains the calls in flight and exits 0. */
#include "cli/cli.h"

#include "exec/exec.h"
#include "faaslet/faaslet.h"
#include "http/http.h"
#include "state/state.h"
#include "state/state_redis.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int usage(FILE *out)
{
    fprintf(out,
            "usage: faaslet serve [options]\n"
            "  --port N             invoke server port (default %d; 0 = any free port)\n"
            "  --upload-port N      upload server port (default %d; 0 = any free port)\n"
            "  --bind ADDR          IPv4 address to listen on (default 127.0.0.1)\n"
            "  --store DIR          function store (default $FAASLET_STORE,\n"
            "                       $XDG_DATA_HOME/faaslet or ~/.local/share/faaslet)\n"
            "  --workers N          executor worker threads (default: number of CPUs)\n"
            "  --threads N          HTTP event threads of the invoke server (default 2)\n"
            "  --timeout-ms N       wall-clock limit per call (default 60000; 0 = none)\n"
            "  --inline-us N        run a sync call on the HTTP thread when the function's\n"
            "                       last call took at most N us (default %u; 0 = never)\n"
            "  --redis HOST:PORT    global state tier on this Redis, shared with other\n"
            "                       servers and `faaslet invoke --redis` (default: in-process)\n"
            "  --max-memory BYTES   linear memory limit per call (default: the module's)\n"
            "  --tier T             aot (compiled code, generated at upload), interp (no\n"
            "                       code generation at upload either) or auto (default:\n"
            "                       aot when code can be had, else interp)\n"
            "  --bounds-checked     explicit bounds checks and small memory reservations\n"
            "                       (for very many warm Faaslets) instead of guard pages\n"
            "  --max-body BYTES     largest request body (default %u)\n"
            "  --max-results N      async results kept for polling (default %u)\n"
            "  --drain-ms N         how long SIGTERM waits for calls in flight\n"
            "                       (default: the call timeout + 5000; 0 = forever)\n"
            "  --log-level LEVEL    error, warn, info (default: one line per call), debug\n"
            "  --ready-file FILE    write \"INVOKE_PORT UPLOAD_PORT\" there once listening\n",
            HTTP_DEFAULT_PORT, HTTP_DEFAULT_UPLOAD_PORT, HTTP_DEFAULT_INLINE_US,
            HTTP_DEFAULT_MAX_BODY, HTTP_DEFAULT_MAX_RESULTS);
    return out == stdout ? 0 : 2;
}

static bool parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-')
        return false;
    *out = v;
    return true;
}

int cli_serve(int argc, char **argv)
{
    const char *store_opt = NULL, *bind = NULL, *ready_file = NULL, *level = "info";
    const char *redis_opt = NULL;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    uint64_t port = HTTP_DEFAULT_PORT, upload_port = HTTP_DEFAULT_UPLOAD_PORT;
    uint64_t workers = cpus > 0 ? (uint64_t)cpus : 2, threads = 2, timeout_ms = 60000;
    uint64_t max_memory = 0, max_body = HTTP_DEFAULT_MAX_BODY;
    uint64_t max_results = HTTP_DEFAULT_MAX_RESULTS, drain_ms = UINT64_MAX;
    uint64_t inline_us = HTTP_DEFAULT_INLINE_US;
    bool bounds_checked = false;
    enum faaslet_tier tier = FAASLET_TIER_DEFAULT;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            return usage(stdout);
        if (!strncmp(a, "--tier=", 7) || (!strcmp(a, "--tier") && i + 1 < argc)) {
            const char *t = a[6] == '=' ? a + 7 : argv[++i];
            if (!faaslet_tier_parse(t, &tier)) {
                fprintf(stderr, "faaslet serve: bad value for --tier: %s\n", t);
                return 2;
            }
            continue;
        }
        if (!strcmp(a, "--bounds-checked")) {
            bounds_checked = true;
            continue;
        }
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "faaslet serve: %s needs a value\n", a);
            return usage(stderr);
        }
        i++;
        bool ok = true;
        if (!strcmp(a, "--port"))
            ok = parse_u64(v, &port) && port <= 65535;
        else if (!strcmp(a, "--upload-port"))
            ok = parse_u64(v, &upload_port) && upload_port <= 65535;
        else if (!strcmp(a, "--bind"))
            bind = v;
        else if (!strcmp(a, "--store"))
            store_opt = v;
        else if (!strcmp(a, "--redis"))
            redis_opt = v;
        else if (!strcmp(a, "--workers"))
            ok = parse_u64(v, &workers) && workers >= 1 && workers <= 1024;
        else if (!strcmp(a, "--threads"))
            ok = parse_u64(v, &threads) && threads >= 1 && threads <= 256;
        else if (!strcmp(a, "--timeout-ms"))
            ok = parse_u64(v, &timeout_ms) && timeout_ms <= UINT32_MAX;
        else if (!strcmp(a, "--inline-us"))
            ok = parse_u64(v, &inline_us) && inline_us <= 1000000;
        else if (!strcmp(a, "--max-memory"))
            ok = parse_u64(v, &max_memory);
        else if (!strcmp(a, "--max-body"))
            ok = parse_u64(v, &max_body) && max_body >= 1 && max_body <= (1ull << 32);
        else if (!strcmp(a, "--max-results"))
            ok = parse_u64(v, &max_results) && max_results >= 1 && max_results <= 10000000;
        else if (!strcmp(a, "--drain-ms"))
            ok = parse_u64(v, &drain_ms) && drain_ms <= INT32_MAX;
        else if (!strcmp(a, "--log-level"))
            ok = !strcmp(v, "error") || !strcmp(v, "warn") || !strcmp(v, "info") ||
                 !strcmp(v, "debug"),
            level = v;
        else if (!strcmp(a, "--ready-file"))
            ready_file = v;
        else {
            fprintf(stderr, "faaslet serve: unknown option %s\n", a);
            return usage(stderr);
        }
        if (!ok) {
            fprintf(stderr, "faaslet serve: bad value for %s: %s\n", a, v);
            return 2;
        }
    }
    if (drain_ms == UINT64_MAX)
        drain_ms = timeout_ms ? timeout_ms + 5000 : 0;

    /* Every thread started from here on inherits the blocked signals, so
     * only sigwait below sees them; a closed client socket must not kill us. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct fl_error err;
    fl_error_clear(&err);
    char store[4096], files[4200];
    if (faaslet_store_dir(store_opt, store, sizeof store, &err)) {
        fprintf(stderr, "faaslet serve: %s\n", err.msg);
        return 1;
    }
    snprintf(files, sizeof files, "%s/.files", store);
    struct state_store_options state_opts = {0};
    if (redis_opt) {
        /* Connects once: a wrong address or a Redis that is down fails now. */
        state_opts.global = state_global_redis_create_addr(redis_opt, &err);
        if (!state_opts.global) {
            fprintf(stderr, "faaslet serve: --redis: %s\n", err.msg);
            return 1;
        }
    }
    struct state_store *state = state_store_create(&state_opts, &err);
    if (!state) {
        fprintf(stderr, "faaslet serve: state: %s\n", err.msg);
        return 1;
    }
    /* Uploads (src/http, faaslet_store_upload) follow $FAASLET_TIER: with
     * --tier=interp they store modules without generating code. Set before
     * any thread starts. */
    if (tier == FAASLET_TIER_INTERP)
        setenv("FAASLET_TIER", "interp", 1);
    struct exec_config cfg = {
        .store_dir = store,
        .files_dir = files,
        .workers = (uint32_t)workers,
        .timeout_ms = (uint32_t)timeout_ms,
        .faaslet = {.max_memory = max_memory, .bounds_checked = bounds_checked, .state = state,
                    .tier = tier},
    };
    int status = 1;
    struct http_server *server = NULL;
    struct exec *exec = exec_create(&cfg, &err);
    if (!exec) {
        fprintf(stderr, "faaslet serve: %s\n", err.msg);
        goto out;
    }
    struct http_config hc = {
        .bind_address = bind,
        .port = (uint16_t)port,
        .upload_port = (uint16_t)upload_port,
        .threads = (uint32_t)threads,
        .max_body = (size_t)max_body,
        .max_results = (uint32_t)max_results,
        .call_timeout_ms = (uint32_t)timeout_ms,
        .inline_us = (uint32_t)inline_us,
        .no_inline = inline_us == 0,
        .store_dir = store,
        .exec = exec,
        .state = state,
        .log_level = !strcmp(level, "error")  ? HTTP_LOG_ERROR
                     : !strcmp(level, "warn") ? HTTP_LOG_WARN
                     : !strcmp(level, "info") ? HTTP_LOG_INFO
                                              : HTTP_LOG_DEBUG,
    };
    server = http_server_create(&hc, &err);
    if (!server) {
        fprintf(stderr, "faaslet serve: %s\n", err.msg);
        goto out;
    }
    if (ready_file) {
        char tmp[4200];
        snprintf(tmp, sizeof tmp, "%s.tmp", ready_file);
        FILE *f = fopen(tmp, "w");
        if (!f || fprintf(f, "%u %u\n", http_server_port(server, false),
                          http_server_port(server, true)) < 0 ||
            fclose(f) != 0 || rename(tmp, ready_file) != 0) {
            fprintf(stderr, "faaslet serve: cannot write %s: %s\n", ready_file, strerror(errno));
            goto out;
        }
    }
    int sig = 0;
    sigwait(&stop, &sig);
    fprintf(stderr, "faaslet serve: %s: draining\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    if (http_server_drain(server, drain_ms ? (int)drain_ms : -1) != 0) {
        /* Calls still hold suspended connections: tearing down under them
         * is unsafe, and the process is ending anyway. */
        fprintf(stderr, "faaslet serve: calls still running after %llu ms; exiting\n",
                (unsigned long long)drain_ms);
        fflush(NULL);
        _exit(1);
    }
    status = 0;
out:
    http_server_destroy(server);
    exec_destroy(exec);
    state_store_destroy(state);
    return status;
}
