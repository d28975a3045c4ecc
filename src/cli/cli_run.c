/* cli_run.c: `faaslet run`, like `wasmtime run`: loads, validates and
 * instantiates a WASI command with the interpreter, runs `_start` and exits
 * with the guest's status. Uses the runtime directly (not the embedding API)
 * because it links WASI's runtime-level host functions and names the
 * function a trap happened in.
 *
 * Exit status: the guest's proc_exit code (0 if _start returns); 1 if the
 * module cannot be read, decoded, validated or linked; 2 for bad usage;
 * 134 (128 + SIGABRT, as wasmtime) if the guest traps. */
#include "cli/cli.h"

#include "aot/aot.h"
#include "interp/interp.h"
#include "runtime/runtime.h"
#include "wasi/wasi.h"
#include "wasm/wasm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define EXIT_LOAD_ERROR 1
#define EXIT_USAGE 2
#define EXIT_TRAP 134
#define MAX_OPTIONS 1024

static int usage(void)
{
    fprintf(stderr,
            "usage: faaslet run [--dir HOST[::GUEST]]... [--env K=V]... FILE.wasm [ARGS...]\n"
            "  --dir HOST[::GUEST]  give the guest directory HOST as GUEST (default: HOST)\n"
            "  --env K=V            set an environment variable for the guest\n"
            "  --tier=interp|aot    interpreter (default) or compiled code (object cache:\n"
            "                       --cache DIR, default as for `faaslet codegen`; --no-cache)\n"
            "exit status: the guest's (proc_exit code, 0 if _start returns), 1 if the module\n"
            "cannot be loaded, 2 for bad usage, 134 if the guest traps\n");
    return EXIT_USAGE;
}

/* Reads a whole file; *out is malloc'd. Returns 0 or an errno-style failure
 * described in msg. */
static int read_file(const char *path, uint8_t **out, size_t *size, char *msg, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(msg, n, "cannot open: %s", strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(msg, n, "not a regular file");
        fclose(f);
        return -1;
    }
    if ((uint64_t)st.st_size > WASM_MAX_MODULE_SIZE) {
        snprintf(msg, n, "file is %lld bytes, more than the %u-byte module limit",
                 (long long)st.st_size, WASM_MAX_MODULE_SIZE);
        fclose(f);
        return -1;
    }
    size_t len = (size_t)st.st_size;
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) {
        snprintf(msg, n, "out of memory");
        fclose(f);
        return -1;
    }
    size_t got = fread(buf, 1, len, f);
    int failed = ferror(f);
    fclose(f);
    if (failed || got != len) {
        snprintf(msg, n, "read error");
        free(buf);
        return -1;
    }
    *out = buf;
    *size = len;
    return 0;
}

/* Everything one run owns, so one function can free it in order. */
struct run {
    uint8_t *bytes;
    struct wasm_module *module;
    struct interp_module *code;
    struct aot_module *aot;
    struct runtime_store *store;
    struct runtime_linker *linker;
    struct runtime_exec exec;
    bool exec_ready;
    struct wasi_ctx *wasi;
};

static void run_free(struct run *r)
{
    if (r->exec_ready)
        runtime_exec_fini(&r->exec);
    runtime_linker_destroy(r->linker);
    runtime_store_destroy(r->store);
    interp_module_destroy(r->code);
    aot_module_destroy(r->aot);
    wasm_module_destroy(r->module);
    wasi_ctx_destroy(r->wasi);
    free(r->bytes);
}

/* Prints the one-line trap report and returns the trap exit status. */
static int report_trap(const char *file, struct runtime_exec *exec, int trap)
{
    char name[128] = "?";
    if (exec->trap_module)
        wasm_module_func_name(exec->trap_module, exec->trap_func, name, sizeof name);
    const char *msg = trap == RUNTIME_TRAP_HOST && exec->trap_msg[0]
                          ? exec->trap_msg
                          : runtime_trap_message(trap);
    fprintf(stderr, "faaslet run: %s: trap in %s: %s\n", file, name, msg);
    return EXIT_TRAP;
}

int cli_run(int argc, char **argv)
{
    const char *dirs[MAX_OPTIONS];
    const char *envs[MAX_OPTIONS];
    uint32_t ndirs = 0, nenvs = 0;
    bool aot = false, no_cache = false;
    const char *cache_dir = NULL;
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        bool is_dir = false;
        if (!strcmp(a, "--")) {
            i++;
            break;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage();
            return 0;
        }
        if (!strcmp(a, "--tier=aot") || !strcmp(a, "--tier=interp")) {
            aot = a[7] == 'a';
            continue;
        }
        if (!strcmp(a, "--no-cache")) {
            no_cache = true;
            continue;
        }
        if (!strcmp(a, "--cache") && i + 1 < argc) {
            cache_dir = argv[++i];
            continue;
        }
        if (!strcmp(a, "--dir") || !strcmp(a, "--env")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "faaslet run: %s needs a value\n", a);
                return usage();
            }
            is_dir = a[2] == 'd';
            val = argv[++i];
        } else if (!strncmp(a, "--dir=", 6) || !strncmp(a, "--env=", 6)) {
            is_dir = a[2] == 'd';
            val = a + 6;
        } else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "faaslet run: unknown option %s\n", a);
            return usage();
        } else {
            break;
        }
        if (is_dir ? ndirs == MAX_OPTIONS : nenvs == MAX_OPTIONS) {
            fprintf(stderr, "faaslet run: more than %d --dir or --env options\n", MAX_OPTIONS);
            return EXIT_USAGE;
        }
        if (!is_dir && !strchr(val, '=')) {
            fprintf(stderr, "faaslet run: --env %s: expected K=V\n", val);
            return EXIT_USAGE;
        }
        if (is_dir)
            dirs[ndirs++] = val;
        else
            envs[nenvs++] = val;
    }
    if (i >= argc) {
        fprintf(stderr, "faaslet run: no module given\n");
        return usage();
    }
    const char *file = argv[i];
    struct run r;
    memset(&r, 0, sizeof r);
    struct fl_error err;
    fl_error_clear(&err);
    int status = EXIT_LOAD_ERROR;
    size_t size = 0;
    char msg[256];
    if (read_file(file, &r.bytes, &size, msg, sizeof msg) != 0) {
        fprintf(stderr, "faaslet run: %s: %s\n", file, msg);
        goto out;
    }
    if (wasm_module_load(r.bytes, size, &r.module, &err) != FL_OK) {
        fprintf(stderr, "faaslet run: %s: %s: %s\n", file, fl_error_name(err.code), err.msg);
        goto out;
    }
    if (aot) {
        struct aot_options opts;
        aot_options_default(&opts);
        char cache[4096];
        if (!no_cache)
            opts.cache_dir = cache_dir ? cache_dir : aot_cache_dir_default(cache, sizeof cache);
        if (aot_module_load(r.module, &opts, &r.aot, &err) != FL_OK) {
            fprintf(stderr, "faaslet run: %s: %s\n", file, err.msg);
            goto out;
        }
    } else if (!(r.code = interp_module_compile(r.module, &err))) {
        fprintf(stderr, "faaslet run: %s: %s\n", file, err.msg);
        goto out;
    }
    /* The guest's argv is the module name followed by the remaining arguments. */
    r.wasi = wasi_ctx_create((uint32_t)(argc - i), (const char *const *)argv + i, nenvs, envs,
                             &err);
    if (!r.wasi) {
        fprintf(stderr, "faaslet run: %s\n", err.msg);
        goto out;
    }
    for (uint32_t d = 0; d < ndirs; d++) {
        char host[4096];
        const char *sep = strstr(dirs[d], "::");
        size_t hlen = sep ? (size_t)(sep - dirs[d]) : strlen(dirs[d]);
        if (hlen == 0 || hlen >= sizeof host) {
            fprintf(stderr, "faaslet run: --dir %s: bad host path\n", dirs[d]);
            status = EXIT_USAGE;
            goto out;
        }
        memcpy(host, dirs[d], hlen);
        host[hlen] = '\0';
        const char *guest = sep ? sep + 2 : host;
        if (wasi_ctx_add_preopen(r.wasi, host, guest, &err) != FL_OK) {
            fprintf(stderr, "faaslet run: --dir %s: %s\n", dirs[d], err.msg);
            goto out;
        }
    }
    r.store = runtime_store_create();
    r.linker = r.store ? runtime_linker_create(r.store) : NULL;
    if (!r.linker) {
        fprintf(stderr, "faaslet run: out of memory\n");
        goto out;
    }
    if (runtime_exec_init(&r.exec, r.store, 0, &err) != FL_OK) {
        fprintf(stderr, "faaslet run: %s\n", err.msg);
        goto out;
    }
    r.exec_ready = true;
    if (wasi_define_imports(r.linker, r.store, r.wasi, &err) != FL_OK) {
        fprintf(stderr, "faaslet run: %s\n", err.msg);
        goto out;
    }
    struct runtime_instance *instance = NULL;
    int rc = runtime_linker_instantiate(r.linker, r.module, r.aot ? &aot_tier : &interp_tier,
                                        r.aot ? (void *)r.aot : (void *)r.code, &r.exec,
                                        &instance, &err);
    if (rc == FL_ERR_TRAP) {
        /* The start function trapped (or called proc_exit). */
        if (r.wasi->exited) {
            status = r.wasi->exit_code;
            goto out;
        }
        status = EXIT_TRAP;
        fprintf(stderr, "faaslet run: %s: %s\n", file, err.msg);
        goto out;
    }
    if (rc != FL_OK) {
        fprintf(stderr, "faaslet run: %s: %s\n", file, err.msg);
        goto out;
    }
    struct runtime_extern start;
    if (!runtime_instance_export(instance, "_start", &start) || start.kind != WASM_EXTERN_FUNC) {
        fprintf(stderr, "faaslet run: %s: no exported function _start (not a WASI command)\n",
                file);
        goto out;
    }
    if (start.as.func->type->param_count != 0 || start.as.func->type->result_count != 0) {
        fprintf(stderr, "faaslet run: %s: _start must take and return nothing\n", file);
        goto out;
    }
    uint64_t cells[2] = {0, 0};
    r.exec.trap_msg[0] = '\0';
    int trap = runtime_call(&r.exec, start.as.func, cells);
    if (trap == RUNTIME_OK)
        status = 0;
    else if (trap == RUNTIME_TRAP_EXIT)
        status = r.exec.exit_code;
    else
        status = report_trap(file, &r.exec, trap);
out:
    run_free(&r);
    return status;
}
