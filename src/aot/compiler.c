/* compiler.c: finds and loads the LLVM compiler module (src/aot/llvm, built
 * as libfaaslet_aot_llvm.so) the first time something must be compiled.
 * Processes that only run interpreted or cached code never map LLVM, which
 * saves tens of milliseconds of relocations at every process start.
 *
 * Process-wide state: the module handle and entry point, set once under
 * pthread_once and read-only afterwards. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aot/aot_internal.h"

#ifndef FL_AOT_LLVM_MODULE
#define FL_AOT_LLVM_MODULE ""
#endif
#define MODULE_NAME "libfaaslet_aot_llvm.so"

typedef int (*compile_fn)(uint32_t abi_version, const struct wasm_module *module,
                          const struct aot_options *opts, uint8_t **obj, size_t *obj_size,
                          struct fl_error *err);

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
typedef int (*link_fn)(uint32_t abi_version, const uint8_t *obj, size_t n, void **handle, const void **info,
                       const void **codes, struct fl_error *err);
typedef void (*unlink_fn)(void *handle);

static compile_fn compile_entry;
static link_fn link_entry;
static unlink_fn unlink_entry;
static char load_error[200];

static bool try_load(const char *path)
{
    if (!path || !*path || access(path, R_OK) != 0)
        return false;
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(load_error, sizeof load_error, "cannot load %s: %s", path, e ? e : "?");
        return false;
    }
    compile_entry = (compile_fn)dlsym(h, "aot_llvm_compile_object");
    if (!compile_entry) {
        snprintf(load_error, sizeof load_error, "%s has no aot_llvm_compile_object", path);
        dlclose(h);
        return false;
    }
    link_entry = (link_fn)dlsym(h, "aot_llvm_link_in_process");
    unlink_entry = (unlink_fn)dlsym(h, "aot_llvm_unlink");
    return true;
}

/* $FAASLET_AOT_COMPILER, the build tree's module, then next to the
 * executable (bin/../lib/faaslet/, bin/../lib/, bin/). */
static void load_module(void)
{
    if (try_load(getenv("FAASLET_AOT_COMPILER")) || try_load(FL_AOT_LLVM_MODULE))
        return;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            static const char *const rel[] = {"/../lib/faaslet/", "/../lib/", "/"};
            for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
                char path[PATH_MAX + 64];
                snprintf(path, sizeof path, "%s%s%s", exe, rel[i], MODULE_NAME);
                if (try_load(path))
                    return;
            }
        }
    }
    if (!load_error[0])
        snprintf(load_error, sizeof load_error,
                 "compiler module %s not found (set FAASLET_AOT_COMPILER)", MODULE_NAME);
}

int aot_compile_object(const struct wasm_module *module, const struct aot_options *opts,
                       uint8_t **obj, size_t *obj_size, struct fl_error *err)
{
    pthread_once(&load_once, load_module);
    if (!compile_entry)
        return fl_error_set(err, FL_ERR_INTERNAL, "aot: %s", load_error);
    return compile_entry(AOT_ABI_VERSION, module, opts, obj, obj_size, err);
}

int aot_link_in_process(const uint8_t *obj, size_t n, void **handle, const struct aot_info **info,
                        const struct aot_code **codes, struct fl_error *err)
{
    pthread_once(&load_once, load_module);
    if (!link_entry || !unlink_entry)
        return fl_error_set(err, FL_ERR_INTERNAL, "aot: %s", load_error[0] ? load_error : "compiler module cannot link in process");
    const void *i = NULL, *c = NULL;
    int rc = link_entry(AOT_ABI_VERSION, obj, n, handle, &i, &c, err);
    *info = i;
    *codes = c;
    return rc;
}

void aot_unlink_in_process(void *handle)
{
    /* Only handles from aot_link_in_process exist, so the module is loaded. */
    unlink_entry(handle);
}
