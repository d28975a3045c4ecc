/* cli_codegen.c: `faaslet codegen`, ahead-of-time compilation of modules
 * into the object cache (src/aot), so later runs with the compiled tier load
 * native code without compiling. Prints one line per module: the cache
 * entry, whether it was built or already there, and the time taken. */
#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "aot/aot.h"
#include "wasm/wasm.h"

static int usage(void)
{
    fprintf(stderr,
            "usage: faaslet codegen [--cache DIR] [-O0..3] [--bounds-checks] [--no-interrupt-checks]\n"
            "                       [-o OUT.so] FILE.wasm...\n"
            "  compiles each module to native code into the object cache\n"
            "  (default: $FAASLET_CACHE, else $XDG_CACHE_HOME/faaslet, else ~/.cache/faaslet)\n"
            "  -o OUT.so          write a shared object instead (one module only; no cache)\n");
    return 2;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint8_t *read_module(const char *path, size_t *size, char *msg, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(msg, n, "cannot open: %s", strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) ||
        (uint64_t)st.st_size > WASM_MAX_MODULE_SIZE) {
        snprintf(msg, n, "not a regular file of at most %u bytes", WASM_MAX_MODULE_SIZE);
        fclose(f);
        return NULL;
    }
    size_t len = (size_t)st.st_size;
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf || fread(buf, 1, len, f) != len) {
        snprintf(msg, n, buf ? "read error" : "out of memory");
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *size = len;
    return buf;
}

static int codegen_one(const char *file, const struct aot_options *opts, const char *out_so)
{
    char msg[256];
    size_t size = 0;
    uint8_t *bytes = read_module(file, &size, msg, sizeof msg);
    if (!bytes) {
        fprintf(stderr, "faaslet codegen: %s: %s\n", file, msg);
        return 1;
    }
    struct fl_error err;
    fl_error_clear(&err);
    struct wasm_module *module = NULL;
    double t0 = now_s();
    int rc = wasm_module_load(bytes, size, &module, &err);
    free(bytes);
    if (rc) {
        fprintf(stderr, "faaslet codegen: %s: %s: %s\n", file, fl_error_name(err.code), err.msg);
        return 1;
    }
    char so[4200];
    bool rebuilt = true;
    if (out_so) {
        rc = aot_compile(module, opts, out_so, &err);
        snprintf(so, sizeof so, "%s", out_so);
    } else {
        rc = aot_cache_ensure(module, opts, so, sizeof so, &rebuilt, &err);
    }
    double dt = now_s() - t0;
    if (rc) {
        fprintf(stderr, "faaslet codegen: %s: %s: %s\n", file, fl_error_name(err.code), err.msg);
    } else {
        printf("%s: %s %s (%.1f KiB wasm, %.3f s, %.2f s/MiB)\n", file, rebuilt ? "compiled to" : "cached in",
               so, (double)size / 1024, dt, size ? dt / ((double)size / (1 << 20)) : 0.0);
    }
    wasm_module_destroy(module);
    return rc ? 1 : 0;
}

int cli_codegen(int argc, char **argv)
{
    struct aot_options opts;
    aot_options_default(&opts);
    char cache[4096];
    const char *cache_dir = NULL, *out_so = NULL;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--cache") && i + 1 < argc) {
            cache_dir = argv[++i];
        } else if (!strncmp(a, "--cache=", 8)) {
            cache_dir = a + 8;
        } else if (!strcmp(a, "-o") && i + 1 < argc) {
            out_so = argv[++i];
        } else if (a[1] == 'O' && a[2] >= '0' && a[2] <= '3' && !a[3]) {
            opts.opt_level = a[2] - '0';
        } else if (!strcmp(a, "--bounds-checks")) {
            opts.bounds_checks = true;
        } else if (!strcmp(a, "--no-interrupt-checks")) {
            opts.interrupt_checks = false;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage();
            return 0;
        } else {
            fprintf(stderr, "faaslet codegen: unknown option %s\n", a);
            return usage();
        }
    }
    if (i >= argc)
        return usage();
    if (out_so && argc - i != 1) {
        fprintf(stderr, "faaslet codegen: -o takes exactly one module\n");
        return usage();
    }
    if (!out_so) {
        if (!cache_dir)
            cache_dir = aot_cache_dir_default(cache, sizeof cache);
        if (!cache_dir) {
            fprintf(stderr, "faaslet codegen: no cache folder (set FAASLET_CACHE or HOME, or pass --cache)\n");
            return 2;
        }
        opts.cache_dir = cache_dir;
    }
    int status = 0;
    for (; i < argc; i++)
        if (codegen_one(argv[i], &opts, out_so) != 0)
            status = 1;
    return status;
}
