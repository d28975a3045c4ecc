/* codegen_ops.c: numeric instructions to LLVM IR with exact wasm semantics:
 * masked shifts, trapping division and float-to-int conversion, wasm's
 * min/max (NaN-propagating, -0 < +0), round-to-even nearest. */

#include <math.h>

#include "aot/llvm/codegen.h"
#include "wasm/opcodes.h"

static LLVMValueRef c_int(LLVMTypeRef t, uint64_t v)
{
    return LLVMConstInt(t, v, 0);
}

static LLVMValueRef to_i32(struct cg *cg, LLVMValueRef i1)
{
    return LLVMBuildZExt(cg->b, i1, cg->t_i32, "");
}

static void icmp(struct cg *cg, LLVMIntPredicate pred)
{
    LLVMValueRef r = cg_pop(cg), l = cg_pop(cg);
    cg_push(cg, to_i32(cg, LLVMBuildICmp(cg->b, pred, l, r, "")));
}

static void fcmp(struct cg *cg, LLVMRealPredicate pred)
{
    LLVMValueRef r = cg_pop(cg), l = cg_pop(cg);
    cg_push(cg, to_i32(cg, LLVMBuildFCmp(cg->b, pred, l, r, "")));
}

static void unary_intrinsic(struct cg *cg, const char *name)
{
    LLVMValueRef x = cg_pop(cg);
    LLVMTypeRef t = LLVMTypeOf(x);
    cg_push(cg, cg_intrinsic(cg, name, &t, 1, &x, 1));
}

static void bit_count(struct cg *cg, const char *name)
{
    LLVMValueRef x = cg_pop(cg);
    LLVMTypeRef t = LLVMTypeOf(x);
    LLVMValueRef args[2] = {x, LLVMConstInt(cg->t_i1, 0, 0)}; /* zero input is defined */
    cg_push(cg, cg_intrinsic(cg, name, &t, 1, args, 2));
}

static void shift(struct cg *cg, LLVMOpcode opc)
{
    LLVMValueRef r = cg_pop(cg), l = cg_pop(cg);
    LLVMTypeRef t = LLVMTypeOf(l);
    unsigned bits = LLVMGetIntTypeWidth(t);
    r = LLVMBuildAnd(cg->b, r, c_int(t, bits - 1), "");
    cg_push(cg, LLVMBuildBinOp(cg->b, opc, l, r, ""));
}

static void rotate(struct cg *cg, const char *name)
{
    LLVMValueRef r = cg_pop(cg), l = cg_pop(cg);
    LLVMTypeRef t = LLVMTypeOf(l);
    LLVMValueRef args[3] = {l, l, r};  /* funnel shift takes the amount modulo the width */
    cg_push(cg, cg_intrinsic(cg, name, &t, 1, args, 3));
}

/* div/rem: zero divisor traps; signed INT_MIN / -1 traps for div and is 0
 * for rem (computed as x % 1, since LLVM's srem overflows there). */
static void divide(struct cg *cg, LLVMOpcode opc)
{
    LLVMValueRef r = cg_pop(cg), l = cg_pop(cg);
    LLVMTypeRef t = LLVMTypeOf(l);
    unsigned bits = LLVMGetIntTypeWidth(t);
    LLVMValueRef zero = c_int(t, 0), minus1 = LLVMConstAllOnes(t);
    cg_trap_if(cg, LLVMBuildICmp(cg->b, LLVMIntEQ, r, zero, ""), RUNTIME_TRAP_INT_DIVIDE_BY_ZERO);
    if (opc == LLVMSDiv) {
        LLVMValueRef min = c_int(t, 1ull << (bits - 1));
        LLVMValueRef ovf = LLVMBuildAnd(cg->b, LLVMBuildICmp(cg->b, LLVMIntEQ, l, min, ""),
                                        LLVMBuildICmp(cg->b, LLVMIntEQ, r, minus1, ""), "");
        cg_trap_if(cg, ovf, RUNTIME_TRAP_INT_OVERFLOW);
    } else if (opc == LLVMSRem) {
        LLVMValueRef is_m1 = LLVMBuildICmp(cg->b, LLVMIntEQ, r, minus1, "");
        r = LLVMBuildSelect(cg->b, is_m1, c_int(t, 1), r, "");
    }
    cg_push(cg, LLVMBuildBinOp(cg->b, opc, l, r, ""));
}

/* v through an empty inline asm: LLVM cannot see its value any more. */
static LLVMValueRef opaque(struct cg *cg, LLVMValueRef v)
{
    LLVMTypeRef t = LLVMTypeOf(v);
    LLVMTypeRef ft = LLVMFunctionType(t, &t, 1, 0);
    LLVMValueRef asm_fn = LLVMGetInlineAsm(ft, "", 0, "=x,0", 4, 0, 0, LLVMInlineAsmDialectATT, 0);
    return LLVMBuildCall2(cg->b, ft, asm_fn, &v, 1, "");
}

static bool is_fconst(LLVMValueRef v, double want)
{
    if (!LLVMIsAConstantFP(v))
        return false;
    LLVMBool loses;
    double d = LLVMConstRealGetDouble(v, &loses);
    return d == want && signbit(d) == signbit(want);
}

/* LLVM folds x-0, x+(-0), x*1, x/1 to x and x*-1, x/-1, -0-x to -x, which
 * skips quieting a signalling NaN that wasm requires (arithmetic NaN out).
 * Hiding such constants keeps the real instruction; compilers never emit
 * these forms, so the cost is nil. */
static void guard_identity(struct cg *cg, LLVMOpcode opc, LLVMValueRef *l, LLVMValueRef *r)
{
    switch (opc) {
    case LLVMFAdd:
        if (is_fconst(*r, -0.0))
            *r = opaque(cg, *r);
        if (is_fconst(*l, -0.0))
            *l = opaque(cg, *l);
        break;
    case LLVMFSub:
        if (is_fconst(*r, 0.0))
            *r = opaque(cg, *r);
        if (is_fconst(*l, -0.0))
            *l = opaque(cg, *l);
        break;
    case LLVMFMul:
        if (is_fconst(*r, 1.0) || is_fconst(*r, -1.0))
            *r = opaque(cg, *r);
        if (is_fconst(*l, 1.0) || is_fconst(*l, -1.0))
            *l = opaque(cg, *l);
        break;
    case LLVMFDiv:
        if (is_fconst(*r, 1.0) || is_fconst(*r, -1.0))
            *r = opaque(cg, *r);
        break;
    default:
        break;
    }
}

static void binop(struct cg *cg, LLVMOpcode opc)
{
    LLVMValueRef r = cg_pop(cg), l = cg_pop(cg);
    guard_identity(cg, opc, &l, &r);
    cg_push(cg, LLVMBuildBinOp(cg->b, opc, l, r, ""));
}

/* wasm fmin/fmax: a NaN operand gives a NaN (a + b propagates and quiets
 * it); equal operands may be -0/+0, where min ORs and max ANDs the bits. */
static void minmax(struct cg *cg, bool is_max)
{
    LLVMValueRef b = cg_pop(cg), a = cg_pop(cg);
    LLVMTypeRef ft = LLVMTypeOf(a);
    LLVMTypeRef it = ft == cg->t_f32 ? cg->t_i32 : cg->t_i64;
    LLVMValueRef nan = LLVMBuildFCmp(cg->b, LLVMRealUNO, a, b, "");
    LLVMValueRef eq = LLVMBuildFCmp(cg->b, LLVMRealOEQ, a, b, "");
    LLVMValueRef pick = LLVMBuildFCmp(cg->b, is_max ? LLVMRealOGT : LLVMRealOLT, a, b, "");
    LLVMValueRef ai = LLVMBuildBitCast(cg->b, a, it, ""), bi = LLVMBuildBitCast(cg->b, b, it, "");
    LLVMValueRef merged = is_max ? LLVMBuildAnd(cg->b, ai, bi, "") : LLVMBuildOr(cg->b, ai, bi, "");
    merged = LLVMBuildBitCast(cg->b, merged, ft, "");
    LLVMValueRef r = LLVMBuildSelect(cg->b, pick, a, b, "");
    r = LLVMBuildSelect(cg->b, eq, merged, r, "");
    r = LLVMBuildSelect(cg->b, nan, LLVMBuildFAdd(cg->b, a, b, ""), r, "");
    cg_push(cg, r);
}

static void emit_copysign(struct cg *cg)
{
    LLVMValueRef b = cg_pop(cg), a = cg_pop(cg);
    LLVMTypeRef t = LLVMTypeOf(a);
    LLVMValueRef args[2] = {a, b};
    cg_push(cg, cg_intrinsic(cg, "llvm.copysign", &t, 1, args, 2));
}

/* Trapping float-to-int: NaN is an invalid conversion; a value whose
 * truncation does not fit is an overflow. lo is exclusive when lo_excl. */
static void trunc_trap(struct cg *cg, LLVMTypeRef to, bool is_signed)
{
    LLVMValueRef x = cg_pop(cg);
    LLVMTypeRef ft = LLVMTypeOf(x);
    bool f32 = ft == cg->t_f32;
    unsigned bits = LLVMGetIntTypeWidth(to);
    double lo, hi;
    bool lo_excl;
    if (!is_signed) {
        lo = -1.0;
        lo_excl = true;
        hi = bits == 32 ? 4294967296.0 : 18446744073709551616.0;
    } else if (bits == 32) {
        hi = 2147483648.0;
        lo_excl = !f32;  /* -2^31 - 1 is exact in f64, not in f32 */
        lo = f32 ? -2147483648.0 : -2147483649.0;
    } else {
        hi = 9223372036854775808.0;
        lo = -9223372036854775808.0;
        lo_excl = false;
    }
    cg_trap_if(cg, LLVMBuildFCmp(cg->b, LLVMRealUNO, x, x, ""), RUNTIME_TRAP_INVALID_CONVERSION);
    LLVMValueRef in_lo = LLVMBuildFCmp(cg->b, lo_excl ? LLVMRealOGT : LLVMRealOGE, x,
                                       LLVMConstReal(ft, lo), "");
    LLVMValueRef in_hi = LLVMBuildFCmp(cg->b, LLVMRealOLT, x, LLVMConstReal(ft, hi), "");
    LLVMValueRef ok = LLVMBuildAnd(cg->b, in_lo, in_hi, "");
    cg_trap_if(cg, LLVMBuildNot(cg->b, ok, ""), RUNTIME_TRAP_INT_OVERFLOW);
    cg_push(cg, is_signed ? LLVMBuildFPToSI(cg->b, x, to, "") : LLVMBuildFPToUI(cg->b, x, to, ""));
}

/* Saturating float-to-int: LLVM's fpto[su]i.sat match wasm (NaN -> 0). */
static void trunc_sat(struct cg *cg, LLVMTypeRef to, bool is_signed)
{
    LLVMValueRef x = cg_pop(cg);
    LLVMTypeRef tys[2] = {to, LLVMTypeOf(x)};
    cg_push(cg, cg_intrinsic(cg, is_signed ? "llvm.fptosi.sat" : "llvm.fptoui.sat", tys, 2, &x, 1));
}

static void convert(struct cg *cg, LLVMOpcode opc, LLVMTypeRef to)
{
    LLVMValueRef x = cg_pop(cg);
    cg_push(cg, LLVMBuildCast(cg->b, opc, x, to, ""));
}

static void sign_extend(struct cg *cg, LLVMTypeRef from)
{
    LLVMValueRef x = cg_pop(cg);
    LLVMTypeRef t = LLVMTypeOf(x);
    cg_push(cg, LLVMBuildSExt(cg->b, LLVMBuildTrunc(cg->b, x, from, ""), t, ""));
}

bool cg_numeric(struct cg *cg, uint8_t op)
{
    LLVMTypeRef i32 = cg->t_i32, i64 = cg->t_i64, f32 = cg->t_f32, f64 = cg->t_f64;
    switch (op) {
    case WASM_OP_I32_EQZ:
    case WASM_OP_I64_EQZ: {
        LLVMValueRef x = cg_pop(cg);
        cg_push(cg, to_i32(cg, LLVMBuildICmp(cg->b, LLVMIntEQ, x, c_int(LLVMTypeOf(x), 0), "")));
        return true;
    }
    case WASM_OP_I32_EQ: case WASM_OP_I64_EQ: icmp(cg, LLVMIntEQ); return true;
    case WASM_OP_I32_NE: case WASM_OP_I64_NE: icmp(cg, LLVMIntNE); return true;
    case WASM_OP_I32_LT_S: case WASM_OP_I64_LT_S: icmp(cg, LLVMIntSLT); return true;
    case WASM_OP_I32_LT_U: case WASM_OP_I64_LT_U: icmp(cg, LLVMIntULT); return true;
    case WASM_OP_I32_GT_S: case WASM_OP_I64_GT_S: icmp(cg, LLVMIntSGT); return true;
    case WASM_OP_I32_GT_U: case WASM_OP_I64_GT_U: icmp(cg, LLVMIntUGT); return true;
    case WASM_OP_I32_LE_S: case WASM_OP_I64_LE_S: icmp(cg, LLVMIntSLE); return true;
    case WASM_OP_I32_LE_U: case WASM_OP_I64_LE_U: icmp(cg, LLVMIntULE); return true;
    case WASM_OP_I32_GE_S: case WASM_OP_I64_GE_S: icmp(cg, LLVMIntSGE); return true;
    case WASM_OP_I32_GE_U: case WASM_OP_I64_GE_U: icmp(cg, LLVMIntUGE); return true;
    case WASM_OP_F32_EQ: case WASM_OP_F64_EQ: fcmp(cg, LLVMRealOEQ); return true;
    case WASM_OP_F32_NE: case WASM_OP_F64_NE: fcmp(cg, LLVMRealUNE); return true;
    case WASM_OP_F32_LT: case WASM_OP_F64_LT: fcmp(cg, LLVMRealOLT); return true;
    case WASM_OP_F32_GT: case WASM_OP_F64_GT: fcmp(cg, LLVMRealOGT); return true;
    case WASM_OP_F32_LE: case WASM_OP_F64_LE: fcmp(cg, LLVMRealOLE); return true;
    case WASM_OP_F32_GE: case WASM_OP_F64_GE: fcmp(cg, LLVMRealOGE); return true;

    case WASM_OP_I32_CLZ: case WASM_OP_I64_CLZ: bit_count(cg, "llvm.ctlz"); return true;
    case WASM_OP_I32_CTZ: case WASM_OP_I64_CTZ: bit_count(cg, "llvm.cttz"); return true;
    case WASM_OP_I32_POPCNT: case WASM_OP_I64_POPCNT: unary_intrinsic(cg, "llvm.ctpop"); return true;
    case WASM_OP_I32_ADD: case WASM_OP_I64_ADD: binop(cg, LLVMAdd); return true;
    case WASM_OP_I32_SUB: case WASM_OP_I64_SUB: binop(cg, LLVMSub); return true;
    case WASM_OP_I32_MUL: case WASM_OP_I64_MUL: binop(cg, LLVMMul); return true;
    case WASM_OP_I32_DIV_S: case WASM_OP_I64_DIV_S: divide(cg, LLVMSDiv); return true;
    case WASM_OP_I32_DIV_U: case WASM_OP_I64_DIV_U: divide(cg, LLVMUDiv); return true;
    case WASM_OP_I32_REM_S: case WASM_OP_I64_REM_S: divide(cg, LLVMSRem); return true;
    case WASM_OP_I32_REM_U: case WASM_OP_I64_REM_U: divide(cg, LLVMURem); return true;
    case WASM_OP_I32_AND: case WASM_OP_I64_AND: binop(cg, LLVMAnd); return true;
    case WASM_OP_I32_OR: case WASM_OP_I64_OR: binop(cg, LLVMOr); return true;
    case WASM_OP_I32_XOR: case WASM_OP_I64_XOR: binop(cg, LLVMXor); return true;
    case WASM_OP_I32_SHL: case WASM_OP_I64_SHL: shift(cg, LLVMShl); return true;
    case WASM_OP_I32_SHR_S: case WASM_OP_I64_SHR_S: shift(cg, LLVMAShr); return true;
    case WASM_OP_I32_SHR_U: case WASM_OP_I64_SHR_U: shift(cg, LLVMLShr); return true;
    case WASM_OP_I32_ROTL: case WASM_OP_I64_ROTL: rotate(cg, "llvm.fshl"); return true;
    case WASM_OP_I32_ROTR: case WASM_OP_I64_ROTR: rotate(cg, "llvm.fshr"); return true;

    case WASM_OP_F32_ABS: case WASM_OP_F64_ABS: unary_intrinsic(cg, "llvm.fabs"); return true;
    case WASM_OP_F32_NEG: case WASM_OP_F64_NEG:
        cg_push(cg, LLVMBuildFNeg(cg->b, cg_pop(cg), ""));
        return true;
    case WASM_OP_F32_CEIL: case WASM_OP_F64_CEIL: unary_intrinsic(cg, "llvm.ceil"); return true;
    case WASM_OP_F32_FLOOR: case WASM_OP_F64_FLOOR: unary_intrinsic(cg, "llvm.floor"); return true;
    case WASM_OP_F32_TRUNC: case WASM_OP_F64_TRUNC: unary_intrinsic(cg, "llvm.trunc"); return true;
    case WASM_OP_F32_NEAREST: case WASM_OP_F64_NEAREST: unary_intrinsic(cg, "llvm.roundeven"); return true;
    case WASM_OP_F32_SQRT: case WASM_OP_F64_SQRT: unary_intrinsic(cg, "llvm.sqrt"); return true;
    case WASM_OP_F32_ADD: case WASM_OP_F64_ADD: binop(cg, LLVMFAdd); return true;
    case WASM_OP_F32_SUB: case WASM_OP_F64_SUB: binop(cg, LLVMFSub); return true;
    case WASM_OP_F32_MUL: case WASM_OP_F64_MUL: binop(cg, LLVMFMul); return true;
    case WASM_OP_F32_DIV: case WASM_OP_F64_DIV: binop(cg, LLVMFDiv); return true;
    case WASM_OP_F32_MIN: case WASM_OP_F64_MIN: minmax(cg, false); return true;
    case WASM_OP_F32_MAX: case WASM_OP_F64_MAX: minmax(cg, true); return true;
    case WASM_OP_F32_COPYSIGN: case WASM_OP_F64_COPYSIGN: emit_copysign(cg); return true;

    case WASM_OP_I32_WRAP_I64: convert(cg, LLVMTrunc, i32); return true;
    case WASM_OP_I32_TRUNC_F32_S: case WASM_OP_I32_TRUNC_F64_S: trunc_trap(cg, i32, true); return true;
    case WASM_OP_I32_TRUNC_F32_U: case WASM_OP_I32_TRUNC_F64_U: trunc_trap(cg, i32, false); return true;
    case WASM_OP_I64_EXTEND_I32_S: convert(cg, LLVMSExt, i64); return true;
    case WASM_OP_I64_EXTEND_I32_U: convert(cg, LLVMZExt, i64); return true;
    case WASM_OP_I64_TRUNC_F32_S: case WASM_OP_I64_TRUNC_F64_S: trunc_trap(cg, i64, true); return true;
    case WASM_OP_I64_TRUNC_F32_U: case WASM_OP_I64_TRUNC_F64_U: trunc_trap(cg, i64, false); return true;
    case WASM_OP_F32_CONVERT_I32_S: case WASM_OP_F32_CONVERT_I64_S: convert(cg, LLVMSIToFP, f32); return true;
    case WASM_OP_F32_CONVERT_I32_U: case WASM_OP_F32_CONVERT_I64_U: convert(cg, LLVMUIToFP, f32); return true;
    case WASM_OP_F32_DEMOTE_F64:
        /* demote(promote(x)) folds to x, which would not quiet a signalling NaN. */
        if (cg->sp && LLVMIsAFPExtInst(cg->stack[cg->sp - 1]))
            cg->stack[cg->sp - 1] = opaque(cg, cg->stack[cg->sp - 1]);
        convert(cg, LLVMFPTrunc, f32);
        return true;
    case WASM_OP_F64_CONVERT_I32_S: case WASM_OP_F64_CONVERT_I64_S: convert(cg, LLVMSIToFP, f64); return true;
    case WASM_OP_F64_CONVERT_I32_U: case WASM_OP_F64_CONVERT_I64_U: convert(cg, LLVMUIToFP, f64); return true;
    case WASM_OP_F64_PROMOTE_F32: convert(cg, LLVMFPExt, f64); return true;
    case WASM_OP_I32_REINTERPRET_F32: convert(cg, LLVMBitCast, i32); return true;
    case WASM_OP_I64_REINTERPRET_F64: convert(cg, LLVMBitCast, i64); return true;
    case WASM_OP_F32_REINTERPRET_I32: convert(cg, LLVMBitCast, f32); return true;
    case WASM_OP_F64_REINTERPRET_I64: convert(cg, LLVMBitCast, f64); return true;
    case WASM_OP_I32_EXTEND8_S: case WASM_OP_I64_EXTEND8_S: sign_extend(cg, cg->t_i8); return true;
    case WASM_OP_I32_EXTEND16_S: case WASM_OP_I64_EXTEND16_S: sign_extend(cg, cg->t_i16); return true;
    case WASM_OP_I64_EXTEND32_S: sign_extend(cg, i32); return true;
    default:
        return false;
    }
}

bool cg_numeric_fc(struct cg *cg, uint32_t subop)
{
    switch (subop) {
    case WASM_OP_FC_I32_TRUNC_SAT_F32_S: case WASM_OP_FC_I32_TRUNC_SAT_F64_S: trunc_sat(cg, cg->t_i32, true); return true;
    case WASM_OP_FC_I32_TRUNC_SAT_F32_U: case WASM_OP_FC_I32_TRUNC_SAT_F64_U: trunc_sat(cg, cg->t_i32, false); return true;
    case WASM_OP_FC_I64_TRUNC_SAT_F32_S: case WASM_OP_FC_I64_TRUNC_SAT_F64_S: trunc_sat(cg, cg->t_i64, true); return true;
    case WASM_OP_FC_I64_TRUNC_SAT_F32_U: case WASM_OP_FC_I64_TRUNC_SAT_F64_U: trunc_sat(cg, cg->t_i64, false); return true;
    default:
        return false;
    }
}
