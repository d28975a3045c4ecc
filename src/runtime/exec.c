/* exec.c: per-thread execution contexts and runtime_call, the one door from
 * host code into wasm: it arms fault recovery (see signal.c) and nests, so
 * a host function may call back into wasm. */
#define _GNU_SOURCE /* pthread_getattr_np */
#include "runtime/runtime_internal.h"


#include <stdlib.h>
#include <string.h>

#define DEFAULT_STACK_CELLS (1u << 20)
#define DEFAULT_MAX_DEPTH 10000u

int runtime_exec_init(struct runtime_exec *exec, struct runtime_store *store,
                      uint32_t stack_cells, struct fl_error *err)
{
    memset(exec, 0, sizeof *exec);
    exec->store = store;
    exec->max_depth = DEFAULT_MAX_DEPTH;
    if (stack_cells == 0)
        stack_cells = DEFAULT_STACK_CELLS;
    exec->stack = calloc(stack_cells, sizeof *exec->stack);
    if (!exec->stack)
        return fl_error_set(err, FL_ERR_NOMEM, "exec: cannot allocate a value stack of %u cells",
                            stack_cells);
    exec->stack_end = exec->stack + stack_cells;
    runtime_signals_install();
    int rc = runtime_altstack_acquire(err);
    if (rc) {
        free(exec->stack);
        exec->stack = exec->stack_end = NULL;
        return rc;
    }
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        void *addr;
        size_t size;
        if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
            exec->native_stack_lo = (uintptr_t)addr;
            exec->native_stack_hi = (uintptr_t)addr + size;
        }
        pthread_attr_destroy(&attr);
    }
    return FL_OK;
}

void runtime_exec_fini(struct runtime_exec *exec)
{
    if (!exec->stack)
        return;
    free(exec->stack);
    exec->stack = exec->stack_end = NULL;
    runtime_altstack_release();
}

void runtime_exec_interrupt(struct runtime_exec *exec)
{
    atomic_store(&exec->interrupt, 1);
}

/* After a fault in compiled code, asks the tier of the called function's
 * instance which of its functions holds the faulting pc. Faults in the
 * interpreter (whose pc is in the host binary) already set trap_func. */
static void name_faulting_function(struct runtime_exec *exec, struct runtime_func *func)
{
    if (!exec->fault_pc || !func->instance)
        return;
    const struct runtime_instance_impl *impl =
        (const struct runtime_instance_impl *)func->instance;
    uint32_t index;
    if (impl->tier && impl->tier->func_at_pc &&
        impl->tier->func_at_pc(func->instance->tier_module, exec->fault_pc, &index)) {
        exec->trap_func = index;
        exec->trap_module = func->instance->module;
    }
}

int runtime_call(struct runtime_exec *exec, struct runtime_func *func, uint64_t *cells)
{
    sigjmp_buf recover;
    sigjmp_buf *outer_recover = exec->recover;
    struct runtime_exec *outer_exec = runtime_current_exec();
    uint32_t depth = exec->depth;
    void *tier_state = exec->tier_state;
    /* Nothing below is modified between sigsetjmp and a siglongjmp back here,
     * so the locals keep their values. */
    runtime_set_current_exec(exec);
    if (!outer_recover)
        exec->trap_msg[0] = '\0';
    exec->recover = &recover;
    int trap = sigsetjmp(recover, 0);
    if (trap == 0)
        trap = func->invoke(exec, func->instance, func, cells);
    else { /* a fault unwound the tier's frames without their epilogues */
        exec->depth = depth;
        exec->tier_state = tier_state;
        name_faulting_function(exec, func);
        exec->fault_pc = 0;
    }
    exec->recover = outer_recover;
    runtime_set_current_exec(outer_exec);
    /* An interrupt that arrives after the call ended must not hit the next one. */
    if (!outer_recover)
        atomic_store(&exec->interrupt, 0);
    return trap;
}
