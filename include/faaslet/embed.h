/* embed.h: the embedding API of the faaslet WebAssembly engine.
 * Load and validate a module, give it host functions, instantiate, call an
 * export, read the trap. Handles are opaque; each _create/_load has a
 * matching _destroy and the comment on each function says who owns what.
 * (Implemented in src/engine/engine.c over the runtime and a tier.)
 * Not named faaslet/faaslet.h: that is the Faaslet part's header
 * (src/faaslet/faaslet.h), which comes first on the include path.
 *
 *   fl_engine_t *e = fl_engine_create(NULL, &err);
 *   fl_module_t *m; fl_module_load(e, bytes, size, &m, &err);
 *   fl_instance_t *i; fl_instantiate(e, m, &i, &err);
 *   fl_value_t arg = FL_VALUE_I32(7), res;
 *   int trap = fl_call(i, "fib", &arg, 1, &res, 1, &err);
 *
 * Threads: an engine (and its instances) is used by one thread at a time;
 * fl_engine_interrupt may be called from any thread. A module may be shared
 * by any number of engines and threads. */
#ifndef FASLET_EMBED_H
#define FASLET_EMBED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* struct fl_error { int code; char msg[256]; } and the FL_ERR_* codes. */
#include "util/error.h"

typedef struct fl_engine fl_engine_t;
typedef struct fl_module fl_module_t;
typedef struct fl_instance fl_instance_t;
typedef struct fl_caller fl_caller_t;

/* Value types, by their WebAssembly binary encoding. */
enum fl_valtype {
    FL_I32 = 0x7F,
    FL_I64 = 0x7E,
    FL_F32 = 0x7D,
    FL_F64 = 0x7C,
    FL_V128 = 0x7B,
    FL_FUNCREF = 0x70,
    FL_EXTERNREF = 0x6F,
};

typedef struct fl_value {
    uint8_t type; /* enum fl_valtype */
    union {
        int32_t i32;
        int64_t i64;
        float f32;
        double f64;
        uint8_t v128[16];
        void *ref; /* NULL = null reference; externref: any host pointer */
    } of;
} fl_value_t;

#define FL_VALUE_I32(v) ((fl_value_t){.type = FL_I32, .of.i32 = (v)})
#define FL_VALUE_I64(v) ((fl_value_t){.type = FL_I64, .of.i64 = (v)})
#define FL_VALUE_F32(v) ((fl_value_t){.type = FL_F32, .of.f32 = (v)})
#define FL_VALUE_F64(v) ((fl_value_t){.type = FL_F64, .of.f64 = (v)})

/* Why fl_call stopped, beyond returning normally (FL_TRAP_NONE). Same
 * numbers as the runtime's traps. */
enum fl_trap {
    FL_TRAP_NONE = 0,
    FL_TRAP_UNREACHABLE,
    FL_TRAP_MEMORY_OUT_OF_BOUNDS,
    FL_TRAP_INT_DIVIDE_BY_ZERO,
    FL_TRAP_INT_OVERFLOW,
    FL_TRAP_INVALID_CONVERSION,
    FL_TRAP_INDIRECT_CALL_TYPE_MISMATCH,
    FL_TRAP_UNDEFINED_ELEMENT,
    FL_TRAP_UNINITIALIZED_ELEMENT,
    FL_TRAP_TABLE_OUT_OF_BOUNDS,
    FL_TRAP_NULL_REFERENCE,
    FL_TRAP_CALL_STACK_EXHAUSTED,
    FL_TRAP_UNALIGNED_ATOMIC,
    FL_TRAP_INTERRUPTED,
    FL_TRAP_EXIT,
    FL_TRAP_HOST,
    FL_TRAP_EXPECTED_SHARED_MEMORY, /* memory.atomic.wait on an unshared memory */
};

/* Engine settings; fl_engine_create(NULL, ...) takes the defaults (zeros). */
struct fl_engine_config {
    const char *tier;     /* "interp" (default) or "aot" (LLVM-compiled native code) */
    uint32_t stack_cells; /* interpreter value stack, in 64-bit cells (0 = 1M) */
    uint32_t max_depth;   /* wasm call depth before "call stack exhausted" (0 = 10000) */
    bool bounds_checks;   /* explicit bounds checks instead of guard regions (saves address space) */
    const char *cache_dir; /* "aot": object cache folder (NULL: compile every load, no cache) */
};

/* Creates an engine: a store for instances, a linker of named imports and an
 * execution context for the calling thread. NULL (and err) on failure.
 * Destroy with fl_engine_destroy, which frees every instance made in it. */
fl_engine_t *fl_engine_create(const struct fl_engine_config *config, struct fl_error *err);
void fl_engine_destroy(fl_engine_t *engine);

/* Asks the call running in engine to stop with FL_TRAP_INTERRUPTED. Any thread. */
void fl_engine_interrupt(fl_engine_t *engine);

/* Decodes, validates and compiles a binary module (bytes are copied) with the
 * engine's tier. *out is the caller's: fl_module_destroy it whenever; engines
 * keep what their instances need alive. Errors: FL_ERR_MALFORMED,
 * FL_ERR_INVALID, FL_ERR_NOMEM, FL_ERR_LIMIT. */
int fl_module_load(fl_engine_t *engine, const uint8_t *bytes, size_t size, fl_module_t **out,
                   struct fl_error *err);
void fl_module_destroy(fl_module_t *module);

/* What a host function gets: args (per its params) and results to fill (per
 * its results). Return 0, or fl_caller_trap(...) to trap the wasm call. */
typedef int (*fl_host_fn)(fl_caller_t *caller, const fl_value_t *args, fl_value_t *results,
                          void *data);

/* Makes module_name.name importable as a host function with the given
 * signature (types are enum fl_valtype; copied). data is passed to fn and
 * stays the caller's. A later definition of the same name replaces it. */
int fl_define_host_func(fl_engine_t *engine, const char *module_name, const char *name,
                        const uint8_t *params, uint32_t param_count, const uint8_t *results,
                        uint32_t result_count, fl_host_fn fn, void *data, struct fl_error *err);

/* The linear memory (memory 0) of the instance calling a host function, or
 * NULL if it has none; *size gets its size in bytes. Valid until the host
 * function returns or wasm grows the memory's size (the base never moves). */
uint8_t *fl_caller_memory(fl_caller_t *caller, size_t *size);

/* Records why a host function fails; return its result from the callback. */
int fl_caller_trap(fl_caller_t *caller, const char *message);

/* Instantiates module in engine, resolving imports from host functions and
 * registered instances. *out is owned by the engine. Errors:
 * FL_ERR_UNLINKABLE, FL_ERR_UNINSTANTIABLE, FL_ERR_TRAP (start function). */
int fl_instantiate(fl_engine_t *engine, fl_module_t *module, fl_instance_t **out,
                   struct fl_error *err);

/* Makes every export of instance importable under module name `as`. */
int fl_register(fl_engine_t *engine, const char *as, fl_instance_t *instance,
                struct fl_error *err);

/* Calls exported function export_name. args must match its params (types
 * checked); results receives its results (nresults must equal their count).
 * Returns FL_TRAP_NONE (0), a positive enum fl_trap (err->msg says which:
 * the trap message, or a host function's message), or a negative FL_ERR_*
 * for a bad call (FL_ERR_NOT_FOUND, FL_ERR_ARG). */
int fl_call(fl_instance_t *instance, const char *export_name, const fl_value_t *args,
            size_t nargs, fl_value_t *results, size_t nresults, struct fl_error *err);

/* The exit status after fl_call returned FL_TRAP_EXIT (WASI proc_exit). */
int fl_instance_exit_code(fl_instance_t *instance);

/* The spec's text of a trap ("integer divide by zero"). Static string. */
const char *fl_trap_message(int trap);

/* The instance's memory 0 (NULL if none) and its size in bytes. The base never
 * moves; the size changes when wasm grows it. */
uint8_t *fl_instance_memory(fl_instance_t *instance, size_t *size);

/* Reads / writes an exported global. FL_ERR_NOT_FOUND, or FL_ERR_ARG for a
 * type mismatch or an immutable global. */
int fl_global_get(fl_instance_t *instance, const char *name, fl_value_t *out,
                  struct fl_error *err);
int fl_global_set(fl_instance_t *instance, const char *name, const fl_value_t *value,
                  struct fl_error *err);

#endif
