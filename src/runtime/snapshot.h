/* snapshot.h: runtime helpers for embedders that snapshot instances and run
 * them on fibers (src/faaslet, src/exec): copy-on-write memory restore,
 * execution contexts not bound to one thread, and switching the thread's
 * current exec when a fiber moves between threads. Additive to runtime.h. */
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

#endif
