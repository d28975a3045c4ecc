/* faaslet.h: Faaslets. A proto-faaslet is a function loaded, instantiated,
 * initialised (_faasm_init, _faasm_zygote) and snapshotted (memory in a
 * memfd, globals, tables); a Faaslet is an instance restored from it
 * copy-on-write that runs one call at a time and is reset to the snapshot
 * after each call. The function store maps (user, function) to a module on
 * disk. This part knows nothing of messages, threads or HTTP: the layer
 * above (src/exec) gives each call a struct faaslet_host for chaining. */
#ifndef FL_FAASLET_FAASLET_H
#define FL_FAASLET_FAASLET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/runtime.h"
#include "util/error.h"

struct state_store;
struct faaslet_proto;
struct faaslet;

#define FAASLET_MAX_NAME 64          /* user and function names, bytes */
#define FAASLET_MAX_ERROR 256

/* ---- function store ------------------------------------------------------ */

/* True if name is a valid user or function name: 1..FAASLET_MAX_NAME bytes of
 * [A-Za-z0-9_.-], not starting with '.' (so never "." or ".."). */
bool faaslet_name_valid(const char *name);

/* The store directory: dir if non-NULL, else $FAASLET_STORE, else
 * $XDG_DATA_HOME/faaslet, else $HOME/.local/share/faaslet. Writes into buf. */
int faaslet_store_dir(const char *dir, char *buf, size_t n, struct fl_error *err);

/* Which tier runs a function's Faaslets. */
enum faaslet_tier {
    FAASLET_TIER_DEFAULT = 0, /* $FAASLET_TIER if set, else FAASLET_TIER_AUTO */
    FAASLET_TIER_AUTO,        /* aot when compiled code exists or can be made, else interp */
    FAASLET_TIER_AOT,         /* aot or nothing (a function that cannot be compiled fails) */
    FAASLET_TIER_INTERP,      /* the interpreter; no code generation at upload either */
};

/* Parses "auto", "aot" or "interp" into *out; false if s is none of them. */
bool faaslet_tier_parse(const char *s, enum faaslet_tier *out);

/* tier with FAASLET_TIER_DEFAULT resolved ($FAASLET_TIER, else AUTO). */
enum faaslet_tier faaslet_tier_resolve(enum faaslet_tier tier);

/* <store>/<user>/<function> into buf: the folder of a stored function (its
 * function.wasm and compiled objects, KEY.so + KEY.meta, see src/aot). */
int faaslet_store_function_dir(const char *store, const char *user, const char *function,
                               char *buf, size_t n, struct fl_error *err);

struct faaslet_upload_options {
    enum faaslet_tier tier;   /* INTERP: store the module only, no code generation */
    bool bounds_checks;       /* generate code with explicit bounds checks */
};

/* Validates wasm (wasm_module_load), code-generates it into the function's
 * folder (unless opts->tier resolves to INTERP; opts NULL = defaults) and
 * stores it atomically as <store>/<user>/<function>/function.wasm (temp file
 * + rename) only once that succeeded. Nothing is stored if a name or the
 * module is invalid (FL_ERR_ARG / the load error) or code generation fails
 * ("code generation failed: ..."). Compiled objects of earlier uploads are
 * removed. */
int faaslet_store_upload_opts(const char *store, const char *user, const char *function,
                              const uint8_t *wasm, size_t len,
                              const struct faaslet_upload_options *opts, struct fl_error *err);

/* faaslet_store_upload_opts with default options. */
int faaslet_store_upload(const char *store, const char *user, const char *function,
                         const uint8_t *wasm, size_t len, struct fl_error *err);

/* Reads a stored module; *out is malloc'd (caller frees). FL_ERR_NOT_FOUND
 * if there is no such function. */
int faaslet_store_read(const char *store, const char *user, const char *function,
                       uint8_t **out, size_t *len, struct fl_error *err);

/* Reads a whole regular file (at most WASM_MAX_MODULE_SIZE bytes); *out is
 * malloc'd (caller frees). */
int faaslet_read_file(const char *path, uint8_t **out, size_t *len, struct fl_error *err);

/* ---- proto-faaslets and Faaslets ---------------------------------------- */

struct faaslet_config {
    uint64_t max_memory;      /* bytes of linear memory a call may reach; 0 = the module's max */
    bool bounds_checked;      /* small reservations (max_memory) instead of 8 GiB guarded ones */
    uint32_t stack_cells;     /* interpreter value stack per call; 0 = 1M cells */
    const char *root_dir;     /* host directory preopened as "/" (NULL: no filesystem) */
    struct state_store *state;/* state imports' store (NULL: state imports trap) */
    enum faaslet_tier tier;   /* DEFAULT: $FAASLET_TIER, else AUTO */
    /* Folder of compiled objects (the function's store folder): a valid
     * object there is loaded, a missing, stale or tampered one is generated
     * again (never run). NULL: aot code is generated in memory each time. */
    const char *aot_dir;
};

/* Loads wasm (copied), instantiates it with WASI and the faasm host
 * interface, runs _faasm_init and _faasm_zygote if exported, and snapshots
 * it. Owned by the caller (faaslet_proto_destroy after every Faaslet made
 * from it). user/function are copied. config is copied (root_dir too).
 * The tier is chosen here (see faaslet_config.tier); AUTO falls back to the
 * interpreter with a line on stderr when code cannot be generated. */
struct faaslet_proto *faaslet_proto_create(const char *user, const char *function,
                                           const uint8_t *wasm, size_t len,
                                           const struct faaslet_config *config,
                                           struct fl_error *err);
void faaslet_proto_destroy(struct faaslet_proto *proto);

/* The tier the proto's Faaslets run on: "aot" or "interp". */
const char *faaslet_proto_tier_name(const struct faaslet_proto *proto);

/* Bytes of the snapshot's linear memory. */
uint64_t faaslet_proto_memory_size(const struct faaslet_proto *proto);

/* What a running call asks of the layer above. Every function is called on
 * the thread (fiber) running the call; exec is the Faaslet's exec, so an
 * implementation that blocks can honour exec->interrupt. */
struct faaslet_host {
    void *data;
    /* Starts a call of function (same user; NULL: this function by pointer
     * func_ptr) with a copy of input. Returns its id, or 0 if refused. */
    uint32_t (*chain)(void *data, const char *function, int32_t func_ptr, const uint8_t *input,
                      uint32_t len);
    /* Waits for call id. Returns 0 and its return value in *ret (and its
     * output, if out, as a malloc'd copy the caller frees in *out and *out_len);
     * -1 if id was not started by this call; RUNTIME_TRAP_INTERRUPTED if the
     * wait was interrupted (timeout). */
    int (*await)(void *data, struct runtime_exec *exec, uint32_t id, int32_t *ret, uint8_t **out,
                 size_t *out_len);
    /* Value of a boolean configuration flag (false if unknown). */
    bool (*conf_flag)(void *data, const char *key);
    /* Optional (NULL: WASI sleeps block the thread): sleeps ns nanoseconds
     * without holding the thread (a guest's clock poll_oneoff). Returns 0, or
     * RUNTIME_TRAP_INTERRUPTED if the call was interrupted meanwhile. */
    int (*sleep)(void *data, struct runtime_exec *exec, uint64_t ns);
};

/* One call, described by the caller; results filled by faaslet_call. */
struct faaslet_call {
    const char *user;         /* not owned */
    const uint8_t *input;
    size_t input_len;
    int32_t func_ptr;         /* < 0: run _start; else _faasm_call_ptr(func_ptr) */
    const char *cmdline;      /* argv[1..] split on spaces; may be NULL */
    const struct faaslet_host *host; /* NULL: chaining and await are refused */
    uintptr_t stack_lo, stack_hi; /* native stack the call runs on (0: unknown) */
    uint64_t *value_stack;    /* interpreter value stack for this call (NULL: the Faaslet's own) */
    uint32_t value_stack_cells;
    /* results */
    uint8_t *output;          /* malloc'd; caller frees (faaslet_call_fini) */
    size_t output_len;
    int32_t return_value;
    bool failed;              /* trapped / interrupted / could not start */
    int trap;                 /* enum runtime_trap when failed by a trap */
    char error[FAASLET_MAX_ERROR];
};

/* Restores a new Faaslet from proto: a clone of the proto's instance with
 * the snapshot's memory (mapped copy-on-write, or its few pages copied in
 * bounds-checked mode), globals and tables. Thread-safe. Owned by the
 * caller; destroy before proto. */
struct faaslet *faaslet_create(struct faaslet_proto *proto, struct fl_error *err);
void faaslet_destroy(struct faaslet *faaslet);

/* Runs one call on the calling thread/fiber and resets the Faaslet to the
 * snapshot afterwards. A failed call (trap, interruption) sets call->failed,
 * a non-zero return value and the error text as output. Returns FL_OK, or
 * an error if the Faaslet could not be reset (it must then be destroyed). */
int faaslet_run(struct faaslet *faaslet, struct faaslet_call *call, struct fl_error *err);

/* Frees call's output. */
void faaslet_call_fini(struct faaslet_call *call);

/* Resets memory, globals, tables and WASI state to the snapshot. */
int faaslet_reset(struct faaslet *faaslet, struct fl_error *err);

/* Asks the call running on faaslet to stop (thread-safe). */
void faaslet_interrupt(struct faaslet *faaslet);

/* The Faaslet's execution context (for the layer above's bookkeeping). */
struct runtime_exec *faaslet_exec(struct faaslet *faaslet);

/* The Faaslet's linear memory (NULL if it has none), for tests and
 * benchmarks that look at or dirty it between calls. Not owned. */
struct runtime_memory *faaslet_memory(struct faaslet *faaslet);

/* The proto-faaslet it was restored from. */
struct faaslet_proto *faaslet_proto(struct faaslet *faaslet);

#endif
