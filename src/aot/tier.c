/* tier.c: the compiled tier's side of the runtime: the runtime_tier
 * descriptor (invoke, per-instance vmctx), and the helpers generated code
 * calls for traps, memory.grow, bulk memory and table instructions. Traps
 * leave compiled code with siglongjmp to the recovery point runtime_call
 * armed, the same path a guard-page fault takes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aot/aot_internal.h"

/* Native stack kept free below the deepest wasm frame for host functions
 * (WASI calls, the fault handler's own needs are on the alternate stack). */
#define AOT_STACK_RESERVE (256u << 10)

_Noreturn void aot_trap(struct aot_thread *thread, int trap)
{
    struct runtime_exec *exec = thread->exec;
    exec->fault_trap = trap;
    siglongjmp(*exec->recover, trap);
}

static int32_t helper_memory_grow(struct aot_vmctx *vm, uint32_t delta)
{
    return (int32_t)runtime_memory_grow(vm->memory, delta);
}

static void helper_memory_fill(struct aot_vmctx *vm, struct aot_thread *t, uint32_t d, uint32_t val,
                               uint32_t n)
{
    uint8_t *p = runtime_memory_ptr(vm->memory, d, n);
    if (!p)
        aot_trap(t, RUNTIME_TRAP_MEMORY_OUT_OF_BOUNDS);
    memset(p, (int)(val & 0xFF), n);
}

static void helper_memory_copy(struct aot_vmctx *vm, struct aot_thread *t, uint32_t d, uint32_t s,
                               uint32_t n)
{
    uint8_t *dp = runtime_memory_ptr(vm->memory, d, n);
    uint8_t *sp = runtime_memory_ptr(vm->memory, s, n);
    if (!dp || !sp)
        aot_trap(t, RUNTIME_TRAP_MEMORY_OUT_OF_BOUNDS);
    memmove(dp, sp, n);
}

static void helper_memory_init(struct aot_vmctx *vm, struct aot_thread *t, uint32_t seg, uint32_t d,
                               uint32_t s, uint32_t n)
{
    int trap = runtime_memory_init(vm->instance, 0, seg, d, s, n);
    if (trap)
        aot_trap(t, trap);
}

static void helper_data_drop(struct aot_vmctx *vm, uint32_t seg)
{
    vm->instance->data_dropped[seg] = 1;
}

static uint64_t helper_table_get(struct aot_vmctx *vm, struct aot_thread *t, uint32_t ti, uint32_t i)
{
    struct runtime_table *table = vm->tables[ti];
    if (i >= table->size)
        aot_trap(t, RUNTIME_TRAP_TABLE_OUT_OF_BOUNDS);
    return table->elems[i];
}

static void helper_table_set(struct aot_vmctx *vm, struct aot_thread *t, uint32_t ti, uint32_t i,
                             uint64_t v)
{
    struct runtime_table *table = vm->tables[ti];
    if (i >= table->size)
        aot_trap(t, RUNTIME_TRAP_TABLE_OUT_OF_BOUNDS);
    table->elems[i] = (uintptr_t)v;
}

static uint32_t helper_table_size(struct aot_vmctx *vm, uint32_t ti)
{
    return vm->tables[ti]->size;
}

static int32_t helper_table_grow(struct aot_vmctx *vm, uint32_t ti, uint64_t init, uint32_t delta)
{
    return (int32_t)runtime_table_grow(vm->tables[ti], delta, (uintptr_t)init);
}

static void helper_table_fill(struct aot_vmctx *vm, struct aot_thread *t, uint32_t ti, uint32_t i,
                              uint64_t v, uint32_t n)
{
    struct runtime_table *table = vm->tables[ti];
    if ((uint64_t)i + n > table->size)
        aot_trap(t, RUNTIME_TRAP_TABLE_OUT_OF_BOUNDS);
    for (uint32_t k = 0; k < n; k++)
        table->elems[i + k] = (uintptr_t)v;
}

static void helper_table_copy(struct aot_vmctx *vm, struct aot_thread *t, uint32_t dti, uint32_t sti,
                              uint32_t d, uint32_t s, uint32_t n)
{
    struct runtime_table *dt = vm->tables[dti], *st = vm->tables[sti];
    if ((uint64_t)d + n > dt->size || (uint64_t)s + n > st->size)
        aot_trap(t, RUNTIME_TRAP_TABLE_OUT_OF_BOUNDS);
    if (n)
        memmove(dt->elems + d, st->elems + s, (size_t)n * sizeof *dt->elems);
}

static void helper_table_init(struct aot_vmctx *vm, struct aot_thread *t, uint32_t ti, uint32_t seg,
                              uint32_t d, uint32_t s, uint32_t n)
{
    int trap = runtime_table_init(vm->instance, ti, seg, d, s, n);
    if (trap)
        aot_trap(t, trap);
}

static void helper_elem_drop(struct aot_vmctx *vm, uint32_t seg)
{
    vm->instance->elem_dropped[seg] = 1;
}

/* Trap from generated code: func is the wasm function it happened in, or
 * UINT32_MAX when passing on a callee's trap (which named its own). */
static _Noreturn void helper_trap(struct aot_vmctx *vm, struct aot_thread *t, int trap, uint32_t func)
{
    if (func != UINT32_MAX) {
        t->exec->trap_func = func;
        t->exec->trap_module = vm->instance->module;
    }
    aot_trap(t, trap);
}

/* call_indirect's element traps name the index, as the interpreter does. */
static _Noreturn void helper_trap_index(struct aot_vmctx *vm, struct aot_thread *t, int trap, uint32_t index,
                                        uint32_t func)
{
    snprintf(t->exec->trap_msg, sizeof t->exec->trap_msg, "%s %u", runtime_trap_message(trap), index);
    helper_trap(vm, t, trap, func);
}

void *const aot_helpers[AOT_HELPER_COUNT] = {
    [AOT_HELPER_TRAP] = (void *)helper_trap,
    [AOT_HELPER_MEMORY_GROW] = (void *)helper_memory_grow,
    [AOT_HELPER_MEMORY_FILL] = (void *)helper_memory_fill,
    [AOT_HELPER_MEMORY_COPY] = (void *)helper_memory_copy,
    [AOT_HELPER_MEMORY_INIT] = (void *)helper_memory_init,
    [AOT_HELPER_DATA_DROP] = (void *)helper_data_drop,
    [AOT_HELPER_TABLE_GET] = (void *)helper_table_get,
    [AOT_HELPER_TABLE_SET] = (void *)helper_table_set,
    [AOT_HELPER_TABLE_SIZE] = (void *)helper_table_size,
    [AOT_HELPER_TABLE_GROW] = (void *)helper_table_grow,
    [AOT_HELPER_TABLE_FILL] = (void *)helper_table_fill,
    [AOT_HELPER_TABLE_COPY] = (void *)helper_table_copy,
    [AOT_HELPER_TABLE_INIT] = (void *)helper_table_init,
    [AOT_HELPER_ELEM_DROP] = (void *)helper_elem_drop,
    [AOT_HELPER_TRAP_INDEX] = (void *)helper_trap_index,
    [AOT_HELPER_ATOMIC_WAIT] = (void *)aot_helper_atomic_wait,
    [AOT_HELPER_ATOMIC_NOTIFY] = (void *)aot_helper_atomic_notify,
};

static uintptr_t current_sp(void)
{
    return (uintptr_t)__builtin_frame_address(0);
}

/* The one runtime_invoke_fn of compiled functions: a call chain from the
 * host enters here; compiled code calls compiled code directly. */
int aot_invoke(struct runtime_exec *exec, struct runtime_instance *caller,
               struct runtime_func *func, uint64_t *cells)
{
    (void)caller;
    struct aot_thread thread = {.exec = exec, .stack_limit = 0, .interrupt = &exec->interrupt};
    /* Only when this call runs on the stack the exec describes (a thread's,
     * or a fiber's set by its owner); small stacks keep a quarter free. */
    uintptr_t lo = exec->native_stack_lo, hi = exec->native_stack_hi, sp = current_sp();
    if (lo && hi > lo && sp > lo && sp <= hi) {
        uintptr_t reserve = (hi - lo) / 4 < AOT_STACK_RESERVE ? (hi - lo) / 4 : AOT_STACK_RESERVE;
        thread.stack_limit = lo + reserve;
    }
    /* host -> wasm -> host -> wasm nesting also eats native stack. */
    if (sp < thread.stack_limit)
        return RUNTIME_TRAP_CALL_STACK_EXHAUSTED;
    if (atomic_load_explicit(&exec->interrupt, memory_order_relaxed))
        return RUNTIME_TRAP_INTERRUPTED;
    const struct aot_code *code = func->code;
    if (exec->recover) {
        code->entry(func->instance->tier_instance, &thread, cells);
        return RUNTIME_OK;
    }
    /* Called outside runtime_call: arm our own recovery point. */
    sigjmp_buf recover;
    exec->recover = &recover;
    int trap = sigsetjmp(recover, 0);
    if (trap == 0)
        code->entry(func->instance->tier_instance, &thread, cells);
    exec->recover = NULL;
    return trap;
}

static void *aot_func_code(void *tier_module, uint32_t func_index)
{
    struct aot_module *am = tier_module;
    return (void *)&am->codes[func_index - am->module->import_func_count];
}

static int aot_instance_init(struct runtime_instance *instance, struct fl_error *err)
{
    struct aot_module *am = instance->tier_module;
    const struct wasm_module *m = instance->module;
    if (am->module != m)
        return fl_error_set(err, FL_ERR_ARG, "aot: compiled code belongs to another module");
    size_t size = sizeof(struct aot_vmctx) + (size_t)m->global_count * sizeof(uint64_t *) +
                  (size_t)m->type_count * sizeof(uint32_t);
    struct aot_vmctx *vm = calloc(1, size);
    if (!vm)
        return fl_error_set(err, FL_ERR_NOMEM, "aot: out of memory for an instance context");
    vm->globals = (uint64_t **)(vm + 1);
    vm->type_ids = (uint32_t *)(vm->globals + m->global_count);
    if (m->memory_count) {
        vm->memory = instance->memories[0];
        vm->mem_base = vm->memory->base;
        if (!vm->memory->guarded && !(am->flags & AOT_FLAG_BOUNDS_CHECKS)) {
            free(vm);
            return fl_error_set(err, FL_ERR_ARG,
                                "aot: memory has no guard region but the code was compiled without "
                                "bounds checks (compile with bounds checks)");
        }
    }
    vm->instance = instance;
    vm->helpers = aot_helpers;
    vm->tables = instance->tables;
    vm->funcs = instance->funcs;
    vm->aot_invoke = aot_invoke;
    vm->origin = instance->origin;
    for (uint32_t i = 0; i < m->global_count; i++)
        vm->globals[i] = instance->globals[i]->cells;
    for (uint32_t i = 0; i < m->type_count; i++) {
        vm->type_ids[i] = runtime_store_type_id(instance->store, &m->types[i]);
        if (vm->type_ids[i] == UINT32_MAX) {
            free(vm);
            return fl_error_set(err, FL_ERR_NOMEM, "aot: out of memory");
        }
    }
    instance->tier_instance = vm;
    return FL_OK;
}

static void aot_instance_fini(struct runtime_instance *instance)
{
    free(instance->tier_instance);
    instance->tier_instance = NULL;
}

/* Which defined function's native code holds pc: the one whose start is the
 * nearest at or below it. The object lays out the functions and then their
 * entry trampolines, so a pc between the lowest function start and the
 * highest trampoline is in this object's code. */
static bool aot_func_at_pc(void *tier_module, uintptr_t pc, uint32_t *func_index)
{
    const struct aot_module *am = tier_module;
    uint32_t defined = am->module->func_count - am->module->import_func_count;
    uintptr_t best = 0, lowest = UINTPTR_MAX, highest = 0;
    uint32_t best_index = 0;
    for (uint32_t i = 0; i < defined; i++) {
        uintptr_t start = (uintptr_t)am->codes[i].native;
        uintptr_t entry = (uintptr_t)am->codes[i].entry;
        if (start && start < lowest)
            lowest = start;
        if (entry > highest)
            highest = entry;
        if (start && start <= pc && start > best) {
            best = start;
            best_index = i;
        }
    }
    if (!best || pc < lowest || pc > highest)
        return false;
    *func_index = am->module->import_func_count + best_index;
    return true;
}

const struct runtime_tier aot_tier = {
    .name = "aot",
    .invoke = aot_invoke,
    .func_code = aot_func_code,
    .instance_init = aot_instance_init,
    .instance_fini = aot_instance_fini,
    .func_at_pc = aot_func_at_pc,
};
