/* exec.c: the interpreter's dispatch loop. Runs internal code (see
 * interp_internal.h) with direct threading: each instruction starts with the
 * address of its handler, and every handler ends with `goto *next handler`.
 * wasm->wasm calls inside one instance push a frame on exec->stack and stay
 * in the loop; anything else goes through func->invoke. */
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "interp/atomic_exec.h"
#include "interp/interp_internal.h"
#include "interp/numeric.h"
#include "interp/simd_lanes.h"

#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Per-instance data built at instantiation (tier->instance_init): the
 * store-wide type id of each of the module's types, so call_indirect checks a
 * signature with one compare. */
struct interp_instance {
    uint32_t type_count;
    uint32_t type_ids[];
};

/* Memory bounds for this activation: with guard pages the limit is infinite
 * and a stray access faults into the reservation's guard region. */
static inline uint64_t mem_limit(struct runtime_instance *inst)
{
    if (inst->module->memory_count == 0)
        return 0;
    struct runtime_memory *m = inst->memories[0];
    if (m->guarded)
        return UINT64_MAX;
    return atomic_load_explicit(&m->size, memory_order_acquire);
}

static bool type_matches(struct runtime_instance *inst, const struct interp_module *im,
                         const struct runtime_func *fn, uint32_t type_index)
{
    const struct interp_instance *ii = inst->tier_instance;
    if (ii && type_index < ii->type_count)
        return fn->type_id == ii->type_ids[type_index];
    const struct wasm_functype *want = &im->module->types[type_index];
    return fn->type == want || wasm_functype_equal(fn->type, want);
}

static int run(struct runtime_exec *exec, struct runtime_instance *inst,
               const struct interp_func *f, uint64_t *cells, const void *const **table_out)
{
    static const void *const handlers[INTERP_OP_COUNT] = {
#define INTERP_OP_LABEL(name, n) &&L_##name,
        INTERP_OPS(INTERP_OP_LABEL)
#undef INTERP_OP_LABEL
    };
    if (table_out) {
        *table_out = handlers;
        return 0;
    }

    const uint32_t saved_depth = exec->depth;
    void *const saved_top = exec->tier_state;
    /* A nested activation (a host function or another instance called back
     * into us) starts above the frames of the one that called out. */
    uint64_t *base = exec->stack;
    if (saved_depth > 0 && saved_top) {
        uint64_t *t = saved_top;
        if (t >= exec->stack && t <= exec->stack_end)
            base = t;
    }
    if (!base || saved_depth >= exec->max_depth ||
        (size_t)(exec->stack_end - base) < f->frame_cells)
        return RUNTIME_TRAP_CALL_STACK_EXHAUSTED;
    if (atomic_load_explicit(&exec->interrupt, memory_order_relaxed))
        return RUNTIME_TRAP_INTERRUPTED;

    uint64_t *fp = base;
    if (f->param_cells)
        memmove(fp, cells, (size_t)f->param_cells * sizeof(uint64_t));
    memset(fp + f->param_cells, 0, (size_t)(f->local_cells - f->param_cells) * sizeof(uint64_t));
    exec->depth = saved_depth + 1;

    const struct interp_module *const im = f->imodule;
    const struct interp_func *cur = f;
    const uint32_t *ip = f->code;
    uint8_t *mb = im->module->memory_count ? inst->memories[0]->base : NULL;
    uint64_t mlimit = mem_limit(inst);
    int trap = RUNTIME_OK;

    /* The running function is kept in exec at every call and return (not per
     * instruction) so a guard-page fault, which leaves by siglongjmp without
     * passing through `trapped`, still names it. Volatile: the store must be
     * done before any access that may fault. */
#define SET_CUR_FUNC(fi_) (*(volatile uint32_t *)&exec->trap_func = (fi_))
    exec->trap_module = im->module;
    SET_CUR_FUNC(f->func_index);

#define DISPATCH()                                  \
    do {                                            \
        const void *h_;                             \
        memcpy(&h_, ip, sizeof h_);                 \
        goto *h_;                                   \
    } while (0)
#define OP(i) (ip[INTERP_HANDLER_UNITS + (i)])
#define SL(i) (fp[OP(i)])
#define NEXT(n)                                     \
    do {                                            \
        ip += INTERP_HANDLER_UNITS + (n);           \
        DISPATCH();                                 \
    } while (0)
#define TRAP(code)                                  \
    do {                                            \
        trap = (code);                              \
        goto trapped;                               \
    } while (0)
#define CHECK_INTERRUPT()                                                   \
    do {                                                                    \
        if (UNLIKELY(atomic_load_explicit(&exec->interrupt, memory_order_relaxed))) \
            TRAP(RUNTIME_TRAP_INTERRUPTED);                                 \
    } while (0)
    /* Backward branches (loops) poll for interruption. */
#define JUMP(off)                                   \
    do {                                            \
        int32_t o_ = (int32_t)(off);                \
        ip += o_;                                   \
        if (UNLIKELY(o_ <= 0))                      \
            CHECK_INTERRUPT();                      \
        DISPATCH();                                 \
    } while (0)
#define I32(i) ((uint32_t)SL(i))
#define I64(i) (SL(i))
#define F32(i) num_f32(SL(i))
#define F64(i) num_f64(SL(i))

    DISPATCH();

    /* ---- control ---- */
L_UNREACHABLE:
    TRAP(RUNTIME_TRAP_UNREACHABLE);
L_NOP:
    NEXT(0);
L_BR:
    JUMP(OP(0));
L_BR_Z:
    if ((uint32_t)SL(0) == 0)
        JUMP(OP(1));
    NEXT(2);
L_BR_NZ:
    if ((uint32_t)SL(0) != 0)
        JUMP(OP(1));
    NEXT(2);
L_BR_Z64:
    if (SL(0) == 0)
        JUMP(OP(1));
    NEXT(2);
L_BR_NZ64:
    if (SL(0) != 0)
        JUMP(OP(1));
    NEXT(2);
L_BR_TABLE: {
    uint32_t i = (uint32_t)SL(0);
    uint32_t n = OP(1);
    if (i > n)
        i = n;
    JUMP(OP(2 + i));
}

#define BR_CMP(NAME, T, EXPR_A, EXPR_B, CMP) \
    L_BR_##NAME: {                           \
        T a_ = (T)(EXPR_A), b_ = (T)(EXPR_B); \
        if (a_ CMP b_)                       \
            JUMP(OP(2));                     \
        NEXT(3);                             \
    }
    BR_CMP(I32_EQ, uint32_t, SL(0), SL(1), ==)
    BR_CMP(I32_NE, uint32_t, SL(0), SL(1), !=)
    BR_CMP(I32_LT_S, int32_t, (uint32_t)SL(0), (uint32_t)SL(1), <)
    BR_CMP(I32_LT_U, uint32_t, SL(0), SL(1), <)
    BR_CMP(I32_GT_S, int32_t, (uint32_t)SL(0), (uint32_t)SL(1), >)
    BR_CMP(I32_GT_U, uint32_t, SL(0), SL(1), >)
    BR_CMP(I32_LE_S, int32_t, (uint32_t)SL(0), (uint32_t)SL(1), <=)
    BR_CMP(I32_LE_U, uint32_t, SL(0), SL(1), <=)
    BR_CMP(I32_GE_S, int32_t, (uint32_t)SL(0), (uint32_t)SL(1), >=)
    BR_CMP(I32_GE_U, uint32_t, SL(0), SL(1), >=)
    BR_CMP(I32_EQ_IMM, uint32_t, SL(0), OP(1), ==)
    BR_CMP(I32_NE_IMM, uint32_t, SL(0), OP(1), !=)
    BR_CMP(I32_LT_S_IMM, int32_t, (uint32_t)SL(0), OP(1), <)
    BR_CMP(I32_LT_U_IMM, uint32_t, SL(0), OP(1), <)
    BR_CMP(I32_GT_S_IMM, int32_t, (uint32_t)SL(0), OP(1), >)
    BR_CMP(I32_GT_U_IMM, uint32_t, SL(0), OP(1), >)
    BR_CMP(I32_LE_S_IMM, int32_t, (uint32_t)SL(0), OP(1), <=)
    BR_CMP(I32_LE_U_IMM, uint32_t, SL(0), OP(1), <=)
    BR_CMP(I32_GE_S_IMM, int32_t, (uint32_t)SL(0), OP(1), >=)
    BR_CMP(I32_GE_U_IMM, uint32_t, SL(0), OP(1), >=)
    BR_CMP(I64_EQ, uint64_t, SL(0), SL(1), ==)
    BR_CMP(I64_NE, uint64_t, SL(0), SL(1), !=)
    BR_CMP(I64_LT_S, int64_t, SL(0), SL(1), <)
    BR_CMP(I64_LT_U, uint64_t, SL(0), SL(1), <)
    BR_CMP(I64_GT_S, int64_t, SL(0), SL(1), >)
    BR_CMP(I64_GT_U, uint64_t, SL(0), SL(1), >)
    BR_CMP(I64_LE_S, int64_t, SL(0), SL(1), <=)
    BR_CMP(I64_LE_U, uint64_t, SL(0), SL(1), <=)
    BR_CMP(I64_GE_S, int64_t, SL(0), SL(1), >=)
    BR_CMP(I64_GE_U, uint64_t, SL(0), SL(1), >=)
#undef BR_CMP

L_RET: {
    uint32_t m = OP(0);
    if (fp == base) {
        if (m)
            memcpy(cells, fp, (size_t)m * sizeof(uint64_t));
        exec->depth = saved_depth;
        exec->tier_state = saved_top;
        return RUNTIME_OK;
    }
    /* Read the record before copying: more results than arguments
     * overwrite it (the destination is below the callee frame, so an
     * ascending copy is safe). */
    const uint64_t *rec = fp - INTERP_FRAME_RECORD_CELLS;
    uint64_t *dst = (uint64_t *)(uintptr_t)rec[3];
    const uint64_t *src = fp;
    ip = (const uint32_t *)(uintptr_t)rec[0];
    fp = (uint64_t *)(uintptr_t)rec[1];
    cur = (const struct interp_func *)(uintptr_t)rec[2];
    SET_CUR_FUNC(cur->func_index);
    for (uint32_t i = 0; i < m; i++)
        dst[i] = src[i];
    exec->depth--;
    DISPATCH();
}

    /* Enters callee (same instance) with its arguments at args and the
     * return record at rec; next is where the caller resumes. */
#define ENTER(callee_, args_, rec_, next_)                                        \
    do {                                                                          \
        const struct interp_func *c_ = (callee_);                                 \
        uint64_t *a_ = (args_), *r_ = (rec_);                                     \
        uint64_t *nfp_ = r_ + INTERP_FRAME_RECORD_CELLS;                          \
        if (UNLIKELY(exec->depth >= exec->max_depth ||                            \
                     (size_t)(exec->stack_end - nfp_) < c_->frame_cells))         \
            TRAP(RUNTIME_TRAP_CALL_STACK_EXHAUSTED);                              \
        CHECK_INTERRUPT();                                                        \
        r_[0] = (uintptr_t)(next_);                                               \
        r_[1] = (uintptr_t)fp;                                                    \
        r_[2] = (uintptr_t)cur;                                                   \
        r_[3] = (uintptr_t)a_;                                                    \
        for (uint32_t i_ = 0; i_ < c_->param_cells; i_++)                         \
            nfp_[i_] = a_[i_];                                                    \
        for (uint32_t i_ = c_->param_cells; i_ < c_->local_cells; i_++)           \
            nfp_[i_] = 0;                                                         \
        exec->depth++;                                                            \
        fp = nfp_;                                                                \
        cur = c_;                                                                 \
        SET_CUR_FUNC(c_->func_index);                                             \
        ip = c_->code;                                                            \
        DISPATCH();                                                               \
    } while (0)

    /* Calls out through func->invoke (host functions, other instances, other
     * tiers); nested interpreter activations start above this frame. */
#define CALL_OUT(fn_, args_)                                                      \
    do {                                                                          \
        struct runtime_func *fo_ = (fn_);                                         \
        exec->tier_state = fp + cur->frame_cells;                                 \
        int rc_ = fo_->invoke(exec, inst, fo_, (args_));                          \
        exec->tier_state = saved_top;                                             \
        if (UNLIKELY(rc_ != RUNTIME_OK)) {                                        \
            trap = rc_;                                                           \
            goto trapped_elsewhere;                                               \
        }                                                                         \
        mlimit = mem_limit(inst);                                                 \
        exec->trap_module = im->module;                                           \
        SET_CUR_FUNC(cur->func_index);                                            \
    } while (0)

L_CALL:
    ENTER(&im->funcs[OP(0)], fp + OP(1), fp + OP(2), ip + INTERP_HANDLER_UNITS + 3);
L_CALL_IMPORT:
    CALL_OUT(inst->funcs[OP(0)], fp + OP(1));
    NEXT(2);
L_CALL_INDIRECT: {
    struct runtime_table *t = inst->tables[OP(0)];
    uint32_t i = (uint32_t)SL(2);
    if (UNLIKELY(i >= t->size))
        TRAP(RUNTIME_TRAP_UNDEFINED_ELEMENT);
    struct runtime_func *fn = (struct runtime_func *)t->elems[i];
    if (UNLIKELY(!fn)) {
        /* The spec's text names the element index. */
        snprintf(exec->trap_msg, sizeof exec->trap_msg, "uninitialized element %u", i);
        TRAP(RUNTIME_TRAP_UNINITIALIZED_ELEMENT);
    }
    if (UNLIKELY(!type_matches(inst, im, fn, OP(1))))
        TRAP(RUNTIME_TRAP_INDIRECT_CALL_TYPE_MISMATCH);
    /* A per-thread clone runs its origin's functions as its own (runtime.h). */
    if ((fn->instance == inst || (inst->origin && fn->instance == inst->origin)) &&
        fn->invoke == interp_invoke && !fn->host_fn)
        ENTER((const struct interp_func *)fn->code, fp + OP(3), fp + OP(4),
              ip + INTERP_HANDLER_UNITS + 5);
    CALL_OUT(fn, fp + OP(3));
    NEXT(5);
}

    /* ---- moves and constants ---- */
L_MOV:
    SL(0) = SL(1);
    NEXT(2);
L_CONST32:
    SL(0) = OP(1);
    NEXT(2);
L_CONST64:
    SL(0) = (uint64_t)OP(1) | (uint64_t)OP(2) << 32;
    NEXT(3);
L_GLOBAL_GET:
    SL(0) = inst->globals[OP(1)]->cells[0];
    NEXT(2);
L_GLOBAL_SET:
    inst->globals[OP(0)]->cells[0] = SL(1);
    NEXT(2);
L_SELECT: {
    uint64_t v = (uint32_t)SL(3) ? SL(1) : SL(2);
    SL(0) = v;
    NEXT(4);
}

    /* ---- memory ---- */
    /* Effective address of a size-byte access; with guard pages mlimit is
     * UINT64_MAX and the check folds away at run time (always false). */
#define EA(addr_slot, size)                                                       \
    ({                                                                            \
        uint64_t ea_ = (uint64_t)(uint32_t)SL(addr_slot) + OP(2);                 \
        if (UNLIKELY(ea_ + (size) > mlimit)) {                                    \
            mlimit = mem_limit(inst);                                             \
            if (ea_ + (size) > mlimit)                                            \
                TRAP(RUNTIME_TRAP_MEMORY_OUT_OF_BOUNDS);                          \
        }                                                                         \
        mb + ea_;                                                                 \
    })
#define LOAD(NAME, T, CONV)                                                       \
    L_##NAME: {                                                                   \
        T v_;                                                                     \
        memcpy(&v_, EA(1, sizeof(T)), sizeof(T));                                 \
        SL(0) = CONV(v_);                                                         \
        NEXT(3);                                                                  \
    }
#define STORE(NAME, T)                                                            \
    L_##NAME: {                                                                   \
        T v_ = (T)SL(1);                                                          \
        memcpy(EA(0, sizeof(T)), &v_, sizeof(T));                                 \
        NEXT(3);                                                                  \
    }
#define CV_U32(v) ((uint64_t)(uint32_t)(v))
#define CV_U64(v) ((uint64_t)(v))
#define CV_S8_32(v) ((uint64_t)(uint32_t)(int32_t)(v))
#define CV_S_64(v) ((uint64_t)(int64_t)(v))
    LOAD(I32_LOAD, uint32_t, CV_U32)
    LOAD(I64_LOAD, uint64_t, CV_U64)
    LOAD(F32_LOAD, uint32_t, CV_U32)
    LOAD(F64_LOAD, uint64_t, CV_U64)
    /* Address (u32)(slot 1 + imm 2) + offset 3 (an i32.add folded in). */
#define LOAD_AI(NAME, T)                                                          \
    L_##NAME: {                                                                   \
        uint64_t ea_ = (uint64_t)(uint32_t)(I32(1) + OP(2)) + OP(3);              \
        if (UNLIKELY(ea_ + sizeof(T) > mlimit)) {                                 \
            mlimit = mem_limit(inst);                                             \
            if (ea_ + sizeof(T) > mlimit)                                         \
                TRAP(RUNTIME_TRAP_MEMORY_OUT_OF_BOUNDS);                          \
        }                                                                         \
        T v_;                                                                     \
        memcpy(&v_, mb + ea_, sizeof(T));                                         \
        SL(0) = v_;                                                               \
        NEXT(4);                                                                  \
    }
    LOAD_AI(F64_LOAD_AI, uint64_t)
    LOAD_AI(I32_LOAD_AI, uint32_t)
#undef LOAD_AI
    LOAD(I32_LOAD8_S, int8_t, CV_S8_32)
    LOAD(I32_LOAD8_U, uint8_t, CV_U32)
    LOAD(I32_LOAD16_S, int16_t, CV_S8_32)
    LOAD(I32_LOAD16_U, uint16_t, CV_U32)
    LOAD(I64_LOAD8_S, int8_t, CV_S_64)
    LOAD(I64_LOAD8_U, uint8_t, CV_U64)
    LOAD(I64_LOAD16_S, int16_t, CV_S_64)
    LOAD(I64_LOAD16_U, uint16_t, CV_U64)
    LOAD(I64_LOAD32_S, int32_t, CV_S_64)
    LOAD(I64_LOAD32_U, uint32_t, CV_U64)
    STORE(I32_STORE, uint32_t)
    STORE(I64_STORE, uint64_t)
    STORE(F32_STORE, uint32_t)
    STORE(F64_STORE, uint64_t)
    STORE(I32_STORE8, uint8_t)
    STORE(I32_STORE16, uint16_t)
    STORE(I64_STORE8, uint8_t)
    STORE(I64_STORE16, uint16_t)
    STORE(I64_STORE32, uint32_t)
#undef LOAD
#undef STORE

L_MEMORY_SIZE:
    SL(0) = (uint32_t)(atomic_load_explicit(&inst->memories[0]->size, memory_order_acquire) /
                       WASM_PAGE_SIZE);
    NEXT(1);
L_MEMORY_GROW: {
    int64_t old = runtime_memory_grow(inst->memories[0], (uint32_t)SL(1));
    SL(0) = (uint32_t)(int32_t)old;
    mlimit = mem_limit(inst);
    NEXT(2);
}
L_MEMORY_INIT: {
    int rc = runtime_memory_init(inst, 0, OP(0), (uint32_t)SL(1), (uint32_t)SL(2),
                                 (uint32_t)SL(3));
    if (rc != RUNTIME_OK)
        TRAP(rc);
    NEXT(4);
}
L_DATA_DROP:
    inst->data_dropped[OP(0)] = 1;
    NEXT(1);
L_MEMORY_COPY: {
    uint64_t d = (uint32_t)SL(0), s = (uint32_t)SL(1), n = (uint32_t)SL(2);
    uint64_t size = atomic_load_explicit(&inst->memories[0]->size, memory_order_acquire);
    if (d + n > size || s + n > size)
        TRAP(RUNTIME_TRAP_MEMORY_OUT_OF_BOUNDS);
    if (n)
        memmove(mb + d, mb + s, n);
    NEXT(3);
}
L_MEMORY_FILL: {
    uint64_t d = (uint32_t)SL(0), n = (uint32_t)SL(2);
    uint8_t v = (uint8_t)SL(1);
    uint64_t size = atomic_load_explicit(&inst->memories[0]->size, memory_order_acquire);
    if (d + n > size)
        TRAP(RUNTIME_TRAP_MEMORY_OUT_OF_BOUNDS);
    if (n)
        memset(mb + d, v, n);
    NEXT(3);
}

L_ATOMIC: {
    int rc = interp_atomic(exec, inst, fp, ip + INTERP_HANDLER_UNITS);
    if (UNLIKELY(rc != RUNTIME_OK))
        TRAP(rc);
    NEXT(INTERP_ATOMIC_UNITS);
}

    /* ---- unary ---- */
#define UN(NAME, EXPR)                                                            \
    L_##NAME: {                                                                   \
        uint64_t r_ = (EXPR);                                                     \
        SL(0) = r_;                                                               \
        NEXT(2);                                                                  \
    }
    UN(I32_EQZ, I32(1) == 0)
    UN(I64_EQZ, I64(1) == 0)
    UN(I32_CLZ, I32(1) ? (uint32_t)__builtin_clz(I32(1)) : 32u)
    UN(I32_CTZ, I32(1) ? (uint32_t)__builtin_ctz(I32(1)) : 32u)
    UN(I32_POPCNT, (uint32_t)__builtin_popcount(I32(1)))
    UN(I64_CLZ, I64(1) ? (uint64_t)__builtin_clzll(I64(1)) : 64u)
    UN(I64_CTZ, I64(1) ? (uint64_t)__builtin_ctzll(I64(1)) : 64u)
    UN(I64_POPCNT, (uint64_t)__builtin_popcountll(I64(1)))
    UN(F32_ABS, num_f32_abs_bits(SL(1)))
    UN(F32_NEG, num_f32_neg_bits(SL(1)))
    UN(F32_CEIL, num_from_f32(num_f32_ceil(F32(1))))
    UN(F32_FLOOR, num_from_f32(num_f32_floor(F32(1))))
    UN(F32_TRUNC, num_from_f32(num_f32_trunc(F32(1))))
    UN(F32_NEAREST, num_from_f32(num_f32_nearest(F32(1))))
    UN(F32_SQRT, num_from_f32(sqrtf(F32(1))))
    UN(F64_ABS, num_f64_abs_bits(SL(1)))
    UN(F64_NEG, num_f64_neg_bits(SL(1)))
    UN(F64_CEIL, num_from_f64(num_f64_ceil(F64(1))))
    UN(F64_FLOOR, num_from_f64(num_f64_floor(F64(1))))
    UN(F64_TRUNC, num_from_f64(num_f64_trunc(F64(1))))
    UN(F64_NEAREST, num_from_f64(num_f64_nearest(F64(1))))
    UN(F64_SQRT, num_from_f64(sqrt(F64(1))))
    UN(I32_WRAP_I64, (uint32_t)SL(1))
    UN(I64_EXTEND_I32_S, (uint64_t)(int64_t)(int32_t)I32(1))
    UN(I64_EXTEND_I32_U, (uint64_t)I32(1))
    UN(F32_CONVERT_I32_S, num_from_f32((float)(int32_t)I32(1)))
    UN(F32_CONVERT_I32_U, num_from_f32((float)I32(1)))
    UN(F32_CONVERT_I64_S, num_from_f32((float)(int64_t)I64(1)))
    UN(F32_CONVERT_I64_U, num_from_f32((float)I64(1)))
    UN(F32_DEMOTE_F64, num_from_f32((float)F64(1)))
    UN(F64_CONVERT_I32_S, num_from_f64((double)(int32_t)I32(1)))
    UN(F64_CONVERT_I32_U, num_from_f64((double)I32(1)))
    UN(F64_CONVERT_I64_S, num_from_f64((double)(int64_t)I64(1)))
    UN(F64_CONVERT_I64_U, num_from_f64((double)I64(1)))
    UN(F64_PROMOTE_F32, num_from_f64((double)F32(1)))
    UN(I32_EXTEND8_S, (uint32_t)(int32_t)(int8_t)(uint8_t)I32(1))
    UN(I32_EXTEND16_S, (uint32_t)(int32_t)(int16_t)(uint16_t)I32(1))
    UN(I64_EXTEND8_S, (uint64_t)(int64_t)(int8_t)(uint8_t)I64(1))
    UN(I64_EXTEND16_S, (uint64_t)(int64_t)(int16_t)(uint16_t)I64(1))
    UN(I64_EXTEND32_S, (uint64_t)(int64_t)(int32_t)(uint32_t)I64(1))
    UN(I32_TRUNC_SAT_F32_S, (uint32_t)num_sat_i32(F32(1)))
    UN(I32_TRUNC_SAT_F32_U, num_sat_u32(F32(1)))
    UN(I32_TRUNC_SAT_F64_S, (uint32_t)num_sat_i32(F64(1)))
    UN(I32_TRUNC_SAT_F64_U, num_sat_u32(F64(1)))
    UN(I64_TRUNC_SAT_F32_S, (uint64_t)num_sat_i64(F32(1)))
    UN(I64_TRUNC_SAT_F32_U, num_sat_u64(F32(1)))
    UN(I64_TRUNC_SAT_F64_S, (uint64_t)num_sat_i64(F64(1)))
    UN(I64_TRUNC_SAT_F64_U, num_sat_u64(F64(1)))
    UN(REF_IS_NULL, SL(1) == 0)
    UN(REF_FUNC, (uint64_t)(uintptr_t)inst->funcs[OP(1)])
#undef UN

    /* Checked float->int truncation: NaN and out-of-range trap. */
#define TRUNC(NAME, FN, T, SRC, CONV)                                             \
    L_##NAME: {                                                                   \
        T r_;                                                                     \
        int e_ = FN(SRC, &r_);                                                    \
        if (UNLIKELY(e_))                                                         \
            TRAP(e_ == 1 ? RUNTIME_TRAP_INVALID_CONVERSION : RUNTIME_TRAP_INT_OVERFLOW); \
        SL(0) = CONV(r_);                                                         \
        NEXT(2);                                                                  \
    }
    TRUNC(I32_TRUNC_F32_S, num_trunc_f64_i32, int32_t, F32(1), (uint32_t))
    TRUNC(I32_TRUNC_F32_U, num_trunc_f64_u32, uint32_t, F32(1), (uint64_t))
    TRUNC(I32_TRUNC_F64_S, num_trunc_f64_i32, int32_t, F64(1), (uint32_t))
    TRUNC(I32_TRUNC_F64_U, num_trunc_f64_u32, uint32_t, F64(1), (uint64_t))
    TRUNC(I64_TRUNC_F32_S, num_trunc_f64_i64, int64_t, F32(1), (uint64_t))
    TRUNC(I64_TRUNC_F32_U, num_trunc_f64_u64, uint64_t, F32(1), (uint64_t))
    TRUNC(I64_TRUNC_F64_S, num_trunc_f64_i64, int64_t, F64(1), (uint64_t))
    TRUNC(I64_TRUNC_F64_U, num_trunc_f64_u64, uint64_t, F64(1), (uint64_t))
#undef TRUNC

    /* ---- binary ---- */
#define BIN(NAME, EXPR)                                                           \
    L_##NAME: {                                                                   \
        uint64_t r_ = (EXPR);                                                     \
        SL(0) = r_;                                                               \
        NEXT(3);                                                                  \
    }
    BIN(I32_EQ, I32(1) == I32(2))
    BIN(I32_NE, I32(1) != I32(2))
    BIN(I32_LT_S, (int32_t)I32(1) < (int32_t)I32(2))
    BIN(I32_LT_U, I32(1) < I32(2))
    BIN(I32_GT_S, (int32_t)I32(1) > (int32_t)I32(2))
    BIN(I32_GT_U, I32(1) > I32(2))
    BIN(I32_LE_S, (int32_t)I32(1) <= (int32_t)I32(2))
    BIN(I32_LE_U, I32(1) <= I32(2))
    BIN(I32_GE_S, (int32_t)I32(1) >= (int32_t)I32(2))
    BIN(I32_GE_U, I32(1) >= I32(2))
    BIN(I64_EQ, I64(1) == I64(2))
    BIN(I64_NE, I64(1) != I64(2))
    BIN(I64_LT_S, (int64_t)I64(1) < (int64_t)I64(2))
    BIN(I64_LT_U, I64(1) < I64(2))
    BIN(I64_GT_S, (int64_t)I64(1) > (int64_t)I64(2))
    BIN(I64_GT_U, I64(1) > I64(2))
    BIN(I64_LE_S, (int64_t)I64(1) <= (int64_t)I64(2))
    BIN(I64_LE_U, I64(1) <= I64(2))
    BIN(I64_GE_S, (int64_t)I64(1) >= (int64_t)I64(2))
    BIN(I64_GE_U, I64(1) >= I64(2))
    BIN(F32_EQ, F32(1) == F32(2))
    BIN(F32_NE, F32(1) != F32(2))
    BIN(F32_LT, F32(1) < F32(2))
    BIN(F32_GT, F32(1) > F32(2))
    BIN(F32_LE, F32(1) <= F32(2))
    BIN(F32_GE, F32(1) >= F32(2))
    BIN(F64_EQ, F64(1) == F64(2))
    BIN(F64_NE, F64(1) != F64(2))
    BIN(F64_LT, F64(1) < F64(2))
    BIN(F64_GT, F64(1) > F64(2))
    BIN(F64_LE, F64(1) <= F64(2))
    BIN(F64_GE, F64(1) >= F64(2))
    BIN(I32_ADD, (uint32_t)(I32(1) + I32(2)))
    BIN(I32_SUB, (uint32_t)(I32(1) - I32(2)))
    BIN(I32_MUL, (uint32_t)(I32(1) * I32(2)))
    BIN(I32_AND, I32(1) & I32(2))
    BIN(I32_OR, I32(1) | I32(2))
    BIN(I32_XOR, I32(1) ^ I32(2))
    BIN(I32_SHL, (uint32_t)(I32(1) << (I32(2) & 31)))
    BIN(I32_SHR_S, num_shr_s32(I32(1), I32(2)))
    BIN(I32_SHR_U, I32(1) >> (I32(2) & 31))
    BIN(I32_ROTL, num_rotl32(I32(1), I32(2)))
    BIN(I32_ROTR, num_rotr32(I32(1), I32(2)))
    BIN(I64_ADD, I64(1) + I64(2))
    BIN(I64_SUB, I64(1) - I64(2))
    BIN(I64_MUL, I64(1) * I64(2))
    BIN(I64_AND, I64(1) & I64(2))
    BIN(I64_OR, I64(1) | I64(2))
    BIN(I64_XOR, I64(1) ^ I64(2))
    BIN(I64_SHL, I64(1) << (I64(2) & 63))
    BIN(I64_SHR_S, num_shr_s64(I64(1), I64(2)))
    BIN(I64_SHR_U, I64(1) >> (I64(2) & 63))
    BIN(I64_ROTL, num_rotl64(I64(1), I64(2)))
    BIN(I64_ROTR, num_rotr64(I64(1), I64(2)))
    BIN(F32_ADD, num_from_f32(F32(1) + F32(2)))
    BIN(F32_SUB, num_from_f32(F32(1) - F32(2)))
    BIN(F32_MUL, num_from_f32(F32(1) * F32(2)))
    BIN(F32_DIV, num_from_f32(F32(1) / F32(2)))
    BIN(F32_MIN, num_from_f32(num_f32_min(F32(1), F32(2))))
    BIN(F32_MAX, num_from_f32(num_f32_max(F32(1), F32(2))))
    BIN(F32_COPYSIGN, num_f32_copysign_bits(SL(1), SL(2)))
    BIN(F64_ADD, num_from_f64(F64(1) + F64(2)))
    BIN(F64_SUB, num_from_f64(F64(1) - F64(2)))
    BIN(F64_MUL, num_from_f64(F64(1) * F64(2)))
    BIN(F64_DIV, num_from_f64(F64(1) / F64(2)))
    BIN(F64_MIN, num_from_f64(num_f64_min(F64(1), F64(2))))
    BIN(F64_MAX, num_from_f64(num_f64_max(F64(1), F64(2))))
    BIN(F64_COPYSIGN, num_f64_copysign_bits(SL(1), SL(2)))

    /* Division traps: by zero, and INT_MIN / -1 (overflow; rem gives 0). */
L_I32_DIV_S: {
    int32_t a = (int32_t)I32(1), b = (int32_t)I32(2);
    if (UNLIKELY(b == 0))
        TRAP(RUNTIME_TRAP_INT_DIVIDE_BY_ZERO);
    if (UNLIKELY(a == INT32_MIN && b == -1))
        TRAP(RUNTIME_TRAP_INT_OVERFLOW);
    SL(0) = (uint32_t)(a / b);
    NEXT(3);
}
L_I32_DIV_U: {
    uint32_t a = I32(1), b = I32(2);
    if (UNLIKELY(b == 0))
        TRAP(RUNTIME_TRAP_INT_DIVIDE_BY_ZERO);
    SL(0) = a / b;
    NEXT(3);
}
L_I32_REM_S: {
    int32_t a = (int32_t)I32(1), b = (int32_t)I32(2);
    if (UNLIKELY(b == 0))
        TRAP(RUNTIME_TRAP_INT_DIVIDE_BY_ZERO);
    SL(0) = b == -1 ? 0 : (uint32_t)(a % b);
    NEXT(3);
}
L_I32_REM_U: {
    uint32_t a = I32(1), b = I32(2);
    if (UNLIKELY(b == 0))
        TRAP(RUNTIME_TRAP_INT_DIVIDE_BY_ZERO);
    SL(0) = a % b;
    NEXT(3);
}
L_I64_DIV_S: {
    int64_t a = (int64_t)I64(1), b = (int64_t)I64(2);
    if (UNLIKELY(b == 0))
        TRAP(RUNTIME_TRAP_INT_DIVIDE_BY_ZERO);
    if (UNLIKELY(a == INT64_MIN && b == -1))
        TRAP(RUNTIME_TRAP_INT_OVERFLOW);
    SL(0) = (uint64_t)(a / b);
    NEXT(3);
}
L_I64_DIV_U: {
    uint64_t a = I64(1), b = I64(2);
    if (UNLIKELY(b == 0))
        TRAP(RUNTIME_TRAP_INT_DIVIDE_BY_ZERO);
    SL(0) = a / b;
    NEXT(3);
}
L_I64_REM_S: {
    int64_t a = (int64_t)I64(1), b = (int64_t)I64(2);
    if (UNLIKELY(b == 0))
        TRAP(RUNTIME_TRAP_INT_DIVIDE_BY_ZERO);
    SL(0) = b == -1 ? 0 : (uint64_t)(a % b);
    NEXT(3);
}
L_I64_REM_U: {
    uint64_t a = I64(1), b = I64(2);
    if (UNLIKELY(b == 0))
        TRAP(RUNTIME_TRAP_INT_DIVIDE_BY_ZERO);
    SL(0) = a % b;
    NEXT(3);
}

    /* Immediate forms: operand 2 is the constant (i64: sign-extended). */
#define IMM32 (OP(2))
#define IMM64 ((uint64_t)(int64_t)(int32_t)OP(2))
    BIN(I32_ADD_IMM, (uint32_t)(I32(1) + IMM32))
    BIN(I32_SUB_IMM, (uint32_t)(I32(1) - IMM32))
    BIN(I32_MUL_IMM, (uint32_t)(I32(1) * IMM32))
    BIN(I32_AND_IMM, I32(1) & IMM32)
    BIN(I32_OR_IMM, I32(1) | IMM32)
    BIN(I32_XOR_IMM, I32(1) ^ IMM32)
    BIN(I32_SHL_IMM, (uint32_t)(I32(1) << (IMM32 & 31)))
    BIN(I32_SHR_S_IMM, num_shr_s32(I32(1), IMM32))
    BIN(I32_SHR_U_IMM, I32(1) >> (IMM32 & 31))
    BIN(I32_EQ_IMM, I32(1) == IMM32)
    BIN(I32_NE_IMM, I32(1) != IMM32)
    BIN(I32_LT_S_IMM, (int32_t)I32(1) < (int32_t)IMM32)
    BIN(I32_LT_U_IMM, I32(1) < IMM32)
    BIN(I32_GT_S_IMM, (int32_t)I32(1) > (int32_t)IMM32)
    BIN(I32_GT_U_IMM, I32(1) > IMM32)
    BIN(I32_LE_S_IMM, (int32_t)I32(1) <= (int32_t)IMM32)
    BIN(I32_LE_U_IMM, I32(1) <= IMM32)
    BIN(I32_GE_S_IMM, (int32_t)I32(1) >= (int32_t)IMM32)
    BIN(I32_GE_U_IMM, I32(1) >= IMM32)
    BIN(I64_ADD_IMM, I64(1) + IMM64)
    BIN(I64_SUB_IMM, I64(1) - IMM64)
    BIN(I64_MUL_IMM, I64(1) * IMM64)
    BIN(I64_AND_IMM, I64(1) & IMM64)
    BIN(I64_OR_IMM, I64(1) | IMM64)
    BIN(I64_XOR_IMM, I64(1) ^ IMM64)
    BIN(I64_SHL_IMM, I64(1) << (IMM64 & 63))
    BIN(I64_SHR_S_IMM, num_shr_s64(I64(1), IMM64))
    BIN(I64_SHR_U_IMM, I64(1) >> (IMM64 & 63))
    BIN(I32_ROTL_IMM, num_rotl32(I32(1), IMM32))
    BIN(I32_ROTR_IMM, num_rotr32(I32(1), IMM32))
    BIN(I64_ROTL_IMM, num_rotl64(I64(1), IMM64))
    BIN(I64_ROTR_IMM, num_rotr64(I64(1), IMM64))
    /* ---- xor of a rotated/shifted operand: dst a x k ---- */
L_I32_XOR_ROTL_IMM:
    SL(0) = I32(1) ^ num_rotl32(I32(2), OP(3));
    NEXT(4);
L_I32_XOR_SHR_U_IMM:
    SL(0) = I32(1) ^ (I32(2) >> (OP(3) & 31));
    NEXT(4);
#undef BIN

    /* f64 with a 64-bit immediate (operands 2, 3: low and high bits). */
#define FIMM (num_f64((uint64_t)OP(2) | (uint64_t)OP(3) << 32))
#define FBIN(NAME, EXPR)                                                          \
    L_##NAME: {                                                                   \
        uint64_t r_ = num_from_f64(EXPR);                                         \
        SL(0) = r_;                                                               \
        NEXT(4);                                                                  \
    }
    FBIN(F64_ADD_IMM, F64(1) + FIMM)
    FBIN(F64_SUB_IMM, F64(1) - FIMM)
    FBIN(F64_MUL_IMM, F64(1) * FIMM)
    FBIN(F64_DIV_IMM, F64(1) / FIMM)
#undef FIMM

    /* f64 with the second operand loaded from memory: address
     * (u32)(slot 2 + imm 3) + offset 4. */
#define FMEM                                                                      \
    ({                                                                            \
        uint64_t ea_ = (uint64_t)(uint32_t)(I32(2) + OP(3)) + OP(4);              \
        if (UNLIKELY(ea_ + 8 > mlimit)) {                                         \
            mlimit = mem_limit(inst);                                             \
            if (ea_ + 8 > mlimit)                                                 \
                TRAP(RUNTIME_TRAP_MEMORY_OUT_OF_BOUNDS);                          \
        }                                                                         \
        uint64_t v_;                                                              \
        memcpy(&v_, mb + ea_, 8);                                                 \
        num_f64(v_);                                                              \
    })
#define FBIN5(NAME, EXPR)                                                         \
    L_##NAME: {                                                                   \
        uint64_t r_ = num_from_f64(EXPR);                                         \
        SL(0) = r_;                                                               \
        NEXT(5);                                                                  \
    }
#undef FBIN
#define FBIN FBIN5
    FBIN(F64_ADD_MEM, F64(1) + FMEM)
    FBIN(F64_SUB_MEM, F64(1) - FMEM)
    FBIN(F64_MUL_MEM, F64(1) * FMEM)
    FBIN(F64_DIV_MEM, F64(1) / FMEM)

    /* Stores of an f64 result: the address is slot 0 and the store's offset
     * the last operand; the value is never written to a slot. */
#define FSTORE(NAME, EXPR, OFF, UNITS)                                            \
    L_##NAME: {                                                                   \
        uint64_t r_ = num_from_f64(EXPR);                                         \
        uint64_t sa_ = (uint64_t)I32(0) + OP(OFF);                                \
        if (UNLIKELY(sa_ + 8 > mlimit)) {                                         \
            mlimit = mem_limit(inst);                                             \
            if (sa_ + 8 > mlimit)                                                 \
                TRAP(RUNTIME_TRAP_MEMORY_OUT_OF_BOUNDS);                          \
        }                                                                         \
        memcpy(mb + sa_, &r_, 8);                                                 \
        NEXT(UNITS);                                                              \
    }
    FSTORE(F64_ADD_ST, F64(1) + F64(2), 3, 4)
    FSTORE(F64_SUB_ST, F64(1) - F64(2), 3, 4)
    FSTORE(F64_MUL_ST, F64(1) * F64(2), 3, 4)
    FSTORE(F64_ADD_MEM_ST, F64(1) + FMEM, 5, 6)
    FSTORE(F64_SUB_MEM_ST, F64(1) - FMEM, 5, 6)
    FSTORE(F64_MUL_MEM_ST, F64(1) * FMEM, 5, 6)
#undef FSTORE
#undef FMEM
#undef FBIN
#undef FBIN5

    /* ---- tables ---- */
L_TABLE_GET: {
    struct runtime_table *t = inst->tables[OP(1)];
    uint32_t i = (uint32_t)SL(2);
    if (UNLIKELY(i >= t->size))
        TRAP(RUNTIME_TRAP_TABLE_OUT_OF_BOUNDS);
    SL(0) = t->elems[i];
    NEXT(3);
}
L_TABLE_SET: {
    struct runtime_table *t = inst->tables[OP(0)];
    uint32_t i = (uint32_t)SL(1);
    if (UNLIKELY(i >= t->size))
        TRAP(RUNTIME_TRAP_TABLE_OUT_OF_BOUNDS);
    t->elems[i] = (uintptr_t)SL(2);
    NEXT(3);
}
L_TABLE_SIZE:
    SL(0) = inst->tables[OP(1)]->size;
    NEXT(2);
L_TABLE_GROW: {
    int64_t old = runtime_table_grow(inst->tables[OP(1)], (uint32_t)SL(3), (uintptr_t)SL(2));
    SL(0) = (uint32_t)(int32_t)old;
    NEXT(4);
}
L_TABLE_FILL: {
    struct runtime_table *t = inst->tables[OP(0)];
    uint64_t i = (uint32_t)SL(1), n = (uint32_t)SL(3);
    uintptr_t v = (uintptr_t)SL(2);
    if (UNLIKELY(i + n > t->size))
        TRAP(RUNTIME_TRAP_TABLE_OUT_OF_BOUNDS);
    for (uint64_t k = 0; k < n; k++)
        t->elems[i + k] = v;
    NEXT(4);
}
L_TABLE_COPY: {
    struct runtime_table *td = inst->tables[OP(0)], *ts = inst->tables[OP(1)];
    uint64_t d = (uint32_t)SL(2), s = (uint32_t)SL(3), n = (uint32_t)SL(4);
    if (UNLIKELY(d + n > td->size || s + n > ts->size))
        TRAP(RUNTIME_TRAP_TABLE_OUT_OF_BOUNDS);
    if (n)
        memmove(td->elems + d, ts->elems + s, n * sizeof(uintptr_t));
    NEXT(5);
}
L_TABLE_INIT: {
    int rc = runtime_table_init(inst, OP(0), OP(1), (uint32_t)SL(2), (uint32_t)SL(3), (uint32_t)SL(4));
    if (UNLIKELY(rc != RUNTIME_OK))
        TRAP(rc);
    NEXT(5);
}
L_ELEM_DROP:
    inst->elem_dropped[OP(0)] = 1;
    NEXT(1);

#include "interp/simd_exec.h"

trapped:
    exec->trap_func = cur->func_index;
    exec->trap_module = im->module;
trapped_elsewhere:
    exec->depth = saved_depth;
    exec->tier_state = saved_top;
    return trap;
}

const void *const *interp_handler_table(void)
{
    const void *const *table = NULL;
    run(NULL, NULL, NULL, NULL, &table);
    return table;
}

int interp_invoke(struct runtime_exec *exec, struct runtime_instance *caller,
                  struct runtime_func *func, uint64_t *cells)
{
    (void)caller;
    return run(exec, func->instance, func->code, cells, NULL);
}

/* Builds the per-instance type-id table (tier->instance_init). */
static int interp_instance_init(struct runtime_instance *instance, struct fl_error *err)
{
    const struct wasm_module *m = instance->module;
    struct interp_instance *ii =
        malloc(sizeof *ii + (size_t)m->type_count * sizeof(uint32_t));
    if (!ii)
        return fl_error_set(err, FL_ERR_NOMEM, "interp: out of memory for instance data");
    ii->type_count = m->type_count;
    for (uint32_t i = 0; i < m->type_count; i++)
        ii->type_ids[i] = runtime_store_type_id(instance->store, &m->types[i]);
    instance->tier_instance = ii;
    return 0;
}

static void interp_instance_fini(struct runtime_instance *instance)
{
    free(instance->tier_instance);
    instance->tier_instance = NULL;
}

static void *interp_func_code(void *tier_module, uint32_t func_index)
{
    struct interp_module *im = tier_module;
    uint32_t first = im->module->import_func_count;
    if (func_index < first || func_index - first >= im->func_count)
        return NULL;
    return &im->funcs[func_index - first];
}

const struct runtime_tier interp_tier = {
    .name = "interp",
    .invoke = interp_invoke,
    .func_code = interp_func_code,
    .instance_init = interp_instance_init,
    .instance_fini = interp_instance_fini,
};
