/* host_state.h: the `__faasm_*` state imports (docs/GUEST-API.md, "State") as
 * host functions over src/state. A Faaslet owns one struct faaslet_state_ctx,
 * passes it as the host data of these imports, and brackets every call with
 * faaslet_state_call_begin / faaslet_state_call_end. */
#ifndef FL_FAASLET_HOST_STATE_H
#define FL_FAASLET_HOST_STATE_H

#include "runtime/runtime.h"
#include "util/error.h"

struct state_store;
struct wasi_ctx;
struct faaslet_state_call;

/* What the state imports need to know about the running call. One per
 * Faaslet; used by one thread at a time (the one running the Faaslet). */
struct faaslet_state_ctx {
    struct state_store *store;        /* process-wide state store; not owned */
    const char *user;                 /* user of the running call; set by call_begin; not owned */
    struct wasi_ctx *wasi;            /* filesystem view for __faasm_write_state_from_file;
                                       * NULL: that import returns 0; not owned */
    struct faaslet_state_call *call;  /* keys mapped into memory and locks held during
                                       * this call; owned by host_state.c */
};

/* Initialises ctx for store (and wasi, may be NULL). Fini with faaslet_state_ctx_fini. */
int faaslet_state_ctx_init(struct faaslet_state_ctx *ctx, struct state_store *store,
                           struct wasi_ctx *wasi, struct fl_error *err);

/* Releases what a call still holds (as faaslet_state_call_end with memory NULL)
 * and frees ctx's bookkeeping. */
void faaslet_state_ctx_fini(struct faaslet_state_ctx *ctx);

/* Starts a call by user (the string must live until call_end). */
void faaslet_state_call_begin(struct faaslet_state_ctx *ctx, const char *user);

/* Ends a call (returned, trapped or timed out): releases the local and global
 * locks it still holds and detaches every state value it mapped with
 * __faasm_read_state_ptr from memory (the Faaslet's memory 0, may be NULL):
 * those ranges become private anonymous pages again (read/write below
 * memory->size, PROT_NONE above), so neither a reset nor a later memory.grow
 * can expose or write the shared pages. Call it before or after the reset,
 * while no wasm runs on memory. */
void faaslet_state_call_end(struct faaslet_state_ctx *ctx, struct runtime_memory *memory);

/* Defines every `env.__faasm_*` state import in linker as a host function of
 * rstore with ctx as host data (ctx must outlive them). The functions use the
 * caller's memory 0; guest misuse traps with RUNTIME_TRAP_HOST and a message
 * naming the import in exec->trap_msg. */
int faaslet_host_state_define(struct runtime_linker *linker, struct runtime_store *rstore,
                              struct faaslet_state_ctx *ctx, struct fl_error *err);

#endif
