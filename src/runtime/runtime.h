/* runtime.h: live WebAssembly objects (memories, tables, globals, functions,
 * instances), the store that owns them, linking, calls and traps.
 *
 * Tiers (the interpreter, later compiled code) plug in through struct
 * runtime_tier: the runtime creates one runtime_func per defined function and
 * calls it through func->invoke, so it never needs to know which tier runs it.
 *
 * Calling convention ("cells"): arguments are laid out in an array of 64-bit
 * cells, one per value (two for v128, low half first); results are written
 * back into the same array from cell 0. The array must hold
 * max(param cells, result cells). Refs are stored as uintptr_t in a cell,
 * 0 = null; a funcref is a struct runtime_func *. */
#ifndef FL_RUNTIME_RUNTIME_H
#define FL_RUNTIME_RUNTIME_H

#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"
#include "wasm/wasm.h"

struct runtime_store;
struct runtime_instance;
struct runtime_func;
struct runtime_exec;

/* Why a call stopped. 0 = it returned normally. */
enum runtime_trap {
    RUNTIME_OK = 0,
    RUNTIME_TRAP_UNREACHABLE,
    RUNTIME_TRAP_MEMORY_OUT_OF_BOUNDS,
    RUNTIME_TRAP_INT_DIVIDE_BY_ZERO,
    RUNTIME_TRAP_INT_OVERFLOW,
    RUNTIME_TRAP_INVALID_CONVERSION,
    RUNTIME_TRAP_INDIRECT_CALL_TYPE_MISMATCH,
    RUNTIME_TRAP_UNDEFINED_ELEMENT,      /* call_indirect index past the table */
    RUNTIME_TRAP_UNINITIALIZED_ELEMENT,  /* call_indirect of a null entry */
    RUNTIME_TRAP_TABLE_OUT_OF_BOUNDS,    /* table.get/set/fill/copy/init */
    RUNTIME_TRAP_NULL_REFERENCE,
    RUNTIME_TRAP_CALL_STACK_EXHAUSTED,
    RUNTIME_TRAP_UNALIGNED_ATOMIC,
    RUNTIME_TRAP_INTERRUPTED,            /* timeout / runtime_exec_interrupt */
    RUNTIME_TRAP_EXIT,                   /* WASI proc_exit; exec->exit_code holds the status */
    RUNTIME_TRAP_HOST,                   /* a host function failed; exec->trap_msg says why */
    RUNTIME_TRAP_EXPECTED_SHARED_MEMORY, /* memory.atomic.wait on an unshared memory */
    RUNTIME_TRAP_COUNT
};

/* The spec's text for a trap ("integer divide by zero", ...). Static string. */
const char *runtime_trap_message(int trap);

/* Entry point of a function of any kind (tier code or host). caller is the
 * instance whose code made the call (host functions use its memory); cells per
 * the calling convention above. Returns RUNTIME_OK or a trap. */
typedef int (*runtime_invoke_fn)(struct runtime_exec *exec, struct runtime_instance *caller,
                                 struct runtime_func *func, uint64_t *cells);

/* A host function: same contract as runtime_invoke_fn, plus its data pointer. */
typedef int (*runtime_host_fn)(struct runtime_exec *exec, struct runtime_instance *caller,
                               uint64_t *cells, void *host_data);

struct runtime_func {
    const struct wasm_functype *type;
    uint32_t type_id;            /* store-wide id; equal ids <=> equal signatures */
    uint32_t param_cells;
    uint32_t result_cells;
    runtime_invoke_fn invoke;
    struct runtime_instance *instance; /* owning instance; NULL for host functions */
    uint32_t index;              /* index in the owning module's function space */
    void *code;                  /* tier-specific code for this function */
    runtime_host_fn host_fn;     /* host functions only */
    void *host_data;
    const char *name;            /* for messages; may be NULL */
};

struct runtime_memory {
    uint8_t *base;               /* start of the reservation; never moves */
    _Atomic uint64_t size;       /* accessible bytes (pages * 64 KiB) */
    uint64_t max_pages;          /* declared maximum, or WASM_MAX_PAGES */
    uint64_t reserved;           /* bytes of address space reserved, guards included */
    bool shared;
    bool has_max;                /* a maximum was declared (import matching) */
    /* true: accesses past size fault in the guard region (no checks needed);
     * false: bounds-checked mode, the reservation is only max_pages big and
     * tiers must check every access against size themselves. */
    bool guarded;
    pthread_mutex_t grow_lock;   /* serialises grow */
};

struct runtime_table {
    uint8_t elem_type;
    uint32_t size;
    uint32_t max;                /* UINT32_MAX-ish when unbounded, capped by WASM_MAX_TABLE_SIZE */
    uintptr_t *elems;            /* size entries; 0 = null; moves on grow */
    bool has_max;                /* a maximum was declared (import matching) */
};

struct runtime_global {
    uint8_t type;
    bool is_mutable;
    uint64_t cells[2];           /* value (v128 uses both) */
};

/* One import or export. */
struct runtime_extern {
    uint8_t kind;                /* enum wasm_extern_kind */
    union {
        struct runtime_func *func;
        struct runtime_table *table;
        struct runtime_memory *memory;
        struct runtime_global *global;
    } as;
};

struct runtime_instance {
    struct runtime_store *store;
    const struct wasm_module *module;
    struct runtime_func **funcs;       /* module->func_count */
    struct runtime_table **tables;     /* module->table_count */
    struct runtime_memory **memories;  /* module->memory_count */
    struct runtime_global **globals;   /* module->global_count */
    uint8_t *elem_dropped;             /* module->elem_count flags */
    uint8_t *data_dropped;             /* module->data_count flags */
    void *tier_module;                 /* the tier's compiled module */
    void *tier_instance;               /* the tier's per-instance data (from tier->instance_init) */
    void *user_data;                   /* embedder's (WASI context, Faaslet) */
    /* A per-thread clone (runtime_instance_clone): the instance it clones,
     * whose functions (in tables, ref.func) tiers run as the clone's own, so
     * they see the clone's globals. NULL for ordinary instances. */
    struct runtime_instance *origin;
};

/* How a tier plugs into instantiation. */
struct runtime_tier {
    const char *name;                  /* "interp", "aot" */
    runtime_invoke_fn invoke;          /* entry for every defined function */
    /* Code handle for defined function func_index of tier_module. */
    void *(*func_code)(void *tier_module, uint32_t func_index);
    /* Optional (may be NULL): called by runtime_instantiate once the
     * instance's objects exist and before segments/start run, to build
     * instance->tier_instance; and when the store frees the instance. */
    int (*instance_init)(struct runtime_instance *instance, struct fl_error *err);
    void (*instance_fini)(struct runtime_instance *instance);
    /* Optional: the defined function of tier_module whose native code holds
     * pc, for naming the function a fault happened in. False if none. */
    bool (*func_at_pc)(void *tier_module, uintptr_t pc, uint32_t *func_index);
};

/* Per-thread execution context: a thread running wasm owns one. */
struct runtime_exec {
    struct runtime_store *store;
    _Atomic int interrupt;       /* set from any thread to stop the running call */
    uint32_t depth;              /* current wasm call depth */
    uint32_t max_depth;          /* call stack exhaustion limit */
    uint64_t *stack;             /* interpreter value stack (cells) */
    uint64_t *stack_end;
    int exit_code;               /* valid after RUNTIME_TRAP_EXIT */
    /* Details of the last trap: for RUNTIME_TRAP_HOST, why the host function
     * failed; for other traps a tier may write a longer text that starts with
     * runtime_trap_message(trap), e.g. "uninitialized element 2". runtime_call
     * clears it when it enters wasm from the host (outermost call). */
    char trap_msg[256];
    uint32_t trap_func;          /* function index that trapped, if known */
    const struct wasm_module *trap_module;
    /* Signal recovery: set by runtime_call while wasm runs on this thread. */
    sigjmp_buf *recover;
    volatile int fault_trap;
    void *tier_state;            /* scratch owned by the running tier */
    /* The initialising thread's native stack [lo, hi): a fault just below lo
     * while wasm runs is a native stack overflow -> call stack exhausted. */
    uintptr_t native_stack_lo, native_stack_hi;
    /* Program counter of the last fault turned into a trap (0 if none):
     * lets runtime_call name the compiled function that faulted. */
    uintptr_t fault_pc;
};

/* Creates an empty store; destroy with runtime_store_destroy, which frees
 * every object created in it. NULL on allocation failure. */
struct runtime_store *runtime_store_create(void);
void runtime_store_destroy(struct runtime_store *store);

/* Interns a signature into the store; returns its id (equal signatures get
 * equal ids). The store keeps its own copy. */
uint32_t runtime_store_type_id(struct runtime_store *store, const struct wasm_functype *type);

/* Chooses how memories created from now on are laid out: with guard regions
 * (the default; 8 GiB of address space each, no bounds checks needed) or
 * bounds-checked (memory->guarded = false; only max pages reserved). */
void runtime_store_set_guard_pages(struct runtime_store *store, bool guard_pages);

/* Creates a host function in the store; type is copied. NULL on failure. */
struct runtime_func *runtime_host_func_create(struct runtime_store *store,
                                              const struct wasm_functype *type,
                                              runtime_host_fn fn, void *host_data,
                                              const char *name);

/* Creates a memory (reserving address space with guard pages) in the store. */
struct runtime_memory *runtime_memory_create(struct runtime_store *store,
                                             const struct wasm_limits *limits,
                                             struct fl_error *err);
/* Grows by delta pages; returns the old size in pages or -1 if it cannot. */
int64_t runtime_memory_grow(struct runtime_memory *memory, uint64_t delta_pages);
/* Pointer to [addr, addr+len) in memory, or NULL if out of bounds. Never allocates. */
void *runtime_memory_ptr(struct runtime_memory *memory, uint64_t addr, uint64_t len);

/* Threads (wait.c): memory.atomic.wait32 (is64 false) / wait64 at effective
 * address ea. Traps: RUNTIME_TRAP_UNALIGNED_ATOMIC, then
 * RUNTIME_TRAP_MEMORY_OUT_OF_BOUNDS, then RUNTIME_TRAP_EXPECTED_SHARED_MEMORY,
 * or RUNTIME_TRAP_INTERRUPTED if exec is interrupted while parked. Otherwise
 * *result is 0 (woken by notify), 1 (value != expected) or 2 (timed out
 * after timeout_ns; negative = never). Parked threads live in a process-wide
 * parking lot keyed by (memory, ea). */
int runtime_atomic_wait(struct runtime_exec *exec, struct runtime_memory *memory, uint64_t ea,
                        uint64_t expected, bool is64, int64_t timeout_ns, uint32_t *result);
/* memory.atomic.notify: wakes up to count threads parked at (memory, ea),
 * oldest first; *woken says how many (always 0 for unshared memories).
 * Traps as wait does for alignment and bounds. Thread-safe. */
int runtime_atomic_notify(struct runtime_memory *memory, uint64_t ea, uint32_t count,
                          uint32_t *woken);

struct runtime_table *runtime_table_create(struct runtime_store *store,
                                           const struct wasm_tabletype *type,
                                           struct fl_error *err);
/* Grows by delta entries set to init; returns the old size or -1. */
int64_t runtime_table_grow(struct runtime_table *table, uint32_t delta, uintptr_t init);

struct runtime_global *runtime_global_create(struct runtime_store *store,
                                             const struct wasm_globaltype *type,
                                             const uint64_t cells[2]);

/* Instantiates module with imports[] given in module->imports order: creates
 * its objects, evaluates initialisers, applies active segments, then runs
 * the start function on exec. *out lives in the store. Errors:
 * FL_ERR_UNLINKABLE (import mismatch), FL_ERR_UNINSTANTIABLE (segment out of
 * bounds), FL_ERR_TRAP (start function trapped; see exec). */
int runtime_instantiate(struct runtime_store *store, const struct wasm_module *module,
                        const struct runtime_extern *imports,
                        const struct runtime_tier *tier, void *tier_module,
                        struct runtime_exec *exec, struct runtime_instance **out,
                        struct fl_error *err);

/* Evaluates a constant expression in instance (global.get of its globals,
 * ref.func of its functions) into cells. Never allocates. */
void runtime_const_eval(struct runtime_instance *instance, const struct wasm_const_expr *expr,
                        uint64_t cells[2]);

/* table.init: copies n refs of element segment elem_index from src into table
 * table_index at dst (a dropped segment has length 0). Returns RUNTIME_OK or
 * RUNTIME_TRAP_TABLE_OUT_OF_BOUNDS (nothing written then). */
int runtime_table_init(struct runtime_instance *instance, uint32_t table_index,
                       uint32_t elem_index, uint64_t dst, uint64_t src, uint64_t n);

/* memory.init: copies n bytes of data segment data_index from src into memory
 * memory_index at dst. Returns RUNTIME_OK or RUNTIME_TRAP_MEMORY_OUT_OF_BOUNDS. */
int runtime_memory_init(struct runtime_instance *instance, uint32_t memory_index,
                        uint32_t data_index, uint64_t dst, uint64_t src, uint64_t n);

/* Looks up an export of an instance. Returns false if absent. Never allocates. */
bool runtime_instance_export(struct runtime_instance *instance, const char *name,
                             struct runtime_extern *out);
/* Same, for a name of len bytes that may hold NULs (export names may). */
bool runtime_instance_export_n(struct runtime_instance *instance, const char *name, size_t len,
                               struct runtime_extern *out);

/* Prepares exec for use on the calling thread: stack_cells of value stack
 * (0 = 1M cells), max_depth 10000, this thread's alternate signal stack.
 * Call runtime_exec_fini on the same thread. */
int runtime_exec_init(struct runtime_exec *exec, struct runtime_store *store,
                      uint32_t stack_cells, struct fl_error *err);
void runtime_exec_fini(struct runtime_exec *exec);
/* Asks the call running on exec to stop with RUNTIME_TRAP_INTERRUPTED. Thread-safe. */
void runtime_exec_interrupt(struct runtime_exec *exec);

/* Calls func from the host: installs fault recovery (guard-page hits become
 * RUNTIME_TRAP_MEMORY_OUT_OF_BOUNDS) and returns RUNTIME_OK or the trap. */
int runtime_call(struct runtime_exec *exec, struct runtime_func *func, uint64_t *cells);

/* ---- Threads (thread.c): running an instance's code on several threads ----
 * wasm threads share one instance's memory and table but each needs its own
 * stack pointer (the __stack_pointer global LLVM keeps the shadow stack in)
 * and call stack. A clone is a small per-thread instance: it shares the
 * origin's memories, tables, imported objects, segment state and compiled
 * code, and owns a copy of every global the module defines (taken from the
 * origin's current values) plus an entry runtime_func per function. Each
 * thread runs its clone on its own runtime_exec. See docs/ARCHITECTURE.md. */

/* Makes a clone of origin (itself not a clone) for one thread; the caller
 * owns it (runtime_instance_clone_destroy, before the store goes). Only
 * tiers that honour instance->origin can run clones (the interpreter, compiled code);
 * others get FL_ERR_ARG. */
int runtime_instance_clone(struct runtime_instance *origin, struct runtime_instance **out,
                           struct fl_error *err);
void runtime_instance_clone_destroy(struct runtime_instance *clone);

/* Sets defined, mutable global global_index of clone to value (its first
 * cell). FL_ERR_ARG if it is imported (shared), immutable or absent. */
int runtime_clone_set_global(struct runtime_instance *clone, uint32_t global_index,
                             uint64_t value, struct fl_error *err);

/* The global that holds the shadow stack pointer: an exported global named
 * "__stack_pointer", else global 0 if it is a defined mutable i32 (where
 * LLVM puts it), else WASM_NO_INDEX. Never allocates. */
uint32_t runtime_module_stack_pointer(const struct wasm_module *module);

/* Calls function func_index (any function of the clone's module) in clone on
 * exec, from the host, like runtime_call. Cells per the calling convention. */
int runtime_call_in_clone(struct runtime_exec *exec, struct runtime_instance *clone,
                          uint32_t func_index, uint64_t *cells);

/* What runtime_thread_spawn runs. */
struct runtime_thread_start {
    struct runtime_instance *instance; /* the origin; the thread gets a clone of it */
    uint32_t func_index;               /* function to run */
    const uint64_t *args;              /* its parameter cells (copied) */
    uint32_t stack_pointer_global;     /* set in the clone first, or WASM_NO_INDEX */
    uint64_t stack_pointer;            /* that global's value: the thread's stack top */
    uint32_t stack_cells;              /* interpreter value stack (0 = default) */
};
struct runtime_thread;

/* Starts a host thread that runs start->func_index on a fresh clone with its
 * own exec. *out is owned by the caller until runtime_thread_join. */
int runtime_thread_spawn(const struct runtime_thread_start *start, struct runtime_thread **out,
                         struct fl_error *err);
/* Waits for the thread, copies its result cells into results (may be NULL),
 * the trap text into trap_msg (may be NULL; n bytes), frees it and its
 * clone. Returns RUNTIME_OK or the trap that ended the call. */
int runtime_thread_join(struct runtime_thread *thread, uint64_t *results, char *trap_msg,
                        size_t n);
/* Asks the thread's call to stop with RUNTIME_TRAP_INTERRUPTED (also wakes
 * it from memory.atomic.wait within ~10 ms). Thread-safe. */
void runtime_thread_interrupt(struct runtime_thread *thread);

/* Named imports: maps (module, name) to externs, then instantiates modules
 * against it. */
struct runtime_linker;
struct runtime_linker *runtime_linker_create(struct runtime_store *store);
void runtime_linker_destroy(struct runtime_linker *linker);
/* Defines module.name as ext; a later definition replaces an earlier one. */
int runtime_linker_define(struct runtime_linker *linker, const char *module, const char *name,
                          const struct runtime_extern *ext);
/* Defines every export of instance under module name `as`. */
int runtime_linker_define_instance(struct runtime_linker *linker, const char *as,
                                   struct runtime_instance *instance);
/* Resolves module's imports by name (FL_ERR_UNLINKABLE: "unknown import
 * env.foo" / "incompatible import type for env.foo") and instantiates. */
int runtime_linker_instantiate(struct runtime_linker *linker, const struct wasm_module *module,
                               const struct runtime_tier *tier, void *tier_module,
                               struct runtime_exec *exec, struct runtime_instance **out,
                               struct fl_error *err);

#endif
