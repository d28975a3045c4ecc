/* snapshot.c: the runtime side of proto-faaslet snapshots and fibers (see
 * snapshot.h): mapping a memory image copy-on-write over a linear memory,
 * thread-independent execution contexts and the current-exec switch. */
#define _GNU_SOURCE
#include "runtime/snapshot.h"
#include "runtime/runtime_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

int runtime_memory_map_cow(struct runtime_memory *memory, int fd, uint64_t bytes,
                           struct fl_error *err)
{
    if (bytes % WASM_PAGE_SIZE || bytes > memory->reserved ||
        bytes / WASM_PAGE_SIZE > memory->max_pages)
        return fl_error_set(err, FL_ERR_ARG, "memory: snapshot of %llu bytes does not fit",
                            (unsigned long long)bytes);
    pthread_mutex_lock(&memory->grow_lock);
    uint64_t old = atomic_load(&memory->size);
    int rc = FL_OK;
    if (bytes && mmap(memory->base, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd,
                      0) == MAP_FAILED) {
        rc = fl_error_set(err, FL_ERR_NOMEM, "memory: cannot map the snapshot (%s)",
                          strerror(errno));
        goto out;
    }
    /* Pages above the snapshot go back to the untouched reservation state,
     * so a later grow sees zeroes and nothing of the previous call. */
    if (old > bytes &&
        mmap(memory->base + bytes, old - bytes, PROT_NONE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0) == MAP_FAILED) {
        rc = fl_error_set(err, FL_ERR_NOMEM, "memory: cannot drop pages above the snapshot (%s)",
                          strerror(errno));
        goto out;
    }
    atomic_store(&memory->size, bytes);
out:
    pthread_mutex_unlock(&memory->grow_lock);
    return rc;
}

int runtime_thread_attach(struct fl_error *err)
{
    runtime_signals_install();
    return runtime_altstack_acquire(err);
}

void runtime_thread_detach(void)
{
    runtime_altstack_release();
}

int runtime_exec_init_unbound(struct runtime_exec *exec, struct runtime_store *store,
                              uint32_t stack_cells, struct fl_error *err)
{
    /* As runtime_exec_init, without the thread's signal stack and native
     * stack bounds: pthread_getattr_np reads /proc/self/maps on the main
     * thread, which costs milliseconds once there are many mappings. */
    memset(exec, 0, sizeof *exec);
    exec->store = store;
    exec->max_depth = 10000;
    if (stack_cells == 0)
        stack_cells = 1u << 20;
    exec->stack = calloc(stack_cells, sizeof *exec->stack);
    if (!exec->stack)
        return fl_error_set(err, FL_ERR_NOMEM, "exec: cannot allocate a value stack of %u cells",
                            stack_cells);
    exec->stack_end = exec->stack + stack_cells;
    runtime_signals_install();
    return FL_OK;
}

void runtime_exec_fini_unbound(struct runtime_exec *exec)
{
    free(exec->stack);
    exec->stack = exec->stack_end = NULL;
}

struct runtime_exec *runtime_exec_swap_current(struct runtime_exec *exec)
{
    struct runtime_exec *old = runtime_current_exec();
    runtime_set_current_exec(exec);
    return old;
}
