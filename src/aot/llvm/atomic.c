/* atomic.c: the 0xFE (threads) instructions: seq_cst atomic loads, stores,
 * read-modify-writes and cmpxchg as LLVM atomics, atomic.fence, and
 * memory.atomic.wait/notify as calls to the runtime's parking lot through
 * helpers. Every access checks its effective address's natural alignment
 * first ("unaligned atomic"); bounds are the guard pages' job as for plain
 * accesses (or the explicit check in bounds-checked mode). */
#include "aot/llvm/codegen.h"
#include "wasm/opcodes.h"
#include "wasm/reader.h"

/* Effective address i64 (addr + offset) of the access, after trapping when
 * it is not a multiple of size. */
static LLVMValueRef checked_ea(struct cg *cg, LLVMValueRef addr, uint32_t offset, unsigned size)
{
    LLVMValueRef ea = LLVMBuildZExt(cg->b, addr, cg->t_i64, "");
    ea = LLVMBuildAdd(cg->b, ea, LLVMConstInt(cg->t_i64, offset, 0), "");
    if (size > 1) {
        LLVMValueRef low = LLVMBuildAnd(cg->b, ea, LLVMConstInt(cg->t_i64, size - 1, 0), "");
        cg_trap_if(cg, LLVMBuildICmp(cg->b, LLVMIntNE, low, LLVMConstInt(cg->t_i64, 0, 0), ""),
                   RUNTIME_TRAP_UNALIGNED_ATOMIC);
    }
    return ea;
}

/* Pointer for an aligned atomic access of type t at addr + offset. */
static LLVMValueRef atomic_ptr(struct cg *cg, LLVMValueRef addr, uint32_t offset, unsigned size,
                               LLVMTypeRef t)
{
    checked_ea(cg, addr, offset, size);
    return cg_mem_address(cg, addr, offset, size, t);
}

static LLVMTypeRef mem_type(struct cg *cg, unsigned log2)
{
    static const unsigned bits[] = {8, 16, 32, 64};
    return LLVMIntTypeInContext(cg->ctx, bits[log2]);
}

/* Width index in the seven-width order: 0 i32, 1 i64, 2 i32 8, 3 i32 16, 4 i64 8, ... */
static bool result_is_i64(unsigned w)
{
    return w == 1 || w >= 4;
}

static void emit_rmw(struct cg *cg, LLVMAtomicRMWBinOp op, unsigned w, unsigned log2,
                     uint32_t offset)
{
    LLVMTypeRef rt = result_is_i64(w) ? cg->t_i64 : cg->t_i32, mt = mem_type(cg, log2);
    LLVMValueRef v = cg_pop(cg), addr = cg_pop(cg);
    LLVMValueRef p = atomic_ptr(cg, addr, offset, 1u << log2, mt);
    if (mt != rt)
        v = LLVMBuildTrunc(cg->b, v, mt, "");
    LLVMValueRef old =
        LLVMBuildAtomicRMW(cg->b, op, p, v, LLVMAtomicOrderingSequentiallyConsistent, 0);
    if (mt != rt)
        old = LLVMBuildZExt(cg->b, old, rt, "");
    cg_push(cg, old);
}

static void emit_cmpxchg(struct cg *cg, unsigned w, unsigned log2, uint32_t offset)
{
    LLVMTypeRef rt = result_is_i64(w) ? cg->t_i64 : cg->t_i32, mt = mem_type(cg, log2);
    LLVMValueRef repl = cg_pop(cg), expect = cg_pop(cg), addr = cg_pop(cg);
    LLVMValueRef p = atomic_ptr(cg, addr, offset, 1u << log2, mt);
    if (mt != rt) { /* the expected value is wrapped to the access width, as in the interpreter */
        expect = LLVMBuildTrunc(cg->b, expect, mt, "");
        repl = LLVMBuildTrunc(cg->b, repl, mt, "");
    }
    LLVMValueRef pair =
        LLVMBuildAtomicCmpXchg(cg->b, p, expect, repl, LLVMAtomicOrderingSequentiallyConsistent,
                               LLVMAtomicOrderingSequentiallyConsistent, 0);
    LLVMValueRef old = LLVMBuildExtractValue(cg->b, pair, 0, "");
    cg_push(cg, mt != rt ? LLVMBuildZExt(cg->b, old, rt, "") : old);
}

void cg_atomic(struct cg *cg, struct wasm_reader *r, uint32_t sub)
{
    uint32_t align, offset;
    if (sub == WASM_OP_FE_ATOMIC_FENCE) {
        uint8_t zero;
        if (!wasm_read_u8(r, &zero)) {
            cg_fail(cg, FL_ERR_MALFORMED, "bad atomic.fence");
            return;
        }
        LLVMBuildFence(cg->b, LLVMAtomicOrderingSequentiallyConsistent, 0, "");
        return;
    }
    if (sub > WASM_OP_FE_I64_ATOMIC_RMW32_CMPXCHG_U ||
        (sub > WASM_OP_FE_ATOMIC_FENCE && sub < WASM_OP_FE_I32_ATOMIC_LOAD)) {
        cg_fail(cg, FL_ERR_INVALID, "atomic opcode 0xFE %u is unsupported in aot", sub);
        return;
    }
    if (!wasm_read_u32(r, &align) || !wasm_read_u32(r, &offset)) {
        cg_fail(cg, FL_ERR_MALFORMED, "bad atomic memory immediate");
        return;
    }
    unsigned log2 = wasm_atomic_size_log2(sub);
    switch (sub) {
    case WASM_OP_FE_MEMORY_ATOMIC_NOTIFY: {
        LLVMValueRef count = cg_pop(cg), addr = cg_pop(cg);
        LLVMValueRef ea = LLVMBuildAdd(cg->b, LLVMBuildZExt(cg->b, addr, cg->t_i64, ""),
                                       LLVMConstInt(cg->t_i64, offset, 0), "");
        cg_push(cg, cg_call_helper(cg, AOT_HELPER_ATOMIC_NOTIFY,
                                   (LLVMValueRef[]){cg->vmctx, cg->thread, ea, count}, 4));
        return;
    }
    case WASM_OP_FE_MEMORY_ATOMIC_WAIT32:
    case WASM_OP_FE_MEMORY_ATOMIC_WAIT64: {
        bool is64 = sub == WASM_OP_FE_MEMORY_ATOMIC_WAIT64;
        LLVMValueRef timeout = cg_pop(cg), expect = cg_pop(cg), addr = cg_pop(cg);
        LLVMValueRef ea = LLVMBuildAdd(cg->b, LLVMBuildZExt(cg->b, addr, cg->t_i64, ""),
                                       LLVMConstInt(cg->t_i64, offset, 0), "");
        if (!is64)
            expect = LLVMBuildZExt(cg->b, expect, cg->t_i64, "");
        LLVMValueRef args[6] = {cg->vmctx, cg->thread, ea, expect, LLVMConstInt(cg->t_i32, is64, 0),
                                timeout};
        cg_push(cg, cg_call_helper(cg, AOT_HELPER_ATOMIC_WAIT, args, 6));
        return;
    }
    default:
        break;
    }
    unsigned w = (sub - WASM_OP_FE_I32_ATOMIC_LOAD) % 7;
    LLVMTypeRef rt = result_is_i64(w) ? cg->t_i64 : cg->t_i32, mt = mem_type(cg, log2);
    if (sub <= WASM_OP_FE_I64_ATOMIC_LOAD32_U) {
        LLVMValueRef addr = cg_pop(cg);
        LLVMValueRef v =
            LLVMBuildLoad2(cg->b, mt, atomic_ptr(cg, addr, offset, 1u << log2, mt), "");
        LLVMSetOrdering(v, LLVMAtomicOrderingSequentiallyConsistent);
        LLVMSetAlignment(v, 1u << log2);
        if (mt != rt)
            v = LLVMBuildZExt(cg->b, v, rt, "");
        cg_push(cg, v);
        return;
    }
    if (sub <= WASM_OP_FE_I64_ATOMIC_STORE32) {
        LLVMValueRef v = cg_pop(cg), addr = cg_pop(cg);
        if (mt != rt)
            v = LLVMBuildTrunc(cg->b, v, mt, "");
        LLVMValueRef st = LLVMBuildStore(cg->b, v, atomic_ptr(cg, addr, offset, 1u << log2, mt));
        LLVMSetOrdering(st, LLVMAtomicOrderingSequentiallyConsistent);
        LLVMSetAlignment(st, 1u << log2);
        return;
    }
    if (sub >= WASM_OP_FE_I32_ATOMIC_RMW_CMPXCHG) {
        emit_cmpxchg(cg, w, log2, offset);
        return;
    }
    static const LLVMAtomicRMWBinOp ops[] = {LLVMAtomicRMWBinOpAdd, LLVMAtomicRMWBinOpSub,
                                             LLVMAtomicRMWBinOpAnd, LLVMAtomicRMWBinOpOr,
                                             LLVMAtomicRMWBinOpXor, LLVMAtomicRMWBinOpXchg};
    emit_rmw(cg, ops[(sub - WASM_OP_FE_I32_ATOMIC_RMW_ADD) / 7], w, log2, offset);
}
