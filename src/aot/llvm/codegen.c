/* codegen.c: translates a validated module into one LLVM module: one native
 * function per wasm function (locals as allocas that mem2reg promotes, the
 * operand stack resolved at compile time, block results as phis), an entry
 * trampoline per function for the runtime's cells convention, and the
 * faaslet_aot_code / faaslet_aot_info tables the loader reads. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Analysis.h>

#include "aot/llvm/codegen.h"
#include "wasm/opcodes.h"
#include "wasm/reader.h"

/* Stack below this much headroom is "call stack exhausted"; leaves room for
 * host functions (WASI, printf) called from the deepest wasm frame. */
#define CG_LARGE_FRAME_LOCALS 256u

static const uint8_t cg_valtypes[] = {WASM_TYPE_I32, WASM_TYPE_I64, WASM_TYPE_F32, WASM_TYPE_F64,
                                      WASM_TYPE_V128, WASM_TYPE_FUNCREF, WASM_TYPE_EXTERNREF};

static const uint8_t imm_kind[256] = {
#define IMM_ROW(name, code, imm, sig) [code] = WASM_IMM_##imm,
    WASM_OPCODES(IMM_ROW)
#undef IMM_ROW
};
static const uint8_t imm_kind_fc[] = {
#define IMM_ROW(name, code, imm, sig) [code] = WASM_IMM_##imm,
    WASM_OPCODES_FC(IMM_ROW)
#undef IMM_ROW
};
static const uint8_t imm_kind_fd[256] = {
#define IMM_ROW(name, code, imm, sig) [code] = WASM_IMM_##imm,
    WASM_OPCODES_FD(IMM_ROW)
#undef IMM_ROW
};
static const uint8_t imm_kind_fe[0x4F] = {
#define IMM_ROW(name, code, imm, sig) [code] = WASM_IMM_##imm,
    WASM_OPCODES_FE(IMM_ROW)
#undef IMM_ROW
};
static const bool op_known[256] = {
#define KNOWN_ROW(name, code, imm, sig) [code] = true,
    WASM_OPCODES(KNOWN_ROW)
#undef KNOWN_ROW
};

void cg_fail(struct cg *cg, int code, const char *fmt, ...)
{
    if (cg->failed)
        return;
    cg->failed = true;
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *name = cg->func_index < cg->m->func_count ? cg->m->funcs[cg->func_index].name : NULL;
    if (name)
        aotc_error(cg->err, code, "aot: function %u (%.60s): %s", cg->func_index, name, msg);
    else
        aotc_error(cg->err, code, "aot: function %u: %s", cg->func_index, msg);
}

LLVMTypeRef cg_type(struct cg *cg, uint8_t valtype)
{
    switch (valtype) {
    case WASM_TYPE_I32: return cg->t_i32;
    case WASM_TYPE_I64: return cg->t_i64;
    case WASM_TYPE_F32: return cg->t_f32;
    case WASM_TYPE_F64: return cg->t_f64;
    case WASM_TYPE_V128: return cg->t_v128;
    default: return cg->t_i64; /* refs */
    }
}

void cg_push(struct cg *cg, LLVMValueRef v)
{
    if (cg->sp == cg->stack_cap) {
        uint32_t cap = cg->stack_cap ? cg->stack_cap * 2 : 64;
        LLVMValueRef *s = realloc(cg->stack, cap * sizeof *s);
        if (!s) {
            cg_fail(cg, FL_ERR_NOMEM, "out of memory");
            return;
        }
        cg->stack = s;
        cg->stack_cap = cap;
    }
    cg->stack[cg->sp++] = v;
}

LLVMValueRef cg_pop(struct cg *cg)
{
    if (cg->sp == 0) {
        /* Only reachable through a validator bug or an allocation failure. */
        cg_fail(cg, FL_ERR_INTERNAL, "operand stack underflow");
        return LLVMGetUndef(cg->t_i32);
    }
    return cg->stack[--cg->sp];
}

LLVMValueRef cg_intrinsic(struct cg *cg, const char *name, LLVMTypeRef *tys, unsigned ntys,
                          LLVMValueRef *args, unsigned nargs)
{
    unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
    LLVMValueRef fn = LLVMGetIntrinsicDeclaration(cg->mod, id, tys, ntys);
    LLVMTypeRef ft = LLVMIntrinsicGetType(cg->ctx, id, tys, ntys);
    return LLVMBuildCall2(cg->b, ft, fn, args, nargs, "");
}

/* ---- small IR helpers ---------------------------------------------------- */

static LLVMValueRef const_i32(struct cg *cg, uint64_t v)
{
    return LLVMConstInt(cg->t_i32, v, 0);
}

static LLVMValueRef const_i64(struct cg *cg, uint64_t v)
{
    return LLVMConstInt(cg->t_i64, v, 0);
}

static LLVMBasicBlockRef new_block(struct cg *cg, const char *name)
{
    return LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, name);
}

/* Moves bb to the end of the function so the layout follows the source. */
static void enter_block(struct cg *cg, LLVMBasicBlockRef bb)
{
    LLVMMoveBasicBlockAfter(bb, LLVMGetLastBasicBlock(cg->fn));
    LLVMPositionBuilderAtEnd(cg->b, bb);
}

/* Pointer of type `to`* at base + offset bytes. */
static LLVMValueRef field_ptr(struct cg *cg, LLVMValueRef base, uint64_t offset, LLVMTypeRef to)
{
    LLVMValueRef idx = const_i64(cg, offset);
    LLVMValueRef p = LLVMBuildGEP2(cg->b, cg->t_i8, base, &idx, 1, "");
    return LLVMBuildBitCast(cg->b, p, LLVMPointerType(to, 0), "");
}

static LLVMValueRef load_field(struct cg *cg, LLVMValueRef base, uint64_t offset, LLVMTypeRef t,
                               bool invariant)
{
    LLVMValueRef v = LLVMBuildLoad2(cg->b, t, field_ptr(cg, base, offset, t), "");
    if (invariant)
        LLVMSetMetadata(v, cg->md_invariant, cg->md_empty);
    return v;
}

/* vmctx->field (an invariant pointer) */
#define VMCTX_PTR(cg, field) load_field(cg, (cg)->vmctx, offsetof(struct aot_vmctx, field), (cg)->t_ptr, true)

/* Element i of a pointer array whose pointer is vmctx field `offset`. */
static LLVMValueRef vmctx_array_ptr(struct cg *cg, uint64_t offset, uint32_t i)
{
    LLVMValueRef arr = load_field(cg, cg->vmctx, offset, cg->t_ptr, true);
    return load_field(cg, arr, (uint64_t)i * sizeof(void *), cg->t_ptr, true);
}

static LLVMTypeRef helper_type(struct cg *cg, int helper)
{
    LLVMTypeRef p = cg->t_ptr, i32 = cg->t_i32, i64 = cg->t_i64;
    switch (helper) {
    case AOT_HELPER_TRAP: return LLVMFunctionType(cg->t_void, (LLVMTypeRef[]){p, p, i32, i32}, 4, 0);
    case AOT_HELPER_TRAP_INDEX:
        return LLVMFunctionType(cg->t_void, (LLVMTypeRef[]){p, p, i32, i32, i32}, 5, 0);
    case AOT_HELPER_MEMORY_GROW: return LLVMFunctionType(i32, (LLVMTypeRef[]){p, i32}, 2, 0);
    case AOT_HELPER_MEMORY_FILL:
    case AOT_HELPER_MEMORY_COPY:
        return LLVMFunctionType(cg->t_void, (LLVMTypeRef[]){p, p, i32, i32, i32}, 5, 0);
    case AOT_HELPER_MEMORY_INIT:
        return LLVMFunctionType(cg->t_void, (LLVMTypeRef[]){p, p, i32, i32, i32, i32}, 6, 0);
    case AOT_HELPER_DATA_DROP:
    case AOT_HELPER_ELEM_DROP: return LLVMFunctionType(cg->t_void, (LLVMTypeRef[]){p, i32}, 2, 0);
    case AOT_HELPER_TABLE_GET: return LLVMFunctionType(i64, (LLVMTypeRef[]){p, p, i32, i32}, 4, 0);
    case AOT_HELPER_TABLE_SET:
        return LLVMFunctionType(cg->t_void, (LLVMTypeRef[]){p, p, i32, i32, i64}, 5, 0);
    case AOT_HELPER_TABLE_SIZE: return LLVMFunctionType(i32, (LLVMTypeRef[]){p, i32}, 2, 0);
    case AOT_HELPER_TABLE_GROW: return LLVMFunctionType(i32, (LLVMTypeRef[]){p, i32, i64, i32}, 4, 0);
    case AOT_HELPER_TABLE_FILL:
        return LLVMFunctionType(cg->t_void, (LLVMTypeRef[]){p, p, i32, i32, i64, i32}, 6, 0);
    case AOT_HELPER_TABLE_COPY:
    case AOT_HELPER_TABLE_INIT:
        return LLVMFunctionType(cg->t_void, (LLVMTypeRef[]){p, p, i32, i32, i32, i32, i32}, 7, 0);
    case AOT_HELPER_ATOMIC_WAIT: return LLVMFunctionType(i32, (LLVMTypeRef[]){p, p, i64, i64, i32, i64}, 6, 0);
    case AOT_HELPER_ATOMIC_NOTIFY: return LLVMFunctionType(i32, (LLVMTypeRef[]){p, p, i64, i32}, 4, 0);
    default: return NULL;
    }
}

LLVMValueRef cg_call_helper(struct cg *cg, int helper, LLVMValueRef *args, unsigned n)
{
    LLVMTypeRef ft = helper_type(cg, helper);
    LLVMValueRef fp = vmctx_array_ptr(cg, offsetof(struct aot_vmctx, helpers), (uint32_t)helper);
    fp = LLVMBuildBitCast(cg->b, fp, LLVMPointerType(ft, 0), "");
    return LLVMBuildCall2(cg->b, ft, fp, args, n, "");
}

static void mark_noreturn_cold(struct cg *cg, LLVMValueRef call)
{
    LLVMAddCallSiteAttribute(call, LLVMAttributeFunctionIndex,
                             LLVMCreateEnumAttribute(cg->ctx, LLVMGetEnumAttributeKindForName("noreturn", 8), 0));
    LLVMAddCallSiteAttribute(call, LLVMAttributeFunctionIndex,
                             LLVMCreateEnumAttribute(cg->ctx, LLVMGetEnumAttributeKindForName("cold", 4), 0));
}

/* Calls the trap helper with a run-time code and ends the block; func is
 * the function to blame (UINT32_MAX: a callee's trap, already blamed). */
static void emit_trap_call_in(struct cg *cg, LLVMValueRef code, uint32_t func)
{
    mark_noreturn_cold(cg, cg_call_helper(cg, AOT_HELPER_TRAP,
                                       (LLVMValueRef[]){cg->vmctx, cg->thread, code, const_i32(cg, func)}, 4));
    LLVMBuildUnreachable(cg->b);
}

static void emit_trap_call(struct cg *cg, LLVMValueRef code)
{
    emit_trap_call_in(cg, code, cg->func_index);
}

/* Traps with "<trap text> <index>" when cond holds (call_indirect elements). */
static void trap_index_if(struct cg *cg, LLVMValueRef cond, int trap, LLVMValueRef index)
{
    LLVMBasicBlockRef bad = new_block(cg, "trap"), cont = new_block(cg, "");
    LLVMValueRef expect_args[2] = {cond, LLVMConstInt(cg->t_i1, 0, 0)};
    cond = cg_intrinsic(cg, "llvm.expect", &cg->t_i1, 1, expect_args, 2);
    LLVMBuildCondBr(cg->b, cond, bad, cont);
    LLVMPositionBuilderAtEnd(cg->b, bad);
    mark_noreturn_cold(cg, cg_call_helper(cg, AOT_HELPER_TRAP_INDEX,
                                       (LLVMValueRef[]){cg->vmctx, cg->thread, const_i32(cg, (uint64_t)trap),
                                                        index, const_i32(cg, cg->func_index)}, 5));
    LLVMBuildUnreachable(cg->b);
    enter_block(cg, cont);
}

void cg_trap_if(struct cg *cg, LLVMValueRef cond, int trap)
{
    if (!cg->trap_bb[trap]) {
        LLVMBasicBlockRef here = LLVMGetInsertBlock(cg->b);
        cg->trap_bb[trap] = new_block(cg, "trap");
        LLVMPositionBuilderAtEnd(cg->b, cg->trap_bb[trap]);
        emit_trap_call(cg, const_i32(cg, (uint64_t)trap));
        LLVMPositionBuilderAtEnd(cg->b, here);
    }
    LLVMBasicBlockRef cont = new_block(cg, "");
    LLVMValueRef expect_args[2] = {cond, LLVMConstInt(cg->t_i1, 0, 0)};
    cond = cg_intrinsic(cg, "llvm.expect", &cg->t_i1, 1, expect_args, 2);
    LLVMBuildCondBr(cg->b, cond, cg->trap_bb[trap], cont);
    enter_block(cg, cont);
}

/* Stores a value as one cell (i32/f32 zero-extended to 64 bits). */
static void store_cell(struct cg *cg, LLVMValueRef cells, uint32_t i, LLVMValueRef v, uint8_t type)
{
    LLVMValueRef x;
    switch (type) {
    case WASM_TYPE_I32: x = LLVMBuildZExt(cg->b, v, cg->t_i64, ""); break;
    case WASM_TYPE_F32:
        x = LLVMBuildZExt(cg->b, LLVMBuildBitCast(cg->b, v, cg->t_i32, ""), cg->t_i64, "");
        break;
    case WASM_TYPE_F64: x = LLVMBuildBitCast(cg->b, v, cg->t_i64, ""); break;
    case WASM_TYPE_V128: {
        LLVMValueRef st = LLVMBuildStore(cg->b, v, field_ptr(cg, cells, (uint64_t)i * 8, cg->t_v128));
        LLVMSetAlignment(st, 8);
        return;
    }
    default: x = v; break;
    }
    LLVMBuildStore(cg->b, x, field_ptr(cg, cells, (uint64_t)i * 8, cg->t_i64));
}

static LLVMValueRef load_cell(struct cg *cg, LLVMValueRef cells, uint32_t i, uint8_t type)
{
    if (type == WASM_TYPE_V128) {
        LLVMValueRef v = LLVMBuildLoad2(cg->b, cg->t_v128, field_ptr(cg, cells, (uint64_t)i * 8, cg->t_v128), "");
        LLVMSetAlignment(v, 8);
        return v;
    }
    LLVMValueRef x = LLVMBuildLoad2(cg->b, cg->t_i64, field_ptr(cg, cells, (uint64_t)i * 8, cg->t_i64), "");
    switch (type) {
    case WASM_TYPE_I32: return LLVMBuildTrunc(cg->b, x, cg->t_i32, "");
    case WASM_TYPE_F32:
        return LLVMBuildBitCast(cg->b, LLVMBuildTrunc(cg->b, x, cg->t_i32, ""), cg->t_f32, "");
    case WASM_TYPE_F64: return LLVMBuildBitCast(cg->b, x, cg->t_f64, "");
    default: return x;
    }
}

/* An alloca in the entry block (so it is a static frame slot). */
static LLVMValueRef entry_alloca(struct cg *cg, LLVMTypeRef t)
{
    LLVMValueRef first = LLVMGetFirstInstruction(cg->entry);
    if (first)
        LLVMPositionBuilderBefore(cg->pb, first);
    else
        LLVMPositionBuilderAtEnd(cg->pb, cg->entry);
    return LLVMBuildAlloca(cg->pb, t, "");
}

/* ---- block types and frames ---------------------------------------------- */

static struct cg_bt bt_of_functype(const struct wasm_functype *t)
{
    return (struct cg_bt){t->param_count, t->result_count, t->types, t->types + t->param_count};
}

static bool read_blocktype(struct cg *cg, struct wasm_reader *r, struct cg_bt *bt)
{
    int64_t v;
    if (!wasm_read_s33(r, &v))
        return false;
    memset(bt, 0, sizeof *bt);
    if (v == -64) /* 0x40: empty */
        return true;
    if (v < 0) {
        uint8_t code = (uint8_t)(v & 0x7F);
        for (size_t i = 0; i < sizeof cg_valtypes; i++)
            if (cg_valtypes[i] == code) {
                bt->nr = 1;
                bt->r = &cg_valtypes[i];
                return true;
            }
        return false;
    }
    if ((uint64_t)v >= cg->m->type_count)
        return false;
    *bt = bt_of_functype(&cg->m->types[v]);
    return true;
}

static struct cg_frame *push_frame(struct cg *cg, uint8_t kind, const struct cg_bt *bt)
{
    if (cg->nframes == cg->frames_cap) {
        uint32_t cap = cg->frames_cap ? cg->frames_cap * 2 : 16;
        struct cg_frame *f = realloc(cg->frames, cap * sizeof *f);
        if (!f) {
            cg_fail(cg, FL_ERR_NOMEM, "out of memory");
            return NULL;
        }
        cg->frames = f;
        cg->frames_cap = cap;
    }
    struct cg_frame *fr = &cg->frames[cg->nframes++];
    memset(fr, 0, sizeof *fr);
    fr->kind = kind;
    fr->bt = *bt;
    fr->height = cg->sp >= bt->np ? cg->sp - bt->np : 0;
    fr->end = new_block(cg, kind == CG_FUNC ? "ret" : "end");
    if (bt->nr) {
        fr->phis = calloc(bt->nr, sizeof *fr->phis);
        if (!fr->phis) {
            cg_fail(cg, FL_ERR_NOMEM, "out of memory");
            return NULL;
        }
        LLVMPositionBuilderAtEnd(cg->pb, fr->end);
        for (uint32_t i = 0; i < bt->nr; i++)
            fr->phis[i] = LLVMBuildPhi(cg->pb, cg_type(cg, bt->r[i]), "");
    }
    return fr;
}

static void free_frame(struct cg_frame *fr)
{
    free(fr->phis);
    free(fr->hphis);
    free(fr->ifparams);
}

/* Adds the top n stack values as incoming values of phis from the current block. */
static void add_incoming(struct cg *cg, LLVMValueRef *phis, uint32_t n)
{
    LLVMBasicBlockRef here = LLVMGetInsertBlock(cg->b);
    for (uint32_t i = 0; i < n; i++) {
        LLVMValueRef v = cg->stack[cg->sp - n + i];
        LLVMAddIncoming(phis[i], &v, &here, 1);
    }
}

/* Records the edge current block -> label `depth` (values from the stack)
 * and returns the target block; the caller emits the terminator. */
static LLVMBasicBlockRef branch_edge(struct cg *cg, uint32_t depth)
{
    struct cg_frame *fr = &cg->frames[cg->nframes - 1 - depth];
    if (fr->kind == CG_LOOP) {
        add_incoming(cg, fr->hphis, fr->bt.np);
        return fr->header;
    }
    add_incoming(cg, fr->phis, fr->bt.nr);
    fr->end_preds++;
    return fr->end;
}

static void mark_dead(struct cg *cg)
{
    cg->frames[cg->nframes - 1].dead = true;
    cg->dead_depth = 0;
}

/* ---- checks at function entry and loop heads ----------------------------- */

static void emit_interrupt_check(struct cg *cg)
{
    if (!cg->opt->interrupt_checks)
        return;
    LLVMValueRef flag_ptr = load_field(cg, cg->thread, offsetof(struct aot_thread, interrupt), cg->t_ptr, true);
    flag_ptr = LLVMBuildBitCast(cg->b, flag_ptr, LLVMPointerType(cg->t_i32, 0), "");
    LLVMValueRef flag = LLVMBuildLoad2(cg->b, cg->t_i32, flag_ptr, "");
    LLVMSetVolatile(flag, 1);
    LLVMSetAlignment(flag, 4);
    cg_trap_if(cg, LLVMBuildICmp(cg->b, LLVMIntNE, flag, const_i32(cg, 0), ""), RUNTIME_TRAP_INTERRUPTED);
}

static void emit_stack_check(struct cg *cg)
{
    LLVMMetadataRef name = LLVMMDStringInContext2(cg->ctx, "rsp", 3);
    LLVMValueRef reg = LLVMMetadataAsValue(cg->ctx, LLVMMDNodeInContext2(cg->ctx, &name, 1));
    LLVMValueRef sp = cg_intrinsic(cg, "llvm.read_register", &cg->t_i64, 1, &reg, 1);
    LLVMValueRef limit = load_field(cg, cg->thread, offsetof(struct aot_thread, stack_limit), cg->t_i64, true);
    cg_trap_if(cg, LLVMBuildICmp(cg->b, LLVMIntULT, sp, limit, ""), RUNTIME_TRAP_CALL_STACK_EXHAUSTED);
}

/* ---- memory --------------------------------------------------------------- */

/* Native address of a wasm access of `size` bytes at i32 addr + offset.
 * With guard pages any address below 8 GiB is reserved, so no check. */
LLVMValueRef cg_mem_address(struct cg *cg, LLVMValueRef addr, uint64_t offset, unsigned size,
                                LLVMTypeRef t)
{
    LLVMValueRef idx = LLVMBuildZExt(cg->b, addr, cg->t_i64, "");
    if (offset)
        idx = LLVMBuildAdd(cg->b, idx, const_i64(cg, offset), "");
    if (cg->opt->bounds_checks) {
        LLVMValueRef mem = VMCTX_PTR(cg, memory);
        LLVMValueRef msize = load_field(cg, mem, offsetof(struct runtime_memory, size), cg->t_i64, false);
        LLVMSetOrdering(msize, LLVMAtomicOrderingMonotonic);
        LLVMSetAlignment(msize, 8);
        LLVMValueRef end = LLVMBuildAdd(cg->b, idx, const_i64(cg, size), "");
        cg_trap_if(cg, LLVMBuildICmp(cg->b, LLVMIntUGT, end, msize, ""), RUNTIME_TRAP_MEMORY_OUT_OF_BOUNDS);
    }
    LLVMValueRef p = LLVMBuildGEP2(cg->b, cg->t_i8, cg->mem_base, &idx, 1, "");
    return LLVMBuildBitCast(cg->b, p, LLVMPointerType(t, 0), "");
}

static void emit_load(struct cg *cg, uint8_t op, uint64_t offset)
{
    LLVMTypeRef mt, rt;  /* memory type, result type */
    bool sext = false;
    switch (op) {
    case WASM_OP_I32_LOAD: mt = rt = cg->t_i32; break;
    case WASM_OP_I64_LOAD: mt = rt = cg->t_i64; break;
    case WASM_OP_F32_LOAD: mt = rt = cg->t_f32; break;
    case WASM_OP_F64_LOAD: mt = rt = cg->t_f64; break;
    case WASM_OP_I32_LOAD8_S: sext = true; /* fallthrough */
    case WASM_OP_I32_LOAD8_U: mt = cg->t_i8; rt = cg->t_i32; break;
    case WASM_OP_I32_LOAD16_S: sext = true; /* fallthrough */
    case WASM_OP_I32_LOAD16_U: mt = cg->t_i16; rt = cg->t_i32; break;
    case WASM_OP_I64_LOAD8_S: sext = true; /* fallthrough */
    case WASM_OP_I64_LOAD8_U: mt = cg->t_i8; rt = cg->t_i64; break;
    case WASM_OP_I64_LOAD16_S: sext = true; /* fallthrough */
    case WASM_OP_I64_LOAD16_U: mt = cg->t_i16; rt = cg->t_i64; break;
    case WASM_OP_I64_LOAD32_S: sext = true; /* fallthrough */
    default: mt = cg->t_i32; rt = cg->t_i64; break;
    }
    unsigned size = (mt == cg->t_i8) ? 1 : (mt == cg->t_i16) ? 2
                  : (mt == cg->t_i32 || mt == cg->t_f32) ? 4 : 8;
    LLVMValueRef addr = cg_pop(cg);
    LLVMValueRef v = LLVMBuildLoad2(cg->b, mt, cg_mem_address(cg, addr, offset, size, mt), "");
    LLVMSetAlignment(v, 1);
    if (mt != rt)
        v = sext ? LLVMBuildSExt(cg->b, v, rt, "") : LLVMBuildZExt(cg->b, v, rt, "");
    cg_push(cg, v);
}

static void emit_store(struct cg *cg, uint8_t op, uint64_t offset)
{
    LLVMTypeRef mt;
    switch (op) {
    case WASM_OP_I32_STORE: mt = cg->t_i32; break;
    case WASM_OP_I64_STORE: mt = cg->t_i64; break;
    case WASM_OP_F32_STORE: mt = cg->t_f32; break;
    case WASM_OP_F64_STORE: mt = cg->t_f64; break;
    case WASM_OP_I32_STORE8:
    case WASM_OP_I64_STORE8: mt = cg->t_i8; break;
    case WASM_OP_I32_STORE16:
    case WASM_OP_I64_STORE16: mt = cg->t_i16; break;
    default: mt = cg->t_i32; break; /* i64.store32 */
    }
    unsigned size = (mt == cg->t_i8) ? 1 : (mt == cg->t_i16) ? 2
                  : (mt == cg->t_i32 || mt == cg->t_f32) ? 4 : 8;
    LLVMValueRef v = cg_pop(cg), addr = cg_pop(cg);
    if (LLVMTypeOf(v) != mt)
        v = LLVMBuildTrunc(cg->b, v, mt, "");
    LLVMValueRef st = LLVMBuildStore(cg->b, v, cg_mem_address(cg, addr, offset, size, mt));
    LLVMSetAlignment(st, 1);
}

/* ---- calls ---------------------------------------------------------------- */

/* Pops the params of t into args[2..] (args[0..1] = vmctx, thread). */
static LLVMValueRef *pop_args(struct cg *cg, const struct wasm_functype *t)
{
    LLVMValueRef *args = malloc((t->param_count + 2) * sizeof *args);
    if (!args) {
        cg_fail(cg, FL_ERR_NOMEM, "out of memory");
        return NULL;
    }
    for (uint32_t i = t->param_count; i-- > 0;)
        args[2 + i] = cg_pop(cg);
    return args;
}

/* Pushes the results of a native call. */
static void push_results(struct cg *cg, const struct wasm_functype *t, LLVMValueRef r)
{
    if (t->result_count == 1)
        cg_push(cg, r);
    else
        for (uint32_t i = 0; i < t->result_count; i++)
            cg_push(cg, LLVMBuildExtractValue(cg->b, r, i, ""));
}

/* Results of a call as an array of values (for phis). */
static void unpack_results(struct cg *cg, const struct wasm_functype *t, LLVMValueRef r,
                           LLVMValueRef *out)
{
    if (t->result_count == 1)
        out[0] = r;
    else
        for (uint32_t i = 0; i < t->result_count; i++)
            out[i] = LLVMBuildExtractValue(cg->b, r, i, "");
}

/* Calls the runtime_func f (an i8* value) of type t with args[2..]:
 * compiled callees directly (their own vmctx), anything else through
 * f->invoke with a cells array in this frame. Pushes the results. */
static void emit_call_func(struct cg *cg, LLVMValueRef f, uint32_t type_index, LLVMValueRef *args)
{
    const struct wasm_functype *t = &cg->m->types[type_index];
    LLVMTypeRef ft = cg->fn_types[type_index];
    uint32_t nr = t->result_count;
    LLVMValueRef *fast = nr ? calloc(nr, sizeof *fast) : NULL;
    LLVMValueRef *slow = nr ? calloc(nr, sizeof *slow) : NULL;
    if (nr && (!fast || !slow)) {
        free(fast);
        free(slow);
        cg_fail(cg, FL_ERR_NOMEM, "out of memory");
        return;
    }
    LLVMValueRef invoke = load_field(cg, f, offsetof(struct runtime_func, invoke), cg->t_ptr, false);
    LLVMValueRef aot_invoke = VMCTX_PTR(cg, aot_invoke);
    LLVMBasicBlockRef fast_bb = new_block(cg, "direct"), slow_bb = new_block(cg, "invoke");
    LLVMBasicBlockRef join = new_block(cg, "joined");
    LLVMBuildCondBr(cg->b, LLVMBuildICmp(cg->b, LLVMIntEQ, invoke, aot_invoke, ""), fast_bb, slow_bb);

    enter_block(cg, fast_bb);
    LLVMValueRef code = load_field(cg, f, offsetof(struct runtime_func, code), cg->t_ptr, false);
    LLVMValueRef native = load_field(cg, code, offsetof(struct aot_code, native), cg->t_ptr, true);
    LLVMValueRef inst = load_field(cg, f, offsetof(struct runtime_func, instance), cg->t_ptr, false);
    LLVMValueRef callee_vmctx = load_field(cg, inst, offsetof(struct runtime_instance, tier_instance), cg->t_ptr, false);
    /* A clone calling its origin's function runs it as its own (its globals). */
    LLVMValueRef origin = VMCTX_PTR(cg, origin);
    callee_vmctx = LLVMBuildSelect(cg->b, LLVMBuildICmp(cg->b, LLVMIntEQ, inst, origin, ""), cg->vmctx,
                                   callee_vmctx, "");
    LLVMValueRef saved0 = args[0], saved1 = args[1];
    args[0] = callee_vmctx;
    args[1] = cg->thread;
    native = LLVMBuildBitCast(cg->b, native, LLVMPointerType(ft, 0), "");
    LLVMValueRef r = LLVMBuildCall2(cg->b, ft, native, args, t->param_count + 2, "");
    args[0] = saved0;
    args[1] = saved1;
    unpack_results(cg, t, r, fast);
    LLVMBasicBlockRef fast_end = LLVMGetInsertBlock(cg->b);
    LLVMBuildBr(cg->b, join);

    enter_block(cg, slow_bb);
    uint32_t ncells = 1;
    for (uint32_t i = 0; i < t->param_count + t->result_count; i++)
        ncells += wasm_valtype_cells(t->types[i]);
    LLVMValueRef cells = entry_alloca(cg, LLVMArrayType(cg->t_i64, ncells));
    cells = LLVMBuildBitCast(cg->b, cells, cg->t_ptr, "");
    for (uint32_t i = 0, c = 0; i < t->param_count; c += wasm_valtype_cells(t->types[i]), i++)
        store_cell(cg, cells, c, args[2 + i], t->types[i]);
    LLVMValueRef exec = load_field(cg, cg->thread, offsetof(struct aot_thread, exec), cg->t_ptr, true);
    LLVMValueRef instance = VMCTX_PTR(cg, instance);
    invoke = LLVMBuildBitCast(cg->b, invoke, LLVMPointerType(cg->t_invoke, 0), "");
    LLVMValueRef rc = LLVMBuildCall2(cg->b, cg->t_invoke, invoke,
                                     (LLVMValueRef[]){exec, instance, f, cells}, 4, "");
    LLVMBasicBlockRef trap_bb = new_block(cg, "host_trap"), ok_bb = new_block(cg, "");
    LLVMBuildCondBr(cg->b, LLVMBuildICmp(cg->b, LLVMIntNE, rc, const_i32(cg, 0), ""), trap_bb, ok_bb);
    LLVMPositionBuilderAtEnd(cg->b, trap_bb);
    emit_trap_call_in(cg, rc, UINT32_MAX);
    enter_block(cg, ok_bb);
    for (uint32_t i = 0, c = 0; i < nr; c += wasm_valtype_cells(t->types[t->param_count + i]), i++)
        slow[i] = load_cell(cg, cells, c, t->types[t->param_count + i]);
    LLVMBasicBlockRef slow_end = LLVMGetInsertBlock(cg->b);
    LLVMBuildBr(cg->b, join);

    enter_block(cg, join);
    for (uint32_t i = 0; i < nr; i++) {
        LLVMValueRef phi = LLVMBuildPhi(cg->b, cg_type(cg, t->types[t->param_count + i]), "");
        LLVMAddIncoming(phi, (LLVMValueRef[]){fast[i], slow[i]},
                        (LLVMBasicBlockRef[]){fast_end, slow_end}, 2);
        cg_push(cg, phi);
    }
    free(fast);
    free(slow);
}

static void emit_call(struct cg *cg, uint32_t func_index)
{
    const struct wasm_func *wf = &cg->m->funcs[func_index];
    const struct wasm_functype *t = &cg->m->types[wf->type_index];
    LLVMValueRef *args = pop_args(cg, t);
    if (!args)
        return;
    args[0] = cg->vmctx;
    args[1] = cg->thread;
    if (wf->import_index != WASM_NO_INDEX) {
        LLVMValueRef f = vmctx_array_ptr(cg, offsetof(struct aot_vmctx, funcs), func_index);
        emit_call_func(cg, f, wf->type_index, args);
    } else {
        LLVMValueRef r = LLVMBuildCall2(cg->b, cg->fn_types[wf->type_index], cg->fns[func_index],
                                        args, t->param_count + 2, "");
        push_results(cg, t, r);
    }
    free(args);
}

static void emit_call_indirect(struct cg *cg, uint32_t type_index, uint32_t table_index)
{
    const struct wasm_functype *t = &cg->m->types[type_index];
    LLVMValueRef idx = cg_pop(cg);
    LLVMValueRef *args = pop_args(cg, t);
    if (!args)
        return;
    args[0] = cg->vmctx;
    args[1] = cg->thread;
    LLVMValueRef table = vmctx_array_ptr(cg, offsetof(struct aot_vmctx, tables), table_index);
    LLVMValueRef size = load_field(cg, table, offsetof(struct runtime_table, size), cg->t_i32, false);
    trap_index_if(cg, LLVMBuildICmp(cg->b, LLVMIntUGE, idx, size, ""), RUNTIME_TRAP_UNDEFINED_ELEMENT, idx);
    LLVMValueRef elems = load_field(cg, table, offsetof(struct runtime_table, elems), cg->t_ptr, false);
    LLVMValueRef off = LLVMBuildMul(cg->b, LLVMBuildZExt(cg->b, idx, cg->t_i64, ""), const_i64(cg, 8), "");
    LLVMValueRef slot = LLVMBuildGEP2(cg->b, cg->t_i8, elems, &off, 1, "");
    slot = LLVMBuildBitCast(cg->b, slot, LLVMPointerType(cg->t_ptr, 0), "");
    LLVMValueRef f = LLVMBuildLoad2(cg->b, cg->t_ptr, slot, "");
    trap_index_if(cg, LLVMBuildIsNull(cg->b, f, ""), RUNTIME_TRAP_UNINITIALIZED_ELEMENT, idx);
    LLVMValueRef tid = load_field(cg, f, offsetof(struct runtime_func, type_id), cg->t_i32, false);
    LLVMValueRef ids = VMCTX_PTR(cg, type_ids);
    LLVMValueRef want = load_field(cg, ids, (uint64_t)type_index * 4, cg->t_i32, true);
    cg_trap_if(cg, LLVMBuildICmp(cg->b, LLVMIntNE, tid, want, ""), RUNTIME_TRAP_INDIRECT_CALL_TYPE_MISMATCH);
    emit_call_func(cg, f, type_index, args);
    free(args);
}

/* ---- variables -------------------------------------------------------------- */

static LLVMValueRef global_cell(struct cg *cg, uint32_t index)
{
    LLVMValueRef p = vmctx_array_ptr(cg, offsetof(struct aot_vmctx, globals), index);
    return p;
}

static void emit_global_get(struct cg *cg, uint32_t index)
{
    const struct wasm_global *g = &cg->m->globals[index];
    LLVMValueRef cell = global_cell(cg, index);
    LLVMValueRef v = load_cell(cg, cell, 0, g->type.type);
    if (!g->type.is_mutable) {
        /* The load_cell load is the first instruction producing v's chain;
         * immutable globals never change after instantiation. */
        LLVMValueRef ld = v;
        while (ld && !LLVMIsALoadInst(ld))
            ld = LLVMGetNumOperands(ld) ? LLVMGetOperand(ld, 0) : NULL;
        if (ld)
            LLVMSetMetadata(ld, cg->md_invariant, cg->md_empty);
    }
    cg_push(cg, v);
}

static void emit_global_set(struct cg *cg, uint32_t index)
{
    const struct wasm_global *g = &cg->m->globals[index];
    store_cell(cg, global_cell(cg, index), 0, cg_pop(cg), g->type.type);
}

/* ---- the function body walk ------------------------------------------------- */

/* Skips the immediates of op (used in unreachable code). */
static bool skip_immediates(struct cg *cg, struct wasm_reader *r, uint8_t op)
{
    uint32_t u, n;
    int64_t s;
    uint8_t b;
    uint64_t bits;
    unsigned kind;
    (void)cg;
    if (op == WASM_OP_PREFIX_FC) {
        if (!wasm_read_u32(r, &u) || u >= sizeof imm_kind_fc)
            return false;
        kind = imm_kind_fc[u];
    } else if (op == WASM_OP_PREFIX_FD) {
        if (!wasm_read_u32(r, &u) || u >= sizeof imm_kind_fd)
            return false;
        kind = imm_kind_fd[u];
    } else if (op == WASM_OP_PREFIX_FE) {
        if (!wasm_read_u32(r, &u) || u >= sizeof imm_kind_fe)
            return false;
        kind = imm_kind_fe[u];
    } else {
        if (!op_known[op])
            return false;
        kind = imm_kind[op];
    }
    switch (kind) {
    case WASM_IMM_NONE: return true;
    case WASM_IMM_BLOCK: return wasm_read_s33(r, &s);
    case WASM_IMM_LABEL: case WASM_IMM_FUNC: case WASM_IMM_LOCAL: case WASM_IMM_GLOBAL:
    case WASM_IMM_TABLE: case WASM_IMM_MEMORY: case WASM_IMM_DATA: case WASM_IMM_ELEM:
        return wasm_read_u32(r, &u);
    case WASM_IMM_BR_TABLE:
        if (!wasm_read_u32(r, &n))
            return false;
        for (uint64_t i = 0; i <= n; i++)
            if (!wasm_read_u32(r, &u))
                return false;
        return true;
    case WASM_IMM_CALL_INDIRECT: case WASM_IMM_MEMARG: case WASM_IMM_MEMORY_INIT:
    case WASM_IMM_MEMORY_COPY: case WASM_IMM_TABLE_INIT: case WASM_IMM_TABLE_COPY:
        return wasm_read_u32(r, &u) && wasm_read_u32(r, &u);
    case WASM_IMM_I32: case WASM_IMM_I64: return wasm_read_sleb(r, 64, &s);
    case WASM_IMM_F32: return wasm_read_f32_bits(r, &u);
    case WASM_IMM_F64: return wasm_read_f64_bits(r, &bits);
    case WASM_IMM_SELECT_T:
        if (!wasm_read_u32(r, &n))
            return false;
        for (uint32_t i = 0; i < n; i++)
            if (!wasm_read_u8(r, &b))
                return false;
        return true;
    case WASM_IMM_REFTYPE: return wasm_read_u8(r, &b);
    case WASM_IMM_V128: case WASM_IMM_SHUFFLE:
        for (int i = 0; i < 16; i++)
            if (!wasm_read_u8(r, &b))
                return false;
        return true;
    case WASM_IMM_LANE: return wasm_read_u8(r, &b);
    case WASM_IMM_MEMARG_LANE: return wasm_read_u32(r, &u) && wasm_read_u32(r, &u) && wasm_read_u8(r, &b);
    default: return false;
    }
}

static void do_block(struct cg *cg, uint8_t op, const struct cg_bt *bt)
{
    if (op == WASM_OP_BLOCK) {
        push_frame(cg, CG_BLOCK, bt);
        return;
    }
    if (op == WASM_OP_LOOP) {
        struct cg_frame *fr = push_frame(cg, CG_LOOP, bt);
        if (!fr)
            return;
        fr->header = new_block(cg, "loop");
        if (bt->np) {
            fr->hphis = calloc(bt->np, sizeof *fr->hphis);
            if (!fr->hphis) {
                cg_fail(cg, FL_ERR_NOMEM, "out of memory");
                return;
            }
            LLVMPositionBuilderAtEnd(cg->pb, fr->header);
            for (uint32_t i = 0; i < bt->np; i++)
                fr->hphis[i] = LLVMBuildPhi(cg->pb, cg_type(cg, bt->p[i]), "");
            add_incoming(cg, fr->hphis, bt->np);
        }
        LLVMBuildBr(cg->b, fr->header);
        enter_block(cg, fr->header);
        cg->sp -= bt->np;
        for (uint32_t i = 0; i < bt->np; i++)
            cg_push(cg, fr->hphis[i]);
        return; /* the interrupt poll comes after optimisation (poll.c) */
    }
    /* if */
    LLVMValueRef cond = cg_pop(cg);
    struct cg_frame *fr = push_frame(cg, CG_IF, bt);
    if (!fr)
        return;
    if (bt->np) {
        fr->ifparams = malloc(bt->np * sizeof *fr->ifparams);
        if (!fr->ifparams) {
            cg_fail(cg, FL_ERR_NOMEM, "out of memory");
            return;
        }
        memcpy(fr->ifparams, &cg->stack[cg->sp - bt->np], bt->np * sizeof *fr->ifparams);
    }
    LLVMBasicBlockRef then_bb = new_block(cg, "then");
    fr->els = new_block(cg, "else");
    LLVMBuildCondBr(cg->b, LLVMBuildICmp(cg->b, LLVMIntNE, cond, const_i32(cg, 0), ""), then_bb, fr->els);
    enter_block(cg, then_bb);
}

static void do_else(struct cg *cg)
{
    struct cg_frame *fr = &cg->frames[cg->nframes - 1];
    if (!fr->dead) {
        LLVMBasicBlockRef target = branch_edge(cg, 0);
        LLVMBuildBr(cg->b, target);
    }
    fr->has_else = true;
    fr->dead = false;
    cg->sp = fr->height;
    for (uint32_t i = 0; i < fr->bt.np; i++)
        cg_push(cg, fr->ifparams[i]);
    enter_block(cg, fr->els);
}

static void emit_return_block(struct cg *cg, struct cg_frame *fr)
{
    if (fr->bt.nr == 0) {
        LLVMBuildRetVoid(cg->b);
    } else if (fr->bt.nr == 1) {
        LLVMBuildRet(cg->b, fr->phis[0]);
    } else {
        LLVMTypeRef st = LLVMGetReturnType(cg->fn_types[cg->m->funcs[cg->func_index].type_index]);
        LLVMValueRef agg = LLVMGetUndef(st);
        for (uint32_t i = 0; i < fr->bt.nr; i++)
            agg = LLVMBuildInsertValue(cg->b, agg, fr->phis[i], i, "");
        LLVMBuildRet(cg->b, agg);
    }
}

/* end: falls through to the continuation; returns false at the function's end. */
static bool do_end(struct cg *cg)
{
    struct cg_frame *fr = &cg->frames[cg->nframes - 1];
    if (!fr->dead) {
        add_incoming(cg, fr->phis, fr->bt.nr);
        fr->end_preds++;
        LLVMBuildBr(cg->b, fr->end);
    }
    if (fr->kind == CG_IF && !fr->has_else) {
        /* The false edge carries the params through as results. */
        LLVMPositionBuilderAtEnd(cg->b, fr->els);
        LLVMMoveBasicBlockAfter(fr->els, LLVMGetLastBasicBlock(cg->fn));
        for (uint32_t i = 0; i < fr->bt.nr; i++)
            LLVMAddIncoming(fr->phis[i], &fr->ifparams[i], &fr->els, 1);
        fr->end_preds++;
        LLVMBuildBr(cg->b, fr->end);
    }
    struct cg_frame done = *fr;
    cg->nframes--;
    cg->sp = done.height;
    bool more = done.kind != CG_FUNC;
    if (done.end_preds == 0) {
        LLVMDeleteBasicBlock(done.end);
        if (more)
            mark_dead(cg);
    } else {
        enter_block(cg, done.end);
        if (done.kind == CG_FUNC)
            emit_return_block(cg, &done);
        else
            for (uint32_t i = 0; i < done.bt.nr; i++)
                cg_push(cg, done.phis[i]);
    }
    free_frame(&done);
    return more;
}

static void do_br_table(struct cg *cg, struct wasm_reader *r)
{
    uint32_t n, depth = 0;
    if (!wasm_read_u32(r, &n)) {
        cg_fail(cg, FL_ERR_MALFORMED, "bad br_table");
        return;
    }
    LLVMValueRef idx = cg_pop(cg);
    /* Targets are read twice: once to find the default, once to add cases. */
    struct wasm_reader first = *r;
    for (uint32_t i = 0; i < n; i++)
        wasm_read_u32(r, &depth);
    uint32_t def;
    if (!wasm_read_u32(r, &def) || def >= cg->nframes) {
        cg_fail(cg, FL_ERR_MALFORMED, "bad br_table");
        return;
    }
    LLVMValueRef sw = LLVMBuildSwitch(cg->b, idx, branch_edge(cg, def), n);
    for (uint32_t i = 0; i < n; i++) {
        wasm_read_u32(&first, &depth);
        if (depth >= cg->nframes) {
            cg_fail(cg, FL_ERR_MALFORMED, "bad br_table");
            return;
        }
        LLVMAddCase(sw, const_i32(cg, i), branch_edge(cg, depth));
    }
    mark_dead(cg);
}

static void emit_select(struct cg *cg)
{
    LLVMValueRef c = cg_pop(cg), b = cg_pop(cg), a = cg_pop(cg);
    cg_push(cg, LLVMBuildSelect(cg->b, LLVMBuildICmp(cg->b, LLVMIntNE, c, const_i32(cg, 0), ""), a, b, ""));
}

static void emit_drop(struct cg *cg)
{
    LLVMValueRef v = cg_pop(cg);
    /* A dropped load must still trap when out of bounds: keep it alive. */
    if (!cg->opt->bounds_checks) {
        /* SIMD loads end in a cast, extend, splat or lane insert. */
        for (int hops = 0; v && hops < 4 && !LLVMIsALoadInst(v); hops++) {
            if (LLVMIsACastInst(v) || LLVMIsAShuffleVectorInst(v))
                v = LLVMGetOperand(v, 0);
            else if (LLVMIsAInsertElementInst(v))
                v = LLVMGetOperand(v, 1);
            else
                v = NULL;
        }
        if (v && LLVMIsALoadInst(v))
            LLVMSetVolatile(v, 1);
    }
}

/* 0xFC prefix: saturating truncation, bulk memory, tables. */
static void do_prefix_fc(struct cg *cg, struct wasm_reader *r)
{
    uint32_t sub, a = 0, b = 0;
    if (!wasm_read_u32(r, &sub)) {
        cg_fail(cg, FL_ERR_MALFORMED, "bad 0xFC opcode");
        return;
    }
    if (cg_numeric_fc(cg, sub))
        return;
    if (sub >= sizeof imm_kind_fc) {
        cg_fail(cg, FL_ERR_INVALID, "0xFC %u instructions are unsupported in aot", sub);
        return;
    }
    unsigned kind = imm_kind_fc[sub];
    if (kind != WASM_IMM_NONE && !wasm_read_u32(r, &a)) {
        cg_fail(cg, FL_ERR_MALFORMED, "bad immediate");
        return;
    }
    if ((kind == WASM_IMM_MEMORY_INIT || kind == WASM_IMM_MEMORY_COPY || kind == WASM_IMM_TABLE_INIT ||
         kind == WASM_IMM_TABLE_COPY) && !wasm_read_u32(r, &b)) {
        cg_fail(cg, FL_ERR_MALFORMED, "bad immediate");
        return;
    }
    LLVMValueRef x, y, z;
    switch (sub) {
    case WASM_OP_FC_MEMORY_INIT:
        z = cg_pop(cg), y = cg_pop(cg), x = cg_pop(cg);
        cg_call_helper(cg, AOT_HELPER_MEMORY_INIT,
                    (LLVMValueRef[]){cg->vmctx, cg->thread, const_i32(cg, a), x, y, z}, 6);
        break;
    case WASM_OP_FC_DATA_DROP:
        cg_call_helper(cg, AOT_HELPER_DATA_DROP, (LLVMValueRef[]){cg->vmctx, const_i32(cg, a)}, 2);
        break;
    case WASM_OP_FC_MEMORY_COPY:
    case WASM_OP_FC_MEMORY_FILL:
        z = cg_pop(cg), y = cg_pop(cg), x = cg_pop(cg);
        cg_call_helper(cg, sub == WASM_OP_FC_MEMORY_COPY ? AOT_HELPER_MEMORY_COPY : AOT_HELPER_MEMORY_FILL,
                    (LLVMValueRef[]){cg->vmctx, cg->thread, x, y, z}, 5);
        break;
    case WASM_OP_FC_TABLE_INIT: /* elemidx a, tableidx b */
        z = cg_pop(cg), y = cg_pop(cg), x = cg_pop(cg);
        cg_call_helper(cg, AOT_HELPER_TABLE_INIT,
                    (LLVMValueRef[]){cg->vmctx, cg->thread, const_i32(cg, b), const_i32(cg, a), x, y, z}, 7);
        break;
    case WASM_OP_FC_ELEM_DROP:
        cg_call_helper(cg, AOT_HELPER_ELEM_DROP, (LLVMValueRef[]){cg->vmctx, const_i32(cg, a)}, 2);
        break;
    case WASM_OP_FC_TABLE_COPY: /* dst a, src b */
        z = cg_pop(cg), y = cg_pop(cg), x = cg_pop(cg);
        cg_call_helper(cg, AOT_HELPER_TABLE_COPY,
                    (LLVMValueRef[]){cg->vmctx, cg->thread, const_i32(cg, a), const_i32(cg, b), x, y, z}, 7);
        break;
    case WASM_OP_FC_TABLE_GROW:
        y = cg_pop(cg), x = cg_pop(cg); /* init, delta */
        cg_push(cg, cg_call_helper(cg, AOT_HELPER_TABLE_GROW,
                                (LLVMValueRef[]){cg->vmctx, const_i32(cg, a), x, y}, 4));
        break;
    case WASM_OP_FC_TABLE_SIZE:
        cg_push(cg, cg_call_helper(cg, AOT_HELPER_TABLE_SIZE, (LLVMValueRef[]){cg->vmctx, const_i32(cg, a)}, 2));
        break;
    case WASM_OP_FC_TABLE_FILL:
        z = cg_pop(cg), y = cg_pop(cg), x = cg_pop(cg); /* i, val, n */
        cg_call_helper(cg, AOT_HELPER_TABLE_FILL,
                    (LLVMValueRef[]){cg->vmctx, cg->thread, const_i32(cg, a), x, y, z}, 6);
        break;
    default:
        cg_fail(cg, FL_ERR_INVALID, "0xFC %u instructions are unsupported in aot", sub);
    }
}

/* One live instruction. Returns false at the function's final end. */
static bool do_instruction(struct cg *cg, struct wasm_reader *r, uint8_t op)
{
    uint32_t a, b;
    struct cg_bt bt;
    if (cg_numeric(cg, op))
        return true;
    switch (op) {
    case WASM_OP_UNREACHABLE:
        if (!cg->trap_bb[RUNTIME_TRAP_UNREACHABLE]) {
            emit_trap_call(cg, const_i32(cg, RUNTIME_TRAP_UNREACHABLE));
        } else {
            LLVMBuildBr(cg->b, cg->trap_bb[RUNTIME_TRAP_UNREACHABLE]);
        }
        mark_dead(cg);
        return true;
    case WASM_OP_NOP: return true;
    case WASM_OP_BLOCK: case WASM_OP_LOOP: case WASM_OP_IF:
        if (!read_blocktype(cg, r, &bt)) {
            cg_fail(cg, FL_ERR_MALFORMED, "bad block type");
            return false;
        }
        do_block(cg, op, &bt);
        return true;
    case WASM_OP_ELSE: do_else(cg); return true;
    case WASM_OP_END: return do_end(cg);
    case WASM_OP_BR: case WASM_OP_BR_IF:
        if (!wasm_read_u32(r, &a) || a >= cg->nframes) {
            cg_fail(cg, FL_ERR_MALFORMED, "bad label");
            return false;
        }
        if (op == WASM_OP_BR) {
            LLVMBuildBr(cg->b, branch_edge(cg, a));
            mark_dead(cg);
        } else {
            LLVMValueRef c = cg_pop(cg);
            LLVMValueRef cond = LLVMBuildICmp(cg->b, LLVMIntNE, c, const_i32(cg, 0), "");
            LLVMBasicBlockRef cont = new_block(cg, "");
            LLVMBuildCondBr(cg->b, cond, branch_edge(cg, a), cont);
            enter_block(cg, cont);
        }
        return true;
    case WASM_OP_BR_TABLE: do_br_table(cg, r); return true;
    case WASM_OP_RETURN:
        LLVMBuildBr(cg->b, branch_edge(cg, cg->nframes - 1));
        mark_dead(cg);
        return true;
    case WASM_OP_CALL:
        if (!wasm_read_u32(r, &a) || a >= cg->m->func_count) {
            cg_fail(cg, FL_ERR_MALFORMED, "bad function index");
            return false;
        }
        emit_call(cg, a);
        return true;
    case WASM_OP_CALL_INDIRECT:
        if (!wasm_read_u32(r, &a) || !wasm_read_u32(r, &b) || a >= cg->m->type_count) {
            cg_fail(cg, FL_ERR_MALFORMED, "bad call_indirect");
            return false;
        }
        emit_call_indirect(cg, a, b);
        return true;
    case WASM_OP_DROP: emit_drop(cg); return true;
    case WASM_OP_SELECT: emit_select(cg); return true;
    case WASM_OP_SELECT_T:
        if (!skip_immediates(cg, r, op))
            return false;
        emit_select(cg);
        return true;
    case WASM_OP_LOCAL_GET: case WASM_OP_LOCAL_SET: case WASM_OP_LOCAL_TEE:
        if (!wasm_read_u32(r, &a) || a >= cg->local_count) {
            cg_fail(cg, FL_ERR_MALFORMED, "bad local index");
            return false;
        }
        if (op == WASM_OP_LOCAL_GET) {
            cg_push(cg, LLVMBuildLoad2(cg->b, cg_type(cg, cg->local_types[a]), cg->locals[a], ""));
        } else {
            LLVMValueRef v = cg_pop(cg);
            LLVMBuildStore(cg->b, v, cg->locals[a]);
            if (op == WASM_OP_LOCAL_TEE)
                cg_push(cg, v);
        }
        return true;
    case WASM_OP_GLOBAL_GET: case WASM_OP_GLOBAL_SET:
        if (!wasm_read_u32(r, &a) || a >= cg->m->global_count) {
            cg_fail(cg, FL_ERR_MALFORMED, "bad global index");
            return false;
        }
        if (op == WASM_OP_GLOBAL_GET)
            emit_global_get(cg, a);
        else
            emit_global_set(cg, a);
        return true;
    case WASM_OP_TABLE_GET:
        if (!wasm_read_u32(r, &a))
            return false;
        cg_push(cg, cg_call_helper(cg, AOT_HELPER_TABLE_GET,
                                (LLVMValueRef[]){cg->vmctx, cg->thread, const_i32(cg, a), cg_pop(cg)}, 4));
        return true;
    case WASM_OP_TABLE_SET: {
        if (!wasm_read_u32(r, &a))
            return false;
        LLVMValueRef v = cg_pop(cg), i = cg_pop(cg);
        cg_call_helper(cg, AOT_HELPER_TABLE_SET, (LLVMValueRef[]){cg->vmctx, cg->thread, const_i32(cg, a), i, v}, 5);
        return true;
    }
    case WASM_OP_MEMORY_SIZE: {
        if (!wasm_read_u32(r, &a))
            return false;
        LLVMValueRef mem = VMCTX_PTR(cg, memory);
        LLVMValueRef size = load_field(cg, mem, offsetof(struct runtime_memory, size), cg->t_i64, false);
        LLVMSetOrdering(size, LLVMAtomicOrderingMonotonic);
        LLVMSetAlignment(size, 8);
        size = LLVMBuildLShr(cg->b, size, const_i64(cg, 16), "");
        cg_push(cg, LLVMBuildTrunc(cg->b, size, cg->t_i32, ""));
        return true;
    }
    case WASM_OP_MEMORY_GROW:
        if (!wasm_read_u32(r, &a))
            return false;
        cg_push(cg, cg_call_helper(cg, AOT_HELPER_MEMORY_GROW, (LLVMValueRef[]){cg->vmctx, cg_pop(cg)}, 2));
        return true;
    case WASM_OP_I32_CONST: {
        int32_t v;
        if (!wasm_read_i32(r, &v))
            return false;
        cg_push(cg, const_i32(cg, (uint32_t)v));
        return true;
    }
    case WASM_OP_I64_CONST: {
        int64_t v;
        if (!wasm_read_i64(r, &v))
            return false;
        cg_push(cg, const_i64(cg, (uint64_t)v));
        return true;
    }
    case WASM_OP_F32_CONST: {
        uint32_t bits;
        if (!wasm_read_f32_bits(r, &bits))
            return false;
        cg_push(cg, LLVMConstBitCast(const_i32(cg, bits), cg->t_f32));
        return true;
    }
    case WASM_OP_F64_CONST: {
        uint64_t bits;
        if (!wasm_read_f64_bits(r, &bits))
            return false;
        cg_push(cg, LLVMConstBitCast(const_i64(cg, bits), cg->t_f64));
        return true;
    }
    case WASM_OP_REF_NULL: {
        uint8_t t;
        if (!wasm_read_u8(r, &t))
            return false;
        cg_push(cg, const_i64(cg, 0));
        return true;
    }
    case WASM_OP_REF_IS_NULL: {
        LLVMValueRef v = cg_pop(cg);
        cg_push(cg, LLVMBuildZExt(cg->b, LLVMBuildICmp(cg->b, LLVMIntEQ, v, const_i64(cg, 0), ""), cg->t_i32, ""));
        return true;
    }
    case WASM_OP_REF_FUNC: {
        if (!wasm_read_u32(r, &a) || a >= cg->m->func_count)
            return false;
        LLVMValueRef f = vmctx_array_ptr(cg, offsetof(struct aot_vmctx, funcs), a);
        cg_push(cg, LLVMBuildPtrToInt(cg->b, f, cg->t_i64, ""));
        return true;
    }
    case WASM_OP_PREFIX_FC: do_prefix_fc(cg, r); return true;
    case WASM_OP_PREFIX_FD:
    case WASM_OP_PREFIX_FE:
        if (!wasm_read_u32(r, &a)) {
            cg_fail(cg, FL_ERR_MALFORMED, "bad prefixed opcode");
            return false;
        }
        if (op == WASM_OP_PREFIX_FD)
            cg_simd(cg, r, a);
        else
            cg_atomic(cg, r, a);
        return !cg->failed;
    default:
        if (op >= WASM_OP_I32_LOAD && op <= WASM_OP_I64_STORE32) {
            uint32_t align, offset;
            if (!wasm_read_u32(r, &align) || !wasm_read_u32(r, &offset))
                return false;
            if (op <= WASM_OP_I64_LOAD32_U)
                emit_load(cg, op, offset);
            else
                emit_store(cg, op, offset);
            return true;
        }
        cg_fail(cg, FL_ERR_INVALID, "opcode 0x%02x is unsupported in aot", op);
        return false;
    }
}

static void reset_function_state(struct cg *cg)
{
    for (uint32_t i = 0; i < cg->nframes; i++)
        free_frame(&cg->frames[i]);
    cg->nframes = 0;
    cg->sp = 0;
    cg->dead_depth = 0;
    free(cg->locals);
    free(cg->local_types);
    cg->locals = NULL;
    cg->local_types = NULL;
    memset(cg->trap_bb, 0, sizeof cg->trap_bb);
}

/* Translates the body of defined function func_index into cg->fns[func_index]. */
static int compile_function(struct cg *cg, uint32_t func_index)
{
    const struct wasm_func *wf = &cg->m->funcs[func_index];
    const struct wasm_functype *t = &cg->m->types[wf->type_index];
    cg->func_index = func_index;
    cg->fn = cg->fns[func_index];
    cg->local_count = t->param_count + wf->local_count;
    cg->locals = calloc(cg->local_count ? cg->local_count : 1, sizeof *cg->locals);
    cg->local_types = malloc(cg->local_count ? cg->local_count : 1);
    if (!cg->locals || !cg->local_types) {
        cg_fail(cg, FL_ERR_NOMEM, "out of memory");
        return cg->err->code;
    }
    memcpy(cg->local_types, t->types, t->param_count);
    if (wf->local_count)
        memcpy(cg->local_types + t->param_count, wf->local_types, wf->local_count);

    cg->entry = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "entry");
    LLVMPositionBuilderAtEnd(cg->b, cg->entry);
    cg->vmctx = LLVMGetParam(cg->fn, 0);
    cg->thread = LLVMGetParam(cg->fn, 1);
    for (uint32_t i = 0; i < cg->local_count; i++) {
        LLVMTypeRef lt = cg_type(cg, cg->local_types[i]);
        cg->locals[i] = LLVMBuildAlloca(cg->b, lt, "");
        LLVMValueRef init = i < t->param_count ? LLVMGetParam(cg->fn, 2 + i) : LLVMConstNull(lt);
        LLVMBuildStore(cg->b, init, cg->locals[i]);
    }
    if (cg->opt->interrupt_checks) {
        /* The polls added after optimisation (poll.c) read vmctx and thread;
         * an empty asm "uses" them so LLVM never passes undef for them when
         * the optimised body alone would not need them. Emits nothing. */
        LLVMTypeRef at = LLVMFunctionType(cg->t_void, (LLVMTypeRef[]){cg->t_ptr, cg->t_ptr}, 2, 0);
        LLVMValueRef use = LLVMGetInlineAsm(at, "", 0, "r,r", 3, 1, 0, LLVMInlineAsmDialectATT, 0);
        LLVMBuildCall2(cg->b, at, use, (LLVMValueRef[]){cg->vmctx, cg->thread}, 2, "");
    }
    cg->mem_base = NULL;
    if (cg->m->memory_count)
        cg->mem_base = VMCTX_PTR(cg, mem_base);

    /* Calls can recurse and big frames eat stack: check the native stack
     * pointer there (leaf functions of modest size cannot overflow it). A
     * 0x10/0x11 byte anywhere in the body over-approximates "has calls". */
    bool has_calls = memchr(wf->body, WASM_OP_CALL, wf->body_size) ||
                     memchr(wf->body, WASM_OP_CALL_INDIRECT, wf->body_size);
    if (has_calls || cg->local_count > CG_LARGE_FRAME_LOCALS)
        emit_stack_check(cg);
    if (has_calls)
        emit_interrupt_check(cg);

    struct cg_bt fbt = bt_of_functype(t);
    fbt.np = 0;
    push_frame(cg, CG_FUNC, &fbt);

    struct wasm_reader r;
    wasm_reader_init(&r, cg->m->bytes, wf->body, wf->body + wf->body_size);
    bool more = true;
    while (more && !cg->failed) {
        uint8_t op;
        if (!wasm_read_u8(&r, &op)) {
            cg_fail(cg, FL_ERR_MALFORMED, "body ends without end");
            break;
        }
        struct cg_frame *top = &cg->frames[cg->nframes - 1];
        if (top->dead) {
            if (op == WASM_OP_BLOCK || op == WASM_OP_LOOP || op == WASM_OP_IF) {
                cg->dead_depth++;
                if (!skip_immediates(cg, &r, op))
                    cg_fail(cg, FL_ERR_MALFORMED, "bad immediate");
                continue;
            }
            if (op == WASM_OP_END && cg->dead_depth > 0) {
                cg->dead_depth--;
                continue;
            }
            if (op != WASM_OP_END && !(op == WASM_OP_ELSE && cg->dead_depth == 0)) {
                if (!skip_immediates(cg, &r, op))
                    cg_fail(cg, FL_ERR_MALFORMED, "bad immediate in unreachable code at offset 0x%zx",
                            wasm_reader_offset(&r));
                continue;
            }
        }
        more = do_instruction(cg, &r, op);
        if (!more && !cg->failed && cg->nframes != 0)
            cg_fail(cg, FL_ERR_MALFORMED, "bad instruction at offset 0x%zx", wasm_reader_offset(&r));
    }
    reset_function_state(cg);
    return cg->failed ? cg->err->code : FL_OK;
}

/* void entry(vmctx, thread, cells): unpacks params, calls, packs results. */
static LLVMValueRef build_entry(struct cg *cg, uint32_t func_index)
{
    uint32_t type_index = cg->m->funcs[func_index].type_index;
    const struct wasm_functype *t = &cg->m->types[type_index];
    LLVMTypeRef et = LLVMFunctionType(cg->t_void, (LLVMTypeRef[]){cg->t_ptr, cg->t_ptr, cg->t_ptr}, 3, 0);
    char name[32];
    snprintf(name, sizeof name, "entry%u", func_index);
    LLVMValueRef fn = LLVMAddFunction(cg->mod, name, et);
    LLVMSetLinkage(fn, LLVMInternalLinkage);
    LLVMPositionBuilderAtEnd(cg->b, LLVMAppendBasicBlockInContext(cg->ctx, fn, ""));
    LLVMValueRef cells = LLVMGetParam(fn, 2);
    LLVMValueRef *args = malloc((t->param_count + 2) * sizeof *args);
    if (!args)
        return NULL;
    args[0] = LLVMGetParam(fn, 0);
    args[1] = LLVMGetParam(fn, 1);
    for (uint32_t i = 0, c = 0; i < t->param_count; c += wasm_valtype_cells(t->types[i]), i++)
        args[2 + i] = load_cell(cg, cells, c, t->types[i]);
    LLVMValueRef r = LLVMBuildCall2(cg->b, cg->fn_types[type_index], cg->fns[func_index], args,
                                    t->param_count + 2, "");
    free(args);
    for (uint32_t i = 0, c = 0; i < t->result_count; i++) {
        LLVMValueRef v = t->result_count == 1 ? r : LLVMBuildExtractValue(cg->b, r, i, "");
        store_cell(cg, cells, c, v, t->types[t->param_count + i]);
        c += wasm_valtype_cells(t->types[t->param_count + i]);
    }
    LLVMBuildRetVoid(cg->b);
    return fn;
}

static void add_fn_attr(struct cg *cg, LLVMValueRef fn, const char *name, uint64_t val)
{
    unsigned kind = LLVMGetEnumAttributeKindForName(name, strlen(name));
    LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(cg->ctx, kind, val));
}

static void add_param_attr(struct cg *cg, LLVMValueRef fn, unsigned param, const char *name, uint64_t val)
{
    unsigned kind = LLVMGetEnumAttributeKindForName(name, strlen(name));
    LLVMAddAttributeAtIndex(fn, param + 1, LLVMCreateEnumAttribute(cg->ctx, kind, val));
}

static int declare_functions(struct cg *cg)
{
    const struct wasm_module *m = cg->m;
    for (uint32_t i = 0; i < m->type_count; i++) {
        const struct wasm_functype *t = &m->types[i];
        LLVMTypeRef *params = malloc((t->param_count + 2) * sizeof *params);
        LLVMTypeRef *results = malloc((t->result_count + 1) * sizeof *results);
        if (!params || !results) {
            free(params);
            free(results);
            return aotc_error(cg->err, FL_ERR_NOMEM, "aot: out of memory");
        }
        params[0] = params[1] = cg->t_ptr;
        for (uint32_t j = 0; j < t->param_count; j++)
            params[2 + j] = cg_type(cg, t->types[j]);
        for (uint32_t j = 0; j < t->result_count; j++)
            results[j] = cg_type(cg, t->types[t->param_count + j]);
        LLVMTypeRef rt = t->result_count == 0 ? cg->t_void
                       : t->result_count == 1 ? results[0]
                       : LLVMStructTypeInContext(cg->ctx, results, t->result_count, 0);
        cg->fn_types[i] = LLVMFunctionType(rt, params, t->param_count + 2, 0);
        free(params);
        free(results);
    }
    for (uint32_t i = m->import_func_count; i < m->func_count; i++) {
        uint32_t ti = m->funcs[i].type_index;
        if (!cg->fn_types[ti]) {
            cg->func_index = i;
            cg_fail(cg, FL_ERR_INVALID, "v128 (SIMD) values are unsupported in aot");
            return cg->err->code;
        }
        char name[32];
        snprintf(name, sizeof name, "f%u", i);
        LLVMValueRef fn = LLVMAddFunction(cg->mod, name, cg->fn_types[ti]);
        /* Not internal: LLVM would drop unused vmctx/thread parameters,
         * which the loop polls added after optimisation need. Hidden keeps
         * calls direct and the symbols out of the dynamic table. */
        LLVMSetLinkage(fn, LLVMExternalLinkage);
        LLVMSetVisibility(fn, LLVMHiddenVisibility);
        add_fn_attr(cg, fn, "nounwind", 0);
        /* Recursion must use native stack so that the stack check sees it:
         * no tail-call elimination, no sibling calls. */
        LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
                                LLVMCreateStringAttribute(cg->ctx, "disable-tail-calls", 18, "true", 4));
        add_param_attr(cg, fn, 0, "noalias", 0);
        add_param_attr(cg, fn, 0, "dereferenceable", sizeof(struct aot_vmctx));
        add_param_attr(cg, fn, 1, "noalias", 0);
        add_param_attr(cg, fn, 1, "dereferenceable", sizeof(struct aot_thread));
        cg->fns[i] = fn;
    }
    return FL_OK;
}

static int reject_unsupported(struct cg *cg)
{
    const struct wasm_module *m = cg->m;
    (void)m; /* every validated module compiles (SIMD and threads included) */
    return FL_OK;
}

/* The two exported tables: faaslet_aot_code[] and faaslet_aot_info. */
static void build_tables(struct cg *cg, LLVMValueRef *entries)
{
    const struct wasm_module *m = cg->m;
    uint32_t n = m->func_count - m->import_func_count;
    LLVMTypeRef row = LLVMStructTypeInContext(cg->ctx, (LLVMTypeRef[]){cg->t_ptr, cg->t_ptr}, 2, 0);
    LLVMValueRef *rows = malloc((n ? n : 1) * sizeof *rows);
    if (!rows) {
        aotc_error(cg->err, FL_ERR_NOMEM, "aot: out of memory");
        cg->failed = true;
        return;
    }
    for (uint32_t i = 0; i < n; i++) {
        LLVMValueRef v[2] = {LLVMConstBitCast(cg->fns[m->import_func_count + i], cg->t_ptr),
                             LLVMConstBitCast(entries[i], cg->t_ptr)};
        rows[i] = LLVMConstStructInContext(cg->ctx, v, 2, 0);
    }
    LLVMTypeRef at = LLVMArrayType(row, n);
    LLVMValueRef code = LLVMAddGlobal(cg->mod, at, "faaslet_aot_code");
    LLVMSetInitializer(code, LLVMConstArray(row, rows, n));
    LLVMSetGlobalConstant(code, 1);
    free(rows);

    uint32_t flags = (cg->opt->bounds_checks ? AOT_FLAG_BOUNDS_CHECKS : 0) |
                     (cg->opt->interrupt_checks ? AOT_FLAG_INTERRUPT_CHECKS : 0);
    LLVMValueRef f[4] = {const_i32(cg, AOT_ABI_VERSION), const_i32(cg, n), const_i32(cg, flags),
                         const_i32(cg, 0)};
    LLVMValueRef info_init = LLVMConstStructInContext(cg->ctx, f, 4, 0);
    LLVMValueRef info = LLVMAddGlobal(cg->mod, LLVMTypeOf(info_init), "faaslet_aot_info");
    LLVMSetInitializer(info, info_init);
    LLVMSetGlobalConstant(info, 1);
}

int aot_codegen_module(LLVMContextRef ctx, const struct wasm_module *m, const struct aot_options *opts,
                       LLVMModuleRef *out, struct fl_error *err)
{
    struct cg cg;
    memset(&cg, 0, sizeof cg);
    cg.ctx = ctx;
    cg.m = m;
    cg.opt = opts;
    cg.err = err;
    cg.mod = LLVMModuleCreateWithNameInContext("wasm", ctx);
    cg.b = LLVMCreateBuilderInContext(ctx);
    cg.pb = LLVMCreateBuilderInContext(ctx);
    cg.t_void = LLVMVoidTypeInContext(ctx);
    cg.t_i1 = LLVMInt1TypeInContext(ctx);
    cg.t_i8 = LLVMInt8TypeInContext(ctx);
    cg.t_i16 = LLVMInt16TypeInContext(ctx);
    cg.t_i32 = LLVMInt32TypeInContext(ctx);
    cg.t_i64 = LLVMInt64TypeInContext(ctx);
    cg.t_f32 = LLVMFloatTypeInContext(ctx);
    cg.t_f64 = LLVMDoubleTypeInContext(ctx);
    cg.t_ptr = LLVMPointerType(cg.t_i8, 0);
    cg.t_v128 = LLVMVectorType(cg.t_i64, 2);
    cg.t_invoke = LLVMFunctionType(cg.t_i32, (LLVMTypeRef[]){cg.t_ptr, cg.t_ptr, cg.t_ptr, cg.t_ptr}, 4, 0);
    cg.md_invariant = LLVMGetMDKindIDInContext(ctx, "invariant.load", 14);
    cg.md_empty = LLVMMetadataAsValue(ctx, LLVMMDNodeInContext2(ctx, NULL, 0));
    cg.fn_types = calloc(m->type_count ? m->type_count : 1, sizeof *cg.fn_types);
    cg.fns = calloc(m->func_count ? m->func_count : 1, sizeof *cg.fns);
    uint32_t ndef = m->func_count - m->import_func_count;
    LLVMValueRef *entries = calloc(ndef ? ndef : 1, sizeof *entries);
    int rc = FL_OK;
    if (!cg.fn_types || !cg.fns || !entries)
        rc = aotc_error(err, FL_ERR_NOMEM, "aot: out of memory");
    if (!rc)
        rc = reject_unsupported(&cg);
    if (!rc)
        rc = declare_functions(&cg);
    for (uint32_t i = m->import_func_count; !rc && i < m->func_count; i++)
        rc = compile_function(&cg, i);
    for (uint32_t i = 0; !rc && i < ndef; i++) {
        entries[i] = build_entry(&cg, m->import_func_count + i);
        if (!entries[i])
            rc = aotc_error(err, FL_ERR_NOMEM, "aot: out of memory");
    }
    if (!rc) {
        build_tables(&cg, entries);
        if (cg.failed)
            rc = err->code;
    }
    if (!rc) {
        char *msg = NULL;
        if (LLVMVerifyModule(cg.mod, LLVMReturnStatusAction, &msg)) {
            char line[200];
            snprintf(line, sizeof line, "%s", msg ? msg : "?");
            char *nl = strchr(line, '\n');
            if (nl)
                *nl = 0;
            rc = aotc_error(err, FL_ERR_INTERNAL, "aot: generated IR does not verify: %s", line);
        }
        LLVMDisposeMessage(msg);
    }
    reset_function_state(&cg);
    free(cg.stack);
    free(cg.frames);
    free(cg.fn_types);
    free(cg.fns);
    free(entries);
    LLVMDisposeBuilder(cg.b);
    LLVMDisposeBuilder(cg.pb);
    if (rc) {
        LLVMDisposeModule(cg.mod);
        return rc;
    }
    *out = cg.mod;
    return FL_OK;
}
