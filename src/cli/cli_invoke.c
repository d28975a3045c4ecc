/* cli_invoke.c: `faaslet invoke USER FUNC ...`: runs one call in-process on
 * an executor (src/exec) over the function store and prints its result.
 *
 * Output format: the guest's own stdout/stderr pass through; then the
 * call's output bytes, exactly, on stdout; then one line
 * "return value: N" on stderr (preceded by "call failed: MESSAGE" if the
 * call trapped, timed out or could not start). Exit status: 0 iff the
 * return value is 0; else the return value if it is 1..125, else 1;
 * 2 for bad usage. */
#include "cli/cli.h"

#include "exec/exec.h"
#include "faaslet/faaslet.h"
#ifdef FL_HAVE_HOST_STATE
#include "state/state.h"
#include "state/state_redis.h"
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(void)
{
    fprintf(stderr,
            "usage: faaslet invoke [options] USER FUNC\n"
            "  --input STR          the call's input\n"
            "  --input-file F       the call's input, from a file\n"
            "  --cmdline \"A B\"      arguments (argv[1..]; argv[0] is FUNC)\n"
            "  --timeout-ms N       wall-clock limit per call (default 60000; 0 = none)\n"
            "  --max-memory BYTES   linear memory limit per call (default: the module's)\n"
            "  --workers N          worker threads (default 4)\n"
            "  --tier T             aot (compiled code, generated into the store if missing),\n"
            "                       interp, or auto (default: aot when code can be had,\n"
            "                       else interp; $FAASLET_TIER overrides the default)\n"
            "  --redis HOST:PORT    global state tier on this Redis (default: in-process)\n"
            "  --store DIR          function store (default $FAASLET_STORE,\n"
            "                       $XDG_DATA_HOME/faaslet or ~/.local/share/faaslet)\n"
            "prints the output on stdout and \"return value: N\" on stderr; exit status 0\n"
            "iff the return value is 0 (else the value if 1..125, else 1)\n");
    return 2;
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

int cli_invoke(int argc, char **argv)
{
    const char *store_opt = NULL, *redis_opt = NULL, *input = NULL, *input_file = NULL,
               *cmdline = NULL;
    uint64_t timeout_ms = 60000, max_memory = 0, workers = 4;
    enum faaslet_tier tier = FAASLET_TIER_DEFAULT;
    const char *pos[2];
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage();
            return 0;
        }
        if (a[0] != '-' || a[1] != '-') {
            if (npos == 2)
                return usage();
            pos[npos++] = a;
            continue;
        }
        /* --opt=value as well as --opt value */
        char name[32];
        const char *eq = strchr(a, '=');
        if (eq && (size_t)(eq - a) < sizeof name) {
            snprintf(name, sizeof name, "%.*s", (int)(eq - a), a);
            a = name;
            v = eq + 1;
        } else if (!v) {
            fprintf(stderr, "faaslet invoke: %s needs a value\n", a);
            return usage();
        } else {
            i++;
        }
        bool ok = true;
        if (!strcmp(a, "--store"))
            store_opt = v;
        else if (!strcmp(a, "--redis"))
            redis_opt = v;
        else if (!strcmp(a, "--input"))
            input = v;
        else if (!strcmp(a, "--input-file"))
            input_file = v;
        else if (!strcmp(a, "--cmdline"))
            cmdline = v;
        else if (!strcmp(a, "--timeout-ms"))
            ok = parse_u64(v, &timeout_ms) && timeout_ms <= UINT32_MAX;
        else if (!strcmp(a, "--max-memory"))
            ok = parse_u64(v, &max_memory);
        else if (!strcmp(a, "--workers"))
            ok = parse_u64(v, &workers) && workers >= 1 && workers <= 1024;
        else if (!strcmp(a, "--tier"))
            ok = faaslet_tier_parse(v, &tier);
        else {
            fprintf(stderr, "faaslet invoke: unknown option %s\n", a);
            return usage();
        }
        if (!ok) {
            fprintf(stderr, "faaslet invoke: bad value for %s: %s\n", a, v);
            return 2;
        }
    }
    if (npos != 2 || (input && input_file))
        return usage();

    struct fl_error err;
    fl_error_clear(&err);
    uint8_t *in = NULL;
    size_t in_len = 0;
    if (input_file && faaslet_read_file(input_file, &in, &in_len, &err)) {
        fprintf(stderr, "faaslet invoke: %s\n", err.msg);
        return 1;
    }
    char store[4096], files[4200];
    if (faaslet_store_dir(store_opt, store, sizeof store, &err)) {
        fprintf(stderr, "faaslet invoke: %s\n", err.msg);
        free(in);
        return 1;
    }
    /* Each user's files live beside the store, out of reach of other users
     * (user names cannot start with '.', so this never clashes). */
    snprintf(files, sizeof files, "%s/.files", store);
    struct exec_config cfg = {
        .store_dir = store,
        .files_dir = files,
        .workers = (uint32_t)workers,
        .timeout_ms = (uint32_t)timeout_ms,
        .faaslet = {.max_memory = max_memory, .tier = tier},
    };
#ifdef FL_HAVE_HOST_STATE
    struct state_store_options state_opts = {0};
    if (redis_opt) {
        state_opts.global = state_global_redis_create_addr(redis_opt, &err);
        if (!state_opts.global) {
            fprintf(stderr, "faaslet invoke: state: %s\n", err.msg);
            free(in);
            return 1;
        }
    }
    struct state_store *state = state_store_create(&state_opts, &err);
    if (!state) {
        fprintf(stderr, "faaslet invoke: state: %s\n", err.msg);
        free(in);
        return 1;
    }
    cfg.faaslet.state = state;
#else
    if (redis_opt) {
        fprintf(stderr, "faaslet invoke: --redis: this build has no state imports\n");
        free(in);
        return 2;
    }
#endif
    int status = 1;
    struct exec *exec = exec_create(&cfg, &err);
    if (!exec) {
        fprintf(stderr, "faaslet invoke: %s\n", err.msg);
        goto out;
    }
    struct exec_request req = {
        .user = pos[0],
        .function = pos[1],
        .input = input ? (const uint8_t *)input : in,
        .input_len = input ? strlen(input) : in_len,
        .cmdline = cmdline,
        .func_ptr = -1,
    };
    uint32_t id = exec_submit(exec, &req, &err);
    struct exec_msg msg;
    if (!id || exec_await(exec, id, -1, &msg, &err)) {
        fprintf(stderr, "faaslet invoke: %s\n", err.msg);
        goto out;
    }
    fflush(stdout);
    if (msg.output_len)
        fwrite(msg.output, 1, msg.output_len, stdout);
    fflush(stdout);
    if (msg.status == EXEC_FAILED)
        fprintf(stderr, "call failed: %.*s\n", (int)msg.output_len, (const char *)msg.output);
    fprintf(stderr, "return value: %d\n", msg.return_value);
    status = msg.return_value == 0 ? 0 : msg.return_value >= 1 && msg.return_value <= 125
                                             ? msg.return_value
                                             : 1;
    exec_msg_fini(&msg);
out:
    exec_destroy(exec);
#ifdef FL_HAVE_HOST_STATE
    state_store_destroy(state);
#endif
    free(in);
    return status;
}
