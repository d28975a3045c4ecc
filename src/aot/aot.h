/* aot.h: tier 1, the compiled tier. A validated module is translated to LLVM
 * IR, optimised, emitted as a native object for the host CPU, linked into a
 * shared object with ld.lld and loaded with dlopen. Compiled objects can be
 * kept in an on-disk cache keyed by the module's hash, the engine and LLVM
 * versions and the CPU, and are verified before they are loaded. */
#ifndef FL_AOT_AOT_H
#define FL_AOT_AOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/runtime.h"
#include "wasm/wasm.h"

/* Bumped whenever generated code or the vmctx layout changes: part of the
 * cache key, so old cache entries are never loaded by a newer engine. */
#define AOT_ENGINE_VERSION "faaslet-aot-1"

struct aot_options {
    int opt_level;          /* LLVM optimisation level 0..3 (default 2) */
    bool bounds_checks;     /* explicit bounds checks instead of guard pages */
    bool interrupt_checks;  /* poll the interrupt flag at loop heads and calls (default on) */
    const char *cache_dir;  /* object cache folder, or NULL for no cache */
    bool link_in_process;   /* uncached loads: link with LLVM's JIT linker (large code
                               model) instead of ld.lld + dlopen; saves ~130 ms a module */
};

/* Compiled code of one module, loaded into the process. */
struct aot_module;

/* Fills opts with the defaults (O2, guard pages, interrupt checks, no cache),
 * adjusted by $FAASLET_AOT_FLAGS ("O0".."O3", "no-interrupt-checks",
 * "bounds-checks", "jit": link_in_process). */
void aot_options_default(struct aot_options *opts);

/* The default cache folder: $FAASLET_CACHE, else $XDG_CACHE_HOME/faaslet,
 * else ~/.cache/faaslet. Writes into buf (size n); returns buf, or NULL if
 * no folder can be determined. */
const char *aot_cache_dir_default(char *buf, size_t n);

/* Translates module to a native object for the host CPU. *obj is malloc'd and
 * owned by the caller. SIMD and atomics are rejected with FL_ERR_INVALID
 * ("... unsupported in aot"). */
int aot_compile_object(const struct wasm_module *module, const struct aot_options *opts,
                       uint8_t **obj, size_t *obj_size, struct fl_error *err);

/* Links an object into the shared object so_path with ld.lld. */
int aot_link_shared(const uint8_t *obj, size_t obj_size, const char *so_path,
                    struct fl_error *err);

/* Compiles module into the shared object so_path (compile + link). */
int aot_compile(const struct wasm_module *module, const struct aot_options *opts,
                const char *so_path, struct fl_error *err);

/* The cache key of module under opts (64 hex digits + NUL into key). */
int aot_cache_key(const struct wasm_module *module, const struct aot_options *opts,
                  char key[65], struct fl_error *err);

/* Makes sure a valid cache entry for module exists in opts->cache_dir,
 * compiling it if it is missing, stale, truncated or tampered. *rebuilt says
 * whether it was compiled (may be NULL). Writes the .so path into so_path. */
int aot_cache_ensure(const struct wasm_module *module, const struct aot_options *opts,
                     char *so_path, size_t n, bool *rebuilt, struct fl_error *err);

/* Compiles (or fetches from opts->cache_dir when set) and loads module's
 * code. *out is owned by the caller (aot_module_destroy) and must not
 * outlive module nor any instance created from it. */
int aot_module_load(const struct wasm_module *module, const struct aot_options *opts,
                    struct aot_module **out, struct fl_error *err);

/* True if the last aot_module_load of this module came from the cache. */
bool aot_module_from_cache(const struct aot_module *amodule);

void aot_module_destroy(struct aot_module *amodule);

/* The tier descriptor to pass to runtime_instantiate with an aot_module. */
extern const struct runtime_tier aot_tier;

#endif
