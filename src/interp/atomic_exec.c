/* atomic_exec.c: the interpreter's atomic loads, stores, read-modify-writes,
 * compare-exchanges, fence, and wait/notify (through the runtime's parking
 * lot). Every access is sequentially consistent, as the threads proposal
 * requires; alignment is checked before bounds, like the reference
 * interpreter. */
#include "interp/atomic_exec.h"

#include <stdbool.h>

#include "wasm/opcodes.h"

/* Families of the subops from 0x10 on, seven widths each (opcodes.h). */
enum family { F_LOAD, F_STORE, F_ADD, F_SUB, F_AND, F_OR, F_XOR, F_XCHG, F_CMPXCHG };

#define SEQ __ATOMIC_SEQ_CST
#define ACCESS(T, p, fam, v, v2, out)                                                         \
    do {                                                                                      \
        T *p_ = (T *)(p);                                                                     \
        switch (fam) {                                                                        \
        case F_LOAD: out = __atomic_load_n(p_, SEQ); break;                                   \
        case F_STORE: __atomic_store_n(p_, (T)(v), SEQ); break;                               \
        case F_ADD: out = __atomic_fetch_add(p_, (T)(v), SEQ); break;                         \
        case F_SUB: out = __atomic_fetch_sub(p_, (T)(v), SEQ); break;                         \
        case F_AND: out = __atomic_fetch_and(p_, (T)(v), SEQ); break;                         \
        case F_OR: out = __atomic_fetch_or(p_, (T)(v), SEQ); break;                           \
        case F_XOR: out = __atomic_fetch_xor(p_, (T)(v), SEQ); break;                         \
        case F_XCHG: out = __atomic_exchange_n(p_, (T)(v), SEQ); break;                       \
        default: {                                                                            \
            /* The expected value is wrapped to the access width first. */                   \
            T e_ = (T)(v);                                                                    \
            __atomic_compare_exchange_n(p_, &e_, (T)(v2), false, SEQ, SEQ);                   \
            out = e_;                                                                         \
            break;                                                                            \
        }                                                                                     \
        }                                                                                     \
    } while (0)

int interp_atomic(struct runtime_exec *exec, struct runtime_instance *inst, uint64_t *fp,
                  const uint32_t *operands)
{
    uint32_t sub = operands[INTERP_ATOMIC_SUB];
    if (sub == WASM_OP_FE_ATOMIC_FENCE) {
        __atomic_thread_fence(SEQ);
        return RUNTIME_OK;
    }
    struct runtime_memory *m = inst->memories[0];
    uint64_t *dst = &fp[operands[INTERP_ATOMIC_DST]];
    uint64_t ea = (uint64_t)(uint32_t)fp[operands[INTERP_ATOMIC_ADDR]] +
                  operands[INTERP_ATOMIC_OFFSET];
    uint64_t v = fp[operands[INTERP_ATOMIC_ARG1]];
    int trap;
    uint32_t r32;
    switch (sub) {
    case WASM_OP_FE_MEMORY_ATOMIC_NOTIFY:
        trap = runtime_atomic_notify(m, ea, (uint32_t)v, &r32);
        *dst = r32;
        return trap;
    case WASM_OP_FE_MEMORY_ATOMIC_WAIT32:
    case WASM_OP_FE_MEMORY_ATOMIC_WAIT64:
        trap = runtime_atomic_wait(exec, m, ea, v, sub == WASM_OP_FE_MEMORY_ATOMIC_WAIT64,
                                   (int64_t)fp[operands[INTERP_ATOMIC_ARG2]], &r32);
        *dst = r32;
        return trap;
    default:
        break;
    }
    uint32_t size = 1u << wasm_atomic_size_log2(sub);
    if (ea % size != 0)
        return RUNTIME_TRAP_UNALIGNED_ATOMIC;
    uint64_t limit = atomic_load_explicit(&m->size, memory_order_acquire);
    if (ea > limit || size > limit - ea)
        return RUNTIME_TRAP_MEMORY_OUT_OF_BOUNDS;
    uint8_t *p = m->base + ea;
    enum family fam = (enum family)((sub - WASM_OP_FE_I32_ATOMIC_LOAD) / 7);
    uint64_t v2 = fam == F_CMPXCHG ? fp[operands[INTERP_ATOMIC_ARG2]] : 0;
    uint64_t out = 0;
    switch (size) {
    case 1: ACCESS(uint8_t, p, fam, v, v2, out); break;
    case 2: ACCESS(uint16_t, p, fam, v, v2, out); break;
    case 4: ACCESS(uint32_t, p, fam, v, v2, out); break;
    default: ACCESS(uint64_t, p, fam, v, v2, out); break;
    }
    if (fam != F_STORE)
        *dst = out; /* narrow results are zero-extended (_u) */
    return RUNTIME_OK;
}
