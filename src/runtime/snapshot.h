/* snapshot.h: runtime helpers for embedders that snapshot instances and run
 * them on fibers (src/faaslet, src/exec): copy-on-write or copied memory
 * restore, pooled memory slots, cheap instance clones, execution contexts
 * not bound to one thread, and switching the thread's current exec when a
 * fiber moves between threads. Additive to runtime.h. */
#ifndef FL_RUNTIME_SNAPSHOT_H
#define FL_RUNTIME_SNAPSHOT_H

#include "runtime/runtime.h"

/* Makes memory's first `bytes` (a multiple of the wasm page size, within the
 * reservation) a private copy-on-write mapping of fd at offset 0, and makes
 * everything above inaccessible again (pages there are dropped); memory->size
 * becomes bytes. No wasm may run on memory meanwhile. */
int runtime_memory_map_cow(struct runtime_memory *memory, int fd, uint64_t bytes,
                           struct fl_error *err);

/* Prepares the calling thread to run wasm on any exec (signal handler and
 * alternate signal stack). Pair with runtime_thread_detach on that thread. */
int runtime_thread_attach(struct fl_error *err);
void runtime_thread_detach(void);

/* Like runtime_exec_init, but the exec belongs to no thread: it may run on
 * any attached thread (or fiber). The caller sets exec->native_stack_lo/hi
 * to the stack it runs on before each call (0 = no overflow detection).
 * Free with runtime_exec_fini_unbound, from any thread. */
int runtime_exec_init_unbound(struct runtime_exec *exec, struct runtime_store *store,
                              uint32_t stack_cells, struct fl_error *err);
void runtime_exec_fini_unbound(struct runtime_exec *exec);

/* Sets the exec the fault handler of this thread consults (what runtime_call
 * sets while wasm runs) and returns the previous one. A fiber that leaves a
 * thread in the middle of runtime_call restores its exec on the thread it
 * resumes on with this. */
struct runtime_exec *runtime_exec_swap_current(struct runtime_exec *exec);

/* Makes memory's first `bytes` zero except for count 4 KiB pages: page k of
 * pages[] goes at byte offset offsets[k] (ascending); everything above bytes
 * is dropped (zero, and inaccessible again in guarded mode). Meant for
 * memories that hold only private anonymous pages (pool slots): pages stay
 * mapped, and only those the last user touched are rewritten, so a restore
 * changes no mapping (and flushes no TLB) unless the memory grew. No wasm
 * may run on memory meanwhile. */
int runtime_memory_restore_pages(struct runtime_memory *memory, uint64_t bytes,
                                 const uint64_t *offsets, const uint8_t *pages, uint32_t count,
                                 struct fl_error *err);

/* A pool of linear memories of one shape for one store. Slots are carved
 * from large reservations registered with the store once (the fault handler
 * finds them; the store's reservation table stays small). guarded: 8 GiB +
 * guard per slot, inaccessible above size. Not guarded: slots of the
 * maximum size, all read/write, so neighbouring slots are one kernel
 * mapping (tiers check accesses against size). Thread-safe. */
struct runtime_memory_pool;
struct runtime_memory_pool *runtime_memory_pool_create(struct runtime_store *store,
                                                       const struct wasm_limits *limits,
                                                       bool guarded, struct fl_error *err);
/* Frees the pool; every memory taken must have been given back. */
void runtime_memory_pool_destroy(struct runtime_memory_pool *pool);
/* A memory from the pool (owned by the pool; give it back). *pristine: its
 * last user gave it back restored (see give); otherwise it may still hold
 * that user's pages: restore it with runtime_memory_restore_pages or
 * runtime_memory_map_cow before use. */
struct runtime_memory *runtime_memory_pool_take(struct runtime_memory_pool *pool, bool *pristine,
                                                struct fl_error *err);
/* Returns memory to the pool. The first few free slots keep their pages
 * (the next restore rewrites what was touched), so nothing but private
 * anonymous pages may be mapped into it any more; later ones are dropped
 * back to untouched reservation. pristine: the caller vouches that memory
 * holds exactly what every user of the pool restores it to (so the next
 * taker may skip its restore). */
void runtime_memory_pool_give(struct runtime_memory_pool *pool, struct runtime_memory *memory,
                              bool pristine);

/* Creates an instance of tmpl's module in tmpl's store without running
 * anything: imported functions from import_funcs (indexed by function
 * index), defined functions bound to the new instance, tables as big as
 * tmpl's with null entries, globals of the module's types (zero), memory 0 =
 * memory (NULL if the module has none), element/data segments marked as
 * tmpl's. The tier's per-instance data is shared with tmpl, which suits
 * tiers whose instance data depends on the store alone (the interpreter's
 * type-id table); others call runtime_instance_replica_tier_init on the
 * clone. tmpl must outlive the clone. The clone is not registered
 * with the store: free it with runtime_instance_replica_free (memory is the
 * caller's). Modules importing tables, memories or globals are refused. */
struct runtime_instance *runtime_instance_replica(struct runtime_instance *tmpl,
                                                struct runtime_func *const *import_funcs,
                                                struct runtime_memory *memory,
                                                struct fl_error *err);
void runtime_instance_replica_free(struct runtime_instance *clone);

/* Gives clone per-instance tier data of its own (the tier's instance_init
 * on the clone; freed by runtime_instance_replica_free), for tiers whose
 * data points into the instance: aot's context holds the globals, memory
 * base, tables and functions of its instance. Call before anything runs on
 * clone. */
int runtime_instance_replica_tier_init(struct runtime_instance *clone, struct fl_error *err);

#endif
