/* threads.c: memory.atomic.wait/notify for compiled code: thin helpers over
 * the runtime's parking lot (src/runtime/wait.c) that turn its trap codes
 * into compiled-code traps. */
#include "aot/aot_internal.h"

int32_t aot_helper_atomic_wait(struct aot_vmctx *vm, struct aot_thread *t, uint64_t ea,
                               uint64_t expected, uint32_t is64, int64_t timeout)
{
    uint32_t result = 0;
    int trap = runtime_atomic_wait(t->exec, vm->memory, ea, expected, is64 != 0, timeout, &result);
    if (trap)
        aot_trap(t, trap);
    return (int32_t)result;
}

int32_t aot_helper_atomic_notify(struct aot_vmctx *vm, struct aot_thread *t, uint64_t ea,
                                 uint32_t count)
{
    uint32_t woken = 0;
    int trap = runtime_atomic_notify(vm->memory, ea, count, &woken);
    if (trap)
        aot_trap(t, trap);
    return (int32_t)woken;
}
