/* simd.c: the 0xFD instructions as LLVM vector IR. A v128 lives on the
 * operand stack (and in locals, phis and signatures) as <2 x i64>; each
 * instruction bitcasts to its lane shape and back, which LLVM folds away.
 * Exact wasm semantics where LLVM's differ: NaN-propagating min/max,
 * saturating narrows and truncations, out-of-range swizzle lanes. */
#include <string.h>

#include "aot/llvm/codegen.h"
#include "wasm/opcodes.h"
#include "wasm/reader.h"

/* Lane shapes. */
enum { S_I8, S_I16, S_I32, S_I64, S_F32, S_F64 };

static LLVMTypeRef lane_type(struct cg *cg, int s)
{
    static const unsigned bits[] = {8, 16, 32, 64};
    if (s == S_F32)
        return cg->t_f32;
    if (s == S_F64)
        return cg->t_f64;
    return LLVMIntTypeInContext(cg->ctx, bits[s]);
}

static unsigned lanes_of(int s)
{
    static const unsigned n[] = {16, 8, 4, 2, 4, 2};
    return n[s];
}

static LLVMTypeRef vec(struct cg *cg, int s)
{
    return LLVMVectorType(lane_type(cg, s), lanes_of(s));
}

/* Integer vector of the same lane width as shape s. */
static int int_shape(int s)
{
    return s == S_F32 ? S_I32 : s == S_F64 ? S_I64 : s;
}

static LLVMValueRef pop_as(struct cg *cg, int s)
{
    return LLVMBuildBitCast(cg->b, cg_pop(cg), vec(cg, s), "");
}

static void push_v(struct cg *cg, LLVMValueRef v)
{
    cg_push(cg, LLVMBuildBitCast(cg->b, v, cg->t_v128, ""));
}

static LLVMValueRef ci(LLVMTypeRef t, uint64_t v)
{
    return LLVMConstInt(t, v, 0);
}

static LLVMValueRef splat(struct cg *cg, LLVMValueRef x, unsigned n)
{
    LLVMTypeRef vt = LLVMVectorType(LLVMTypeOf(x), n);
    LLVMValueRef v = LLVMBuildInsertElement(cg->b, LLVMGetUndef(vt), x, ci(cg->t_i32, 0), "");
    LLVMValueRef zeros = LLVMConstNull(LLVMVectorType(cg->t_i32, n));
    return LLVMBuildShuffleVector(cg->b, v, LLVMGetUndef(vt), zeros, "");
}

/* shufflevector a, b with a constant mask of n indices. */
static LLVMValueRef shuffle(struct cg *cg, LLVMValueRef a, LLVMValueRef b, const unsigned *idx, unsigned n)
{
    LLVMValueRef m[32];
    for (unsigned i = 0; i < n; i++)
        m[i] = ci(cg->t_i32, idx[i]);
    return LLVMBuildShuffleVector(cg->b, a, b ? b : LLVMGetUndef(LLVMTypeOf(a)), LLVMConstVector(m, n), "");
}

/* Lanes [first, first+n) of a, stepping by step. */
static LLVMValueRef lanes(struct cg *cg, LLVMValueRef a, unsigned first, unsigned n, unsigned step)
{
    unsigned idx[16];
    for (unsigned i = 0; i < n; i++)
        idx[i] = first + i * step;
    return shuffle(cg, a, NULL, idx, n);
}

static LLVMValueRef intrinsic1(struct cg *cg, const char *name, LLVMValueRef a)
{
    LLVMTypeRef t = LLVMTypeOf(a);
    return cg_intrinsic(cg, name, &t, 1, &a, 1);
}

static LLVMValueRef intrinsic2(struct cg *cg, const char *name, LLVMValueRef a, LLVMValueRef b)
{
    LLVMTypeRef t = LLVMTypeOf(a);
    LLVMValueRef args[2] = {a, b};
    return cg_intrinsic(cg, name, &t, 1, args, 2);
}

static void binop(struct cg *cg, int s, LLVMOpcode op)
{
    LLVMValueRef b = pop_as(cg, s), a = pop_as(cg, s);
    push_v(cg, LLVMBuildBinOp(cg->b, op, a, b, ""));
}

static void bin_intrinsic(struct cg *cg, int s, const char *name)
{
    LLVMValueRef b = pop_as(cg, s), a = pop_as(cg, s);
    push_v(cg, intrinsic2(cg, name, a, b));
}

static void un_intrinsic(struct cg *cg, int s, const char *name)
{
    push_v(cg, intrinsic1(cg, name, pop_as(cg, s)));
}

static void icmp(struct cg *cg, int s, LLVMIntPredicate p)
{
    LLVMValueRef b = pop_as(cg, s), a = pop_as(cg, s);
    push_v(cg, LLVMBuildSExt(cg->b, LLVMBuildICmp(cg->b, p, a, b, ""), vec(cg, s), ""));
}

static void fcmp(struct cg *cg, int s, LLVMRealPredicate p)
{
    LLVMValueRef b = pop_as(cg, s), a = pop_as(cg, s);
    push_v(cg, LLVMBuildSExt(cg->b, LLVMBuildFCmp(cg->b, p, a, b, ""), vec(cg, int_shape(s)), ""));
}

static void iminmax(struct cg *cg, int s, LLVMIntPredicate p)
{
    LLVMValueRef b = pop_as(cg, s), a = pop_as(cg, s);
    push_v(cg, LLVMBuildSelect(cg->b, LLVMBuildICmp(cg->b, p, a, b, ""), a, b, ""));
}

/* wasm fmin/fmax: NaN if either is NaN, -0 < +0. */
static void fminmax(struct cg *cg, int s, bool is_max)
{
    LLVMValueRef b = pop_as(cg, s), a = pop_as(cg, s);
    LLVMTypeRef it = vec(cg, int_shape(s));
    LLVMValueRef nan = LLVMBuildFCmp(cg->b, LLVMRealUNO, a, b, "");
    LLVMValueRef eq = LLVMBuildFCmp(cg->b, LLVMRealOEQ, a, b, "");
    LLVMValueRef pick = LLVMBuildFCmp(cg->b, is_max ? LLVMRealOGT : LLVMRealOLT, a, b, "");
    LLVMValueRef ai = LLVMBuildBitCast(cg->b, a, it, ""), bi = LLVMBuildBitCast(cg->b, b, it, "");
    LLVMValueRef merged = is_max ? LLVMBuildAnd(cg->b, ai, bi, "") : LLVMBuildOr(cg->b, ai, bi, "");
    merged = LLVMBuildBitCast(cg->b, merged, vec(cg, s), "");
    LLVMValueRef r = LLVMBuildSelect(cg->b, pick, a, b, "");
    r = LLVMBuildSelect(cg->b, eq, merged, r, "");
    r = LLVMBuildSelect(cg->b, nan, LLVMBuildFAdd(cg->b, a, b, ""), r, "");
    push_v(cg, r);
}

/* pmin: b < a ? b : a; pmax: a < b ? b : a. */
static void fpminmax(struct cg *cg, int s, bool is_max)
{
    LLVMValueRef b = pop_as(cg, s), a = pop_as(cg, s);
    LLVMValueRef c = is_max ? LLVMBuildFCmp(cg->b, LLVMRealOLT, a, b, "")
                            : LLVMBuildFCmp(cg->b, LLVMRealOLT, b, a, "");
    push_v(cg, LLVMBuildSelect(cg->b, c, b, a, ""));
}

static void shift(struct cg *cg, int s, LLVMOpcode op)
{
    LLVMValueRef n = cg_pop(cg), a = pop_as(cg, s);
    unsigned bits = LLVMGetIntTypeWidth(lane_type(cg, s));
    n = LLVMBuildAnd(cg->b, n, ci(cg->t_i32, bits - 1), "");
    if (bits < 32)
        n = LLVMBuildTrunc(cg->b, n, lane_type(cg, s), "");
    else if (bits > 32)
        n = LLVMBuildZExt(cg->b, n, lane_type(cg, s), "");
    push_v(cg, LLVMBuildBinOp(cg->b, op, a, splat(cg, n, lanes_of(s)), ""));
}

static void iabs(struct cg *cg, int s)
{
    LLVMValueRef a = pop_as(cg, s);
    LLVMValueRef neg = LLVMBuildSub(cg->b, LLVMConstNull(vec(cg, s)), a, "");
    LLVMValueRef is_neg = LLVMBuildICmp(cg->b, LLVMIntSLT, a, LLVMConstNull(vec(cg, s)), "");
    push_v(cg, LLVMBuildSelect(cg->b, is_neg, neg, a, ""));
}

static void ineg(struct cg *cg, int s)
{
    LLVMValueRef a = pop_as(cg, s);
    push_v(cg, LLVMBuildSub(cg->b, LLVMConstNull(vec(cg, s)), a, ""));
}

/* Rounding average (a + b + 1) / 2 in twice the width. */
static void avgr(struct cg *cg, int s)
{
    LLVMValueRef b = pop_as(cg, s), a = pop_as(cg, s);
    LLVMTypeRef wt = LLVMVectorType(lane_type(cg, s + 1), lanes_of(s));
    a = LLVMBuildZExt(cg->b, a, wt, "");
    b = LLVMBuildZExt(cg->b, b, wt, "");
    LLVMValueRef e[16];
    for (unsigned i = 0; i < lanes_of(s); i++)
        e[i] = ci(lane_type(cg, s + 1), 1);
    LLVMValueRef one = LLVMConstVector(e, lanes_of(s));
    LLVMValueRef sum = LLVMBuildAdd(cg->b, LLVMBuildAdd(cg->b, a, b, ""), one, "");
    push_v(cg, LLVMBuildTrunc(cg->b, LLVMBuildLShr(cg->b, sum, one, ""), vec(cg, s), ""));
}

static void any_true(struct cg *cg)
{
    LLVMValueRef a = LLVMBuildBitCast(cg->b, cg_pop(cg), LLVMIntTypeInContext(cg->ctx, 128), "");
    LLVMValueRef c = LLVMBuildICmp(cg->b, LLVMIntNE, a, LLVMConstNull(LLVMTypeOf(a)), "");
    cg_push(cg, LLVMBuildZExt(cg->b, c, cg->t_i32, ""));
}

static void all_true(struct cg *cg, int s)
{
    LLVMValueRef a = pop_as(cg, s);
    unsigned n = lanes_of(s);
    LLVMValueRef c = LLVMBuildICmp(cg->b, LLVMIntNE, a, LLVMConstNull(vec(cg, s)), "");
    LLVMTypeRef mt = LLVMIntTypeInContext(cg->ctx, n);
    c = LLVMBuildBitCast(cg->b, c, mt, "");
    c = LLVMBuildICmp(cg->b, LLVMIntEQ, c, LLVMConstAllOnes(mt), "");
    cg_push(cg, LLVMBuildZExt(cg->b, c, cg->t_i32, ""));
}

static void bitmask(struct cg *cg, int s)
{
    LLVMValueRef a = pop_as(cg, s);
    unsigned n = lanes_of(s);
    LLVMValueRef c = LLVMBuildICmp(cg->b, LLVMIntSLT, a, LLVMConstNull(vec(cg, s)), "");
    c = LLVMBuildBitCast(cg->b, c, LLVMIntTypeInContext(cg->ctx, n), "");
    cg_push(cg, LLVMBuildZExt(cg->b, c, cg->t_i32, ""));
}

/* narrow: two vectors of shape s+1 -> one of shape s, saturating signed input
 * to the signed or unsigned range of the narrow lane. */
static void narrow(struct cg *cg, int s, bool is_signed)
{
    int w = s + 1;
    LLVMValueRef b = pop_as(cg, w), a = pop_as(cg, w);
    unsigned n = lanes_of(s), bits = LLVMGetIntTypeWidth(lane_type(cg, s));
    unsigned idx[16];
    for (unsigned i = 0; i < n; i++)
        idx[i] = i;
    LLVMValueRef v = shuffle(cg, a, b, idx, n); /* <n x wide> */
    LLVMTypeRef lt = lane_type(cg, w);
    uint64_t lo = is_signed ? (uint64_t)-(int64_t)(1ull << (bits - 1)) : 0;
    uint64_t hi = is_signed ? (1ull << (bits - 1)) - 1 : (1ull << bits) - 1;
    LLVMValueRef elo[16], ehi[16];
    for (unsigned i = 0; i < n; i++) {
        elo[i] = LLVMConstInt(lt, lo, 1);
        ehi[i] = ci(lt, hi);
    }
    LLVMValueRef vlo = LLVMConstVector(elo, n), vhi = LLVMConstVector(ehi, n);
    v = LLVMBuildSelect(cg->b, LLVMBuildICmp(cg->b, LLVMIntSLT, v, vlo, ""), vlo, v, "");
    v = LLVMBuildSelect(cg->b, LLVMBuildICmp(cg->b, LLVMIntSGT, v, vhi, ""), vhi, v, "");
    push_v(cg, LLVMBuildTrunc(cg->b, v, vec(cg, s), ""));
}

/* Half (low or high) of shape s, extended to shape s+1. */
static LLVMValueRef extend_half(struct cg *cg, LLVMValueRef a, int s, bool high, bool is_signed)
{
    unsigned n = lanes_of(s) / 2;
    LLVMValueRef h = lanes(cg, a, high ? n : 0, n, 1);
    LLVMTypeRef wt = vec(cg, s + 1);
    return is_signed ? LLVMBuildSExt(cg->b, h, wt, "") : LLVMBuildZExt(cg->b, h, wt, "");
}

static void extend(struct cg *cg, int s, bool high, bool is_signed)
{
    push_v(cg, extend_half(cg, pop_as(cg, s), s, high, is_signed));
}

static void extmul(struct cg *cg, int s, bool high, bool is_signed)
{
    LLVMValueRef b = pop_as(cg, s), a = pop_as(cg, s);
    LLVMValueRef wa = extend_half(cg, a, s, high, is_signed), wb = extend_half(cg, b, s, high, is_signed);
    push_v(cg, LLVMBuildMul(cg->b, wa, wb, ""));
}

static void extadd_pairwise(struct cg *cg, int s, bool is_signed)
{
    LLVMValueRef a = pop_as(cg, s);
    unsigned n = lanes_of(s) / 2;
    LLVMTypeRef wt = vec(cg, s + 1);
    LLVMValueRef ev = lanes(cg, a, 0, n, 2), od = lanes(cg, a, 1, n, 2);
    ev = is_signed ? LLVMBuildSExt(cg->b, ev, wt, "") : LLVMBuildZExt(cg->b, ev, wt, "");
    od = is_signed ? LLVMBuildSExt(cg->b, od, wt, "") : LLVMBuildZExt(cg->b, od, wt, "");
    push_v(cg, LLVMBuildAdd(cg->b, ev, od, ""));
}

static void q15mulr(struct cg *cg)
{
    LLVMValueRef b = pop_as(cg, S_I16), a = pop_as(cg, S_I16);
    LLVMTypeRef wt = LLVMVectorType(cg->t_i32, 8);
    LLVMValueRef p = LLVMBuildMul(cg->b, LLVMBuildSExt(cg->b, a, wt, ""), LLVMBuildSExt(cg->b, b, wt, ""),
                                  "");
    LLVMValueRef e[8], f[8], g[8];
    for (unsigned i = 0; i < 8; i++) {
        e[i] = ci(cg->t_i32, 0x4000);
        f[i] = ci(cg->t_i32, 15);
        g[i] = ci(cg->t_i32, 0x7FFF);
    }
    p = LLVMBuildAShr(cg->b, LLVMBuildAdd(cg->b, p, LLVMConstVector(e, 8), ""), LLVMConstVector(f, 8), "");
    LLVMValueRef max = LLVMConstVector(g, 8);
    p = LLVMBuildSelect(cg->b, LLVMBuildICmp(cg->b, LLVMIntSGT, p, max, ""), max, p, "");
    push_v(cg, LLVMBuildTrunc(cg->b, p, vec(cg, S_I16), ""));
}

static void dot(struct cg *cg)
{
    LLVMValueRef b = pop_as(cg, S_I16), a = pop_as(cg, S_I16);
    LLVMTypeRef wt = LLVMVectorType(cg->t_i32, 8);
    LLVMValueRef p = LLVMBuildMul(cg->b, LLVMBuildSExt(cg->b, a, wt, ""), LLVMBuildSExt(cg->b, b, wt, ""),
                                  "");
    push_v(cg, LLVMBuildAdd(cg->b, lanes(cg, p, 0, 4, 2), lanes(cg, p, 1, 4, 2), ""));
}

/* i32x4.trunc_sat_f32x4 / f64x2 (zero-filling the high lanes). */
static void trunc_sat(struct cg *cg, int from, bool is_signed)
{
    LLVMValueRef a = pop_as(cg, from);
    unsigned n = lanes_of(from);
    LLVMTypeRef tys[2] = {LLVMVectorType(cg->t_i32, n), vec(cg, from)};
    LLVMValueRef r = cg_intrinsic(cg, is_signed ? "llvm.fptosi.sat" : "llvm.fptoui.sat", tys, 2, &a, 1);
    if (n == 2) {
        static const unsigned idx[4] = {0, 1, 2, 3};
        r = shuffle(cg, r, LLVMConstNull(tys[0]), idx, 4);
    }
    push_v(cg, r);
}

static void convert_i32(struct cg *cg, int to, bool is_signed)
{
    LLVMValueRef a = pop_as(cg, S_I32);
    if (to == S_F64)
        a = lanes(cg, a, 0, 2, 1);
    LLVMTypeRef t = vec(cg, to);
    push_v(cg, is_signed ? LLVMBuildSIToFP(cg->b, a, t, "") : LLVMBuildUIToFP(cg->b, a, t, ""));
}

/* Swizzle: lane i = a[b[i]] when b[i] < 16, else 0. */
static void swizzle(struct cg *cg)
{
    LLVMValueRef b = pop_as(cg, S_I8), a = pop_as(cg, S_I8);
    LLVMValueRef r = LLVMConstNull(vec(cg, S_I8));
    for (unsigned i = 0; i < 16; i++) {
        LLVMValueRef idx = LLVMBuildExtractElement(cg->b, b, ci(cg->t_i32, i), "");
        LLVMValueRef in = LLVMBuildICmp(cg->b, LLVMIntULT, idx, ci(cg->t_i8, 16), "");
        LLVMValueRef low = LLVMBuildAnd(cg->b, idx, ci(cg->t_i8, 15), "");
        LLVMValueRef e = LLVMBuildExtractElement(cg->b, a, low, "");
        e = LLVMBuildSelect(cg->b, in, e, ci(cg->t_i8, 0), "");
        r = LLVMBuildInsertElement(cg->b, r, e, ci(cg->t_i32, i), "");
    }
    push_v(cg, r);
}

/* ---- memory ------------------------------------------------------------ */

static LLVMValueRef load(struct cg *cg, LLVMValueRef addr, uint32_t offset, LLVMTypeRef t, unsigned size)
{
    LLVMValueRef v = LLVMBuildLoad2(cg->b, t, cg_mem_address(cg, addr, offset, size, t), "");
    LLVMSetAlignment(v, 1);
    return v;
}

static void store(struct cg *cg, LLVMValueRef addr, uint32_t offset, LLVMValueRef v, unsigned size)
{
    LLVMValueRef st = LLVMBuildStore(cg->b, v, cg_mem_address(cg, addr, offset, size, LLVMTypeOf(v)));
    LLVMSetAlignment(st, 1);
}

static void load_extend(struct cg *cg, uint32_t offset, int s, bool is_signed)
{
    LLVMValueRef addr = cg_pop(cg);
    LLVMTypeRef nt = LLVMVectorType(lane_type(cg, s), lanes_of(s) / 2);
    LLVMValueRef v = load(cg, addr, offset, nt, 8);
    v = is_signed ? LLVMBuildSExt(cg->b, v, vec(cg, s + 1), "") : LLVMBuildZExt(cg->b, v, vec(cg, s + 1), "");
    push_v(cg, v);
}

static unsigned lane_bytes(int s)
{
    return 16 / lanes_of(s);
}

static void load_splat(struct cg *cg, uint32_t offset, int s)
{
    LLVMValueRef addr = cg_pop(cg);
    LLVMValueRef x = load(cg, addr, offset, lane_type(cg, s), lane_bytes(s));
    push_v(cg, splat(cg, x, lanes_of(s)));
}

static void load_zero(struct cg *cg, uint32_t offset, int s)
{
    LLVMValueRef addr = cg_pop(cg);
    LLVMValueRef x = load(cg, addr, offset, lane_type(cg, s), lane_bytes(s));
    push_v(cg, LLVMBuildInsertElement(cg->b, LLVMConstNull(vec(cg, s)), x, ci(cg->t_i32, 0), ""));
}

static void load_lane(struct cg *cg, uint32_t offset, int s, uint8_t lane)
{
    LLVMValueRef v = pop_as(cg, s), addr = cg_pop(cg);
    LLVMValueRef x = load(cg, addr, offset, lane_type(cg, s), lane_bytes(s));
    push_v(cg, LLVMBuildInsertElement(cg->b, v, x, ci(cg->t_i32, lane), ""));
}

static void store_lane(struct cg *cg, uint32_t offset, int s, uint8_t lane)
{
    LLVMValueRef v = pop_as(cg, s), addr = cg_pop(cg);
    store(cg, addr, offset, LLVMBuildExtractElement(cg->b, v, ci(cg->t_i32, lane), ""), lane_bytes(s));
}

/* ---- the opcode switch ------------------------------------------------- */

static void extract_lane(struct cg *cg, int s, uint8_t lane, int ext) /* ext: 0 none, 1 s, 2 u */
{
    LLVMValueRef x = LLVMBuildExtractElement(cg->b, pop_as(cg, s), ci(cg->t_i32, lane), "");
    if (ext == 1)
        x = LLVMBuildSExt(cg->b, x, cg->t_i32, "");
    else if (ext == 2)
        x = LLVMBuildZExt(cg->b, x, cg->t_i32, "");
    cg_push(cg, x);
}

static void replace_lane(struct cg *cg, int s, uint8_t lane)
{
    LLVMValueRef x = cg_pop(cg), v = pop_as(cg, s);
    if (s == S_I8 || s == S_I16)
        x = LLVMBuildTrunc(cg->b, x, lane_type(cg, s), "");
    push_v(cg, LLVMBuildInsertElement(cg->b, v, x, ci(cg->t_i32, lane), ""));
}

static void splat_op(struct cg *cg, int s)
{
    LLVMValueRef x = cg_pop(cg);
    if (s == S_I8 || s == S_I16)
        x = LLVMBuildTrunc(cg->b, x, lane_type(cg, s), "");
    push_v(cg, splat(cg, x, lanes_of(s)));
}

static void fneg_op(struct cg *cg, int s)
{
    push_v(cg, LLVMBuildFNeg(cg->b, pop_as(cg, s), ""));
}

static bool memory_op(struct cg *cg, uint32_t sub, uint32_t offset, uint8_t lane)
{
    switch (sub) {
    case WASM_OP_FD_V128_LOAD: {
        LLVMValueRef addr = cg_pop(cg);
        cg_push(cg, load(cg, addr, offset, cg->t_v128, 16));
        return true;
    }
    case WASM_OP_FD_V128_LOAD8X8_S: load_extend(cg, offset, S_I8, true); return true;
    case WASM_OP_FD_V128_LOAD8X8_U: load_extend(cg, offset, S_I8, false); return true;
    case WASM_OP_FD_V128_LOAD16X4_S: load_extend(cg, offset, S_I16, true); return true;
    case WASM_OP_FD_V128_LOAD16X4_U: load_extend(cg, offset, S_I16, false); return true;
    case WASM_OP_FD_V128_LOAD32X2_S: load_extend(cg, offset, S_I32, true); return true;
    case WASM_OP_FD_V128_LOAD32X2_U: load_extend(cg, offset, S_I32, false); return true;
    case WASM_OP_FD_V128_LOAD8_SPLAT: load_splat(cg, offset, S_I8); return true;
    case WASM_OP_FD_V128_LOAD16_SPLAT: load_splat(cg, offset, S_I16); return true;
    case WASM_OP_FD_V128_LOAD32_SPLAT: load_splat(cg, offset, S_I32); return true;
    case WASM_OP_FD_V128_LOAD64_SPLAT: load_splat(cg, offset, S_I64); return true;
    case WASM_OP_FD_V128_STORE: {
        LLVMValueRef v = cg_pop(cg), addr = cg_pop(cg);
        store(cg, addr, offset, v, 16);
        return true;
    }
    case WASM_OP_FD_V128_LOAD8_LANE: load_lane(cg, offset, S_I8, lane); return true;
    case WASM_OP_FD_V128_LOAD16_LANE: load_lane(cg, offset, S_I16, lane); return true;
    case WASM_OP_FD_V128_LOAD32_LANE: load_lane(cg, offset, S_I32, lane); return true;
    case WASM_OP_FD_V128_LOAD64_LANE: load_lane(cg, offset, S_I64, lane); return true;
    case WASM_OP_FD_V128_STORE8_LANE: store_lane(cg, offset, S_I8, lane); return true;
    case WASM_OP_FD_V128_STORE16_LANE: store_lane(cg, offset, S_I16, lane); return true;
    case WASM_OP_FD_V128_STORE32_LANE: store_lane(cg, offset, S_I32, lane); return true;
    case WASM_OP_FD_V128_STORE64_LANE: store_lane(cg, offset, S_I64, lane); return true;
    case WASM_OP_FD_V128_LOAD32_ZERO: load_zero(cg, offset, S_I32); return true;
    case WASM_OP_FD_V128_LOAD64_ZERO: load_zero(cg, offset, S_I64); return true;
    default: return false;
    }
}

static bool lane_op(struct cg *cg, uint32_t sub, uint8_t l)
{
    switch (sub) {
    case WASM_OP_FD_I8X16_EXTRACT_LANE_S: extract_lane(cg, S_I8, l, 1); return true;
    case WASM_OP_FD_I8X16_EXTRACT_LANE_U: extract_lane(cg, S_I8, l, 2); return true;
    case WASM_OP_FD_I8X16_REPLACE_LANE: replace_lane(cg, S_I8, l); return true;
    case WASM_OP_FD_I16X8_EXTRACT_LANE_S: extract_lane(cg, S_I16, l, 1); return true;
    case WASM_OP_FD_I16X8_EXTRACT_LANE_U: extract_lane(cg, S_I16, l, 2); return true;
    case WASM_OP_FD_I16X8_REPLACE_LANE: replace_lane(cg, S_I16, l); return true;
    case WASM_OP_FD_I32X4_EXTRACT_LANE: extract_lane(cg, S_I32, l, 0); return true;
    case WASM_OP_FD_I32X4_REPLACE_LANE: replace_lane(cg, S_I32, l); return true;
    case WASM_OP_FD_I64X2_EXTRACT_LANE: extract_lane(cg, S_I64, l, 0); return true;
    case WASM_OP_FD_I64X2_REPLACE_LANE: replace_lane(cg, S_I64, l); return true;
    case WASM_OP_FD_F32X4_EXTRACT_LANE: extract_lane(cg, S_F32, l, 0); return true;
    case WASM_OP_FD_F32X4_REPLACE_LANE: replace_lane(cg, S_F32, l); return true;
    case WASM_OP_FD_F64X2_EXTRACT_LANE: extract_lane(cg, S_F64, l, 0); return true;
    case WASM_OP_FD_F64X2_REPLACE_LANE: replace_lane(cg, S_F64, l); return true;
    default: return false;
    }
}

/* Integer ops that come in the same form for several shapes. */
static bool int_op(struct cg *cg, uint32_t sub)
{
    switch (sub) {
#define CMP(SH, s)                                                                      \
    case WASM_OP_FD_##SH##_EQ: icmp(cg, s, LLVMIntEQ); return true;                      \
    case WASM_OP_FD_##SH##_NE: icmp(cg, s, LLVMIntNE); return true;                      \
    case WASM_OP_FD_##SH##_LT_S: icmp(cg, s, LLVMIntSLT); return true;                   \
    case WASM_OP_FD_##SH##_GT_S: icmp(cg, s, LLVMIntSGT); return true;                   \
    case WASM_OP_FD_##SH##_LE_S: icmp(cg, s, LLVMIntSLE); return true;                   \
    case WASM_OP_FD_##SH##_GE_S: icmp(cg, s, LLVMIntSGE); return true;
#define CMPU(SH, s)                                                                     \
    case WASM_OP_FD_##SH##_LT_U: icmp(cg, s, LLVMIntULT); return true;                   \
    case WASM_OP_FD_##SH##_GT_U: icmp(cg, s, LLVMIntUGT); return true;                   \
    case WASM_OP_FD_##SH##_LE_U: icmp(cg, s, LLVMIntULE); return true;                   \
    case WASM_OP_FD_##SH##_GE_U: icmp(cg, s, LLVMIntUGE); return true;
    CMP(I8X16, S_I8) CMPU(I8X16, S_I8)
    CMP(I16X8, S_I16) CMPU(I16X8, S_I16)
    CMP(I32X4, S_I32) CMPU(I32X4, S_I32)
    CMP(I64X2, S_I64)
#define ARITH(SH, s)                                                                    \
    case WASM_OP_FD_##SH##_ADD: binop(cg, s, LLVMAdd); return true;                      \
    case WASM_OP_FD_##SH##_SUB: binop(cg, s, LLVMSub); return true;                      \
    case WASM_OP_FD_##SH##_ABS: iabs(cg, s); return true;                                \
    case WASM_OP_FD_##SH##_NEG: ineg(cg, s); return true;                                \
    case WASM_OP_FD_##SH##_ALL_TRUE: all_true(cg, s); return true;                       \
    case WASM_OP_FD_##SH##_BITMASK: bitmask(cg, s); return true;                         \
    case WASM_OP_FD_##SH##_SHL: shift(cg, s, LLVMShl); return true;                      \
    case WASM_OP_FD_##SH##_SHR_S: shift(cg, s, LLVMAShr); return true;                   \
    case WASM_OP_FD_##SH##_SHR_U: shift(cg, s, LLVMLShr); return true;
    ARITH(I8X16, S_I8) ARITH(I16X8, S_I16) ARITH(I32X4, S_I32) ARITH(I64X2, S_I64)
#define MINMAX(SH, s)                                                                   \
    case WASM_OP_FD_##SH##_MIN_S: iminmax(cg, s, LLVMIntSLT); return true;               \
    case WASM_OP_FD_##SH##_MIN_U: iminmax(cg, s, LLVMIntULT); return true;               \
    case WASM_OP_FD_##SH##_MAX_S: iminmax(cg, s, LLVMIntSGT); return true;               \
    case WASM_OP_FD_##SH##_MAX_U: iminmax(cg, s, LLVMIntUGT); return true;
    MINMAX(I8X16, S_I8) MINMAX(I16X8, S_I16) MINMAX(I32X4, S_I32)
#define SAT(SH, s)                                                                      \
    case WASM_OP_FD_##SH##_ADD_SAT_S: bin_intrinsic(cg, s, "llvm.sadd.sat"); return true; \
    case WASM_OP_FD_##SH##_ADD_SAT_U: bin_intrinsic(cg, s, "llvm.uadd.sat"); return true; \
    case WASM_OP_FD_##SH##_SUB_SAT_S: bin_intrinsic(cg, s, "llvm.ssub.sat"); return true; \
    case WASM_OP_FD_##SH##_SUB_SAT_U: bin_intrinsic(cg, s, "llvm.usub.sat"); return true; \
    case WASM_OP_FD_##SH##_AVGR_U: avgr(cg, s); return true;
    SAT(I8X16, S_I8) SAT(I16X8, S_I16)
#define EXT(SH, FROM, s)                                                                           \
    case WASM_OP_FD_##SH##_EXTEND_LOW_##FROM##_S: extend(cg, s, false, true); return true;           \
    case WASM_OP_FD_##SH##_EXTEND_HIGH_##FROM##_S: extend(cg, s, true, true); return true;           \
    case WASM_OP_FD_##SH##_EXTEND_LOW_##FROM##_U: extend(cg, s, false, false); return true;          \
    case WASM_OP_FD_##SH##_EXTEND_HIGH_##FROM##_U: extend(cg, s, true, false); return true;          \
    case WASM_OP_FD_##SH##_EXTMUL_LOW_##FROM##_S: extmul(cg, s, false, true); return true;           \
    case WASM_OP_FD_##SH##_EXTMUL_HIGH_##FROM##_S: extmul(cg, s, true, true); return true;           \
    case WASM_OP_FD_##SH##_EXTMUL_LOW_##FROM##_U: extmul(cg, s, false, false); return true;          \
    case WASM_OP_FD_##SH##_EXTMUL_HIGH_##FROM##_U: extmul(cg, s, true, false); return true;
    EXT(I16X8, I8X16, S_I8) EXT(I32X4, I16X8, S_I16) EXT(I64X2, I32X4, S_I32)
#undef CMP
#undef CMPU
#undef ARITH
#undef MINMAX
#undef SAT
#undef EXT
    case WASM_OP_FD_I16X8_MUL: binop(cg, S_I16, LLVMMul); return true;
    case WASM_OP_FD_I32X4_MUL: binop(cg, S_I32, LLVMMul); return true;
    case WASM_OP_FD_I64X2_MUL: binop(cg, S_I64, LLVMMul); return true;
    case WASM_OP_FD_I8X16_POPCNT: un_intrinsic(cg, S_I8, "llvm.ctpop"); return true;
    case WASM_OP_FD_I8X16_NARROW_I16X8_S: narrow(cg, S_I8, true); return true;
    case WASM_OP_FD_I8X16_NARROW_I16X8_U: narrow(cg, S_I8, false); return true;
    case WASM_OP_FD_I16X8_NARROW_I32X4_S: narrow(cg, S_I16, true); return true;
    case WASM_OP_FD_I16X8_NARROW_I32X4_U: narrow(cg, S_I16, false); return true;
    case WASM_OP_FD_I16X8_EXTADD_PAIRWISE_I8X16_S: extadd_pairwise(cg, S_I8, true); return true;
    case WASM_OP_FD_I16X8_EXTADD_PAIRWISE_I8X16_U: extadd_pairwise(cg, S_I8, false); return true;
    case WASM_OP_FD_I32X4_EXTADD_PAIRWISE_I16X8_S: extadd_pairwise(cg, S_I16, true); return true;
    case WASM_OP_FD_I32X4_EXTADD_PAIRWISE_I16X8_U: extadd_pairwise(cg, S_I16, false); return true;
    case WASM_OP_FD_I16X8_Q15MULR_SAT_S: q15mulr(cg); return true;
    case WASM_OP_FD_I32X4_DOT_I16X8_S: dot(cg); return true;
    default: return false;
    }
}

static bool float_op(struct cg *cg, uint32_t sub)
{
    switch (sub) {
#define FOPS(SH, s)                                                                     \
    case WASM_OP_FD_##SH##_EQ: fcmp(cg, s, LLVMRealOEQ); return true;                    \
    case WASM_OP_FD_##SH##_NE: fcmp(cg, s, LLVMRealUNE); return true;                    \
    case WASM_OP_FD_##SH##_LT: fcmp(cg, s, LLVMRealOLT); return true;                    \
    case WASM_OP_FD_##SH##_GT: fcmp(cg, s, LLVMRealOGT); return true;                    \
    case WASM_OP_FD_##SH##_LE: fcmp(cg, s, LLVMRealOLE); return true;                    \
    case WASM_OP_FD_##SH##_GE: fcmp(cg, s, LLVMRealOGE); return true;                    \
    case WASM_OP_FD_##SH##_ADD: binop(cg, s, LLVMFAdd); return true;                     \
    case WASM_OP_FD_##SH##_SUB: binop(cg, s, LLVMFSub); return true;                     \
    case WASM_OP_FD_##SH##_MUL: binop(cg, s, LLVMFMul); return true;                     \
    case WASM_OP_FD_##SH##_DIV: binop(cg, s, LLVMFDiv); return true;                     \
    case WASM_OP_FD_##SH##_MIN: fminmax(cg, s, false); return true;                      \
    case WASM_OP_FD_##SH##_MAX: fminmax(cg, s, true); return true;                       \
    case WASM_OP_FD_##SH##_PMIN: fpminmax(cg, s, false); return true;                    \
    case WASM_OP_FD_##SH##_PMAX: fpminmax(cg, s, true); return true;                     \
    case WASM_OP_FD_##SH##_ABS: un_intrinsic(cg, s, "llvm.fabs"); return true;           \
    case WASM_OP_FD_##SH##_NEG: fneg_op(cg, s); return true;                             \
    case WASM_OP_FD_##SH##_SQRT: un_intrinsic(cg, s, "llvm.sqrt"); return true;          \
    case WASM_OP_FD_##SH##_CEIL: un_intrinsic(cg, s, "llvm.ceil"); return true;          \
    case WASM_OP_FD_##SH##_FLOOR: un_intrinsic(cg, s, "llvm.floor"); return true;        \
    case WASM_OP_FD_##SH##_TRUNC: un_intrinsic(cg, s, "llvm.trunc"); return true;        \
    case WASM_OP_FD_##SH##_NEAREST: un_intrinsic(cg, s, "llvm.roundeven"); return true;
    FOPS(F32X4, S_F32) FOPS(F64X2, S_F64)
#undef FOPS
    case WASM_OP_FD_I32X4_TRUNC_SAT_F32X4_S: trunc_sat(cg, S_F32, true); return true;
    case WASM_OP_FD_I32X4_TRUNC_SAT_F32X4_U: trunc_sat(cg, S_F32, false); return true;
    case WASM_OP_FD_I32X4_TRUNC_SAT_F64X2_S_ZERO: trunc_sat(cg, S_F64, true); return true;
    case WASM_OP_FD_I32X4_TRUNC_SAT_F64X2_U_ZERO: trunc_sat(cg, S_F64, false); return true;
    case WASM_OP_FD_F32X4_CONVERT_I32X4_S: convert_i32(cg, S_F32, true); return true;
    case WASM_OP_FD_F32X4_CONVERT_I32X4_U: convert_i32(cg, S_F32, false); return true;
    case WASM_OP_FD_F64X2_CONVERT_LOW_I32X4_S: convert_i32(cg, S_F64, true); return true;
    case WASM_OP_FD_F64X2_CONVERT_LOW_I32X4_U: convert_i32(cg, S_F64, false); return true;
    case WASM_OP_FD_F32X4_DEMOTE_F64X2_ZERO: {
        LLVMValueRef a = LLVMBuildFPTrunc(cg->b, pop_as(cg, S_F64), LLVMVectorType(cg->t_f32, 2), "");
        static const unsigned idx[4] = {0, 1, 2, 3};
        push_v(cg, shuffle(cg, a, LLVMConstNull(LLVMTypeOf(a)), idx, 4));
        return true;
    }
    case WASM_OP_FD_F64X2_PROMOTE_LOW_F32X4:
        push_v(cg, LLVMBuildFPExt(cg->b, lanes(cg, pop_as(cg, S_F32), 0, 2, 1), vec(cg, S_F64), ""));
        return true;
    default: return false;
    }
}

void cg_simd(struct cg *cg, struct wasm_reader *r, uint32_t sub)
{
    uint32_t align, offset;
    uint8_t lane = 0, bytes[16];
    bool is_lane_mem = sub >= WASM_OP_FD_V128_LOAD8_LANE && sub <= WASM_OP_FD_V128_LOAD64_ZERO;
    if (sub <= WASM_OP_FD_V128_STORE || is_lane_mem) {
        bool has_lane = sub >= WASM_OP_FD_V128_LOAD8_LANE && sub <= WASM_OP_FD_V128_STORE64_LANE;
        if (!wasm_read_u32(r, &align) || !wasm_read_u32(r, &offset) ||
            (has_lane && !wasm_read_u8(r, &lane))) {
            cg_fail(cg, FL_ERR_MALFORMED, "bad SIMD memory immediate");
            return;
        }
        if (memory_op(cg, sub, offset, lane))
            return;
    }
    switch (sub) {
    case WASM_OP_FD_V128_CONST:
    case WASM_OP_FD_I8X16_SHUFFLE: {
        for (int i = 0; i < 16; i++)
            if (!wasm_read_u8(r, &bytes[i])) {
                cg_fail(cg, FL_ERR_MALFORMED, "bad SIMD immediate");
                return;
            }
        if (sub == WASM_OP_FD_V128_CONST) {
            uint64_t lo, hi;
            memcpy(&lo, bytes, 8);
            memcpy(&hi, bytes + 8, 8);
            LLVMValueRef e[2] = {ci(cg->t_i64, lo), ci(cg->t_i64, hi)};
            cg_push(cg, LLVMConstVector(e, 2));
        } else {
            LLVMValueRef b = pop_as(cg, S_I8), a = pop_as(cg, S_I8);
            unsigned idx[16];
            for (int i = 0; i < 16; i++)
                idx[i] = bytes[i] & 31;
            push_v(cg, shuffle(cg, a, b, idx, 16));
        }
        return;
    }
    case WASM_OP_FD_I8X16_SWIZZLE: swizzle(cg); return;
    case WASM_OP_FD_I8X16_SPLAT: splat_op(cg, S_I8); return;
    case WASM_OP_FD_I16X8_SPLAT: splat_op(cg, S_I16); return;
    case WASM_OP_FD_I32X4_SPLAT: splat_op(cg, S_I32); return;
    case WASM_OP_FD_I64X2_SPLAT: splat_op(cg, S_I64); return;
    case WASM_OP_FD_F32X4_SPLAT: splat_op(cg, S_F32); return;
    case WASM_OP_FD_F64X2_SPLAT: splat_op(cg, S_F64); return;
    case WASM_OP_FD_V128_NOT: {
        LLVMValueRef a = cg_pop(cg);
        cg_push(cg, LLVMBuildNot(cg->b, a, ""));
        return;
    }
    case WASM_OP_FD_V128_AND: binop(cg, S_I64, LLVMAnd); return;
    case WASM_OP_FD_V128_OR: binop(cg, S_I64, LLVMOr); return;
    case WASM_OP_FD_V128_XOR: binop(cg, S_I64, LLVMXor); return;
    case WASM_OP_FD_V128_ANDNOT: {
        LLVMValueRef b = cg_pop(cg), a = cg_pop(cg);
        cg_push(cg, LLVMBuildAnd(cg->b, a, LLVMBuildNot(cg->b, b, ""), ""));
        return;
    }
    case WASM_OP_FD_V128_BITSELECT: {
        LLVMValueRef c = cg_pop(cg), b = cg_pop(cg), a = cg_pop(cg);
        LLVMValueRef x = LLVMBuildAnd(cg->b, a, c, "");
        LLVMValueRef y = LLVMBuildAnd(cg->b, b, LLVMBuildNot(cg->b, c, ""), "");
        cg_push(cg, LLVMBuildOr(cg->b, x, y, ""));
        return;
    }
    case WASM_OP_FD_V128_ANY_TRUE: any_true(cg); return;
    default: break;
    }
    if (sub >= WASM_OP_FD_I8X16_EXTRACT_LANE_S && sub <= WASM_OP_FD_F64X2_REPLACE_LANE) {
        if (!wasm_read_u8(r, &lane)) {
            cg_fail(cg, FL_ERR_MALFORMED, "bad lane index");
            return;
        }
        lane_op(cg, sub, lane);
        return;
    }
    if (int_op(cg, sub) || float_op(cg, sub))
        return;
    cg_fail(cg, FL_ERR_INVALID, "SIMD opcode 0xFD %u is unsupported in aot", sub);
}
