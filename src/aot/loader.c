/* loader.c: loads compiled code with dlopen, from the cache (after the
 * sidecar check) or from a fresh compile in a private temporary folder that
 * is removed as soon as the object is mapped. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aot/aot_internal.h"
#include "aot/cache.h"

int aot_module_open(const struct wasm_module *module, const char *so_path, struct aot_module **out,
                    struct fl_error *err)
{
    void *h = dlopen(so_path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        return fl_error_set(err, FL_ERR_IO, "aot: cannot load %s: %s", so_path, e ? e : "?");
    }
    const struct aot_info *info = dlsym(h, "faaslet_aot_info");
    const struct aot_code *codes = dlsym(h, "faaslet_aot_code");
    uint32_t ndef = module->func_count - module->import_func_count;
    if (!info || !codes || info->abi_version != AOT_ABI_VERSION || info->func_count != ndef) {
        dlclose(h);
        return fl_error_set(err, FL_ERR_INVALID, "aot: %s is not compiled code of this module for this engine",
                            so_path);
    }
    struct aot_module *am = calloc(1, sizeof *am);
    if (!am) {
        dlclose(h);
        return fl_error_set(err, FL_ERR_NOMEM, "aot: out of memory");
    }
    am->module = module;
    am->handle = h;
    am->codes = codes;
    am->flags = info->flags;
    *out = am;
    return FL_OK;
}

/* Compile and link in process: no linker process, no temporary files. */
static int load_in_process(const struct wasm_module *module, const struct aot_options *opts,
                           struct aot_module **out, struct fl_error *err)
{
    uint8_t *obj = NULL;
    size_t n = 0;
    int rc = aot_compile_object(module, opts, &obj, &n, err);
    void *h = NULL;
    const struct aot_info *info = NULL;
    const struct aot_code *codes = NULL;
    if (!rc)
        rc = aot_link_in_process(obj, n, &h, &info, &codes, err);
    free(obj);
    if (rc)
        return rc;
    uint32_t ndef = module->func_count - module->import_func_count;
    struct aot_module *am = NULL;
    if (!info || !codes || info->abi_version != AOT_ABI_VERSION || info->func_count != ndef)
        rc = fl_error_set(err, FL_ERR_INTERNAL, "aot: in-process link gave no code tables for this module");
    else if (!(am = calloc(1, sizeof *am)))
        rc = fl_error_set(err, FL_ERR_NOMEM, "aot: out of memory");
    if (rc) {
        aot_unlink_in_process(h);
        return rc;
    }
    am->module = module;
    am->handle = h;
    am->in_process = true;
    am->codes = codes;
    am->flags = info->flags;
    *out = am;
    return FL_OK;
}

static int load_uncached(const struct wasm_module *module, const struct aot_options *opts,
                         struct aot_module **out, struct fl_error *err)
{
    if (opts->link_in_process)
        return load_in_process(module, opts, out, err);
    const char *tmp = getenv("TMPDIR");
    char dir[4096], so[4200];
    snprintf(dir, sizeof dir, "%s/faaslet-aot-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return fl_error_set(err, FL_ERR_IO, "aot: cannot create a temporary folder: %s", strerror(errno));
    snprintf(so, sizeof so, "%s/module.so", dir);
    int rc = aot_compile(module, opts, so, err);
    if (!rc)
        rc = aot_module_open(module, so, out, err);
    unlink(so);
    rmdir(dir);
    return rc;
}

static int load_cached(const struct wasm_module *module, const struct aot_options *opts,
                       struct aot_module **out, struct fl_error *err)
{
    /* Twice at most: if the file changes between the check and dlopen
     * (someone rewrote the entry), check and build again. */
    for (int attempt = 0; attempt < 2; attempt++) {
        char so[4200];
        bool rebuilt = false;
        struct stat checked, loaded;
        int rc = aot_cache_ensure_stat(module, opts, so, sizeof so, &rebuilt, &checked, err);
        if (rc)
            return rc;
        rc = aot_module_open(module, so, out, err);
        if (rc)
            return rc;
        if (stat(so, &loaded) == 0 && loaded.st_dev == checked.st_dev && loaded.st_ino == checked.st_ino) {
            (*out)->from_cache = !rebuilt;
            return FL_OK;
        }
        aot_module_destroy(*out);
        *out = NULL;
    }
    return fl_error_set(err, FL_ERR_IO, "aot: cache entry keeps changing under %s", opts->cache_dir);
}

int aot_module_load(const struct wasm_module *module, const struct aot_options *opts,
                    struct aot_module **out, struct fl_error *err)
{
    *out = NULL;
    if (opts->cache_dir && *opts->cache_dir)
        return load_cached(module, opts, out, err);
    return load_uncached(module, opts, out, err);
}

bool aot_module_from_cache(const struct aot_module *amodule)
{
    return amodule->from_cache;
}

void aot_module_destroy(struct aot_module *amodule)
{
    if (!amodule)
        return;
    if (amodule->in_process)
        aot_unlink_in_process(amodule->handle);
    else
        dlclose(amodule->handle);
    free(amodule);
}
