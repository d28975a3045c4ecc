/* aot_internal.h: the contract between generated code and the C side of the
 * compiled tier: the per-instance context (vmctx), the per-call thread
 * context, the helper table, and the table a compiled object exports. The
 * code generator hard-codes these offsets, so AOT_ABI_VERSION changes with them. */
#ifndef FL_AOT_INTERNAL_H
#define FL_AOT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aot/aot.h"

#define AOT_ABI_VERSION 3u

/* Native signature of a compiled function of wasm type (p...) -> (r...):
 *   R f(struct aot_vmctx *, struct aot_thread *, p...)
 * with i32/i64/f32/f64 as themselves, refs as i64, R void / the single result
 * / a struct of the results. Its entry trampoline is
 *   void entry(struct aot_vmctx *, struct aot_thread *, uint64_t *cells). */
typedef void (*aot_entry_fn)(void *vmctx, void *thread, uint64_t *cells);

/* One row per defined function, exported by the object as faaslet_aot_code. */
struct aot_code {
    void *native;
    aot_entry_fn entry;
};

/* Exported by the object as faaslet_aot_info. */
struct aot_info {
    uint32_t abi_version;
    uint32_t func_count;    /* defined functions = rows of faaslet_aot_code */
    uint32_t flags;         /* AOT_FLAG_* the object was built with */
    uint32_t reserved;
};
#define AOT_FLAG_BOUNDS_CHECKS 1u
#define AOT_FLAG_INTERRUPT_CHECKS 2u

/* Per call chain: built on the C stack by aot_invoke, passed to every
 * compiled function. */
struct aot_thread {
    struct runtime_exec *exec;
    uintptr_t stack_limit;     /* trap when the stack pointer goes below */
    _Atomic int *interrupt;    /* &exec->interrupt */
};

/* Helpers compiled code calls through vmctx->helpers (the .so links against
 * nothing of ours). Indices are part of the ABI. */
enum aot_helper {
    AOT_HELPER_TRAP,          /* void (vmctx, thread, i32 trap, i32 func) noreturn */
    AOT_HELPER_MEMORY_GROW,   /* i32 (vmctx, i32 delta) */
    AOT_HELPER_MEMORY_FILL,   /* void (vmctx, thread, i32 d, i32 val, i32 n) */
    AOT_HELPER_MEMORY_COPY,   /* void (vmctx, thread, i32 d, i32 s, i32 n) */
    AOT_HELPER_MEMORY_INIT,   /* void (vmctx, thread, i32 seg, i32 d, i32 s, i32 n) */
    AOT_HELPER_DATA_DROP,     /* void (vmctx, i32 seg) */
    AOT_HELPER_TABLE_GET,     /* i64 (vmctx, thread, i32 table, i32 i) */
    AOT_HELPER_TABLE_SET,     /* void (vmctx, thread, i32 table, i32 i, i64 v) */
    AOT_HELPER_TABLE_SIZE,    /* i32 (vmctx, i32 table) */
    AOT_HELPER_TABLE_GROW,    /* i32 (vmctx, i32 table, i64 init, i32 delta) */
    AOT_HELPER_TABLE_FILL,    /* void (vmctx, thread, i32 table, i32 i, i64 v, i32 n) */
    AOT_HELPER_TABLE_COPY,    /* void (vmctx, thread, i32 dt, i32 st, i32 d, i32 s, i32 n) */
    AOT_HELPER_TABLE_INIT,    /* void (vmctx, thread, i32 table, i32 seg, i32 d, i32 s, i32 n) */
    AOT_HELPER_ELEM_DROP,     /* void (vmctx, i32 seg) */
    AOT_HELPER_TRAP_INDEX,    /* void (vmctx, thread, i32 trap, i32 index, i32 func) noreturn:
                                 "... element N" */
    AOT_HELPER_ATOMIC_WAIT,   /* i32 (vmctx, thread, i64 ea, i64 expected, i32 is64, i64 timeout) */
    AOT_HELPER_ATOMIC_NOTIFY, /* i32 (vmctx, thread, i64 ea, i32 count) */
    AOT_HELPER_COUNT
};

/* Per instance; built by aot_tier.instance_init. Every field is constant for
 * the instance's life, which lets generated code mark its loads invariant. */
struct aot_vmctx {
    uint8_t *mem_base;                 /* memory 0, or NULL */
    struct runtime_memory *memory;     /* memory 0, or NULL */
    struct runtime_instance *instance;
    void *const *helpers;              /* AOT_HELPER_COUNT function pointers */
    uint64_t **globals;                /* &instance->globals[i]->cells[0] */
    struct runtime_table **tables;     /* instance->tables */
    struct runtime_func **funcs;       /* instance->funcs */
    uint32_t *type_ids;                /* store type id of each module type */
    runtime_invoke_fn aot_invoke;      /* to recognise compiled callees */
    /* A per-thread clone's origin (instance->origin), else NULL: compiled
     * callees of the origin (funcrefs in shared tables) run with the
     * caller's context, so a thread keeps its own globals. */
    struct runtime_instance *origin;
};

/* The loaded object. */
struct aot_module {
    const struct wasm_module *module;
    void *handle;                      /* dlopen handle, or the in-process link's */
    bool in_process;                   /* linked by aot_link_in_process */
    const struct aot_code *codes;      /* module->func_count - import_func_count rows */
    uint32_t flags;
    bool from_cache;
};

/* Trap from compiled code or a helper: records trap on the exec and jumps
 * to its recovery point. Never returns. */
_Noreturn void aot_trap(struct aot_thread *thread, int trap);

/* memory.atomic.wait / notify for compiled code (threads.c); trap via aot_trap. */
int32_t aot_helper_atomic_wait(struct aot_vmctx *vm, struct aot_thread *t, uint64_t ea, uint64_t expected,
                               uint32_t is64, int64_t timeout);
int32_t aot_helper_atomic_notify(struct aot_vmctx *vm, struct aot_thread *t, uint64_t ea, uint32_t count);

/* Helper table shared by every instance (read-only). */
extern void *const aot_helpers[AOT_HELPER_COUNT];

/* runtime_invoke_fn of compiled functions. */
int aot_invoke(struct runtime_exec *exec, struct runtime_instance *caller,
               struct runtime_func *func, uint64_t *cells);

/* The host CPU's identity for cache keys (vendor, model signature, feature
 * bits: what LLVM's host CPU name and features are derived from). */
void aot_cpu_identity(char *buf, size_t n);

/* Links an object into the process without ld.lld (the compiler module's
 * ORC JIT linker); *handle is freed by aot_unlink_in_process. */
int aot_link_in_process(const uint8_t *obj, size_t n, void **handle, const struct aot_info **info,
                        const struct aot_code **codes, struct fl_error *err);
void aot_unlink_in_process(void *handle);

/* Loads a verified shared object for module; *out owned by the caller. */
int aot_module_open(const struct wasm_module *module, const char *so_path,
                    struct aot_module **out, struct fl_error *err);

#endif
