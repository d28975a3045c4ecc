/* interp_internal.h: the interpreter's internal code format, shared by the
 * compiler (compile.c: wasm bytecode -> internal code) and the dispatch loop
 * (exec.c).
 *
 * A function's code is a stream of 32-bit units. Each instruction starts with
 * its handler address (a pointer stored in two units, read with memcpy), then
 * its operands: frame slot indices (a frame is one array of 64-bit cells:
 * params, declared locals, then one slot per operand-stack position),
 * immediates, and branch offsets in units relative to the instruction start. */
#ifndef FL_INTERP_INTERP_INTERNAL_H
#define FL_INTERP_INTERP_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

#include "interp/interp.h"
#include "interp/simd_ops.h"

/* Cells a call site reserves above its arguments for the return record
 * (return ip, caller frame, caller function, result destination). */
#define INTERP_FRAME_RECORD_CELLS 4

/* The internal opcode set: X(NAME, operand units). Variable-length ops
 * (BR_TABLE) give their fixed part. Numbers are internal only; SIMD ops will
 * be appended (v128 values take two adjacent slots). */
#define INTERP_OPS(X) \
    /* control */ \
    X(UNREACHABLE, 0) X(NOP, 0) \
    X(BR, 1)          /* off */ \
    X(BR_Z, 2)        /* cond off */ \
    X(BR_NZ, 2) \
    X(BR_Z64, 2) X(BR_NZ64, 2) \
    X(BR_TABLE, 2)    /* idx n, then n+1 offsets */ \
    X(RET, 1)         /* result cells (already in slots 0..) */ \
    X(CALL, 3)        /* defined-func index, arg slot, record slot */ \
    X(CALL_IMPORT, 2) /* func index, arg slot */ \
    X(CALL_INDIRECT, 5) /* table, type index, index slot, arg slot, record slot */ \
    /* fused compare-and-branch: a b off / a imm off */ \
    X(BR_I32_EQ, 3) X(BR_I32_NE, 3) X(BR_I32_LT_S, 3) X(BR_I32_LT_U, 3) \
    X(BR_I32_GT_S, 3) X(BR_I32_GT_U, 3) X(BR_I32_LE_S, 3) X(BR_I32_LE_U, 3) \
    X(BR_I32_GE_S, 3) X(BR_I32_GE_U, 3) \
    X(BR_I32_EQ_IMM, 3) X(BR_I32_NE_IMM, 3) X(BR_I32_LT_S_IMM, 3) X(BR_I32_LT_U_IMM, 3) \
    X(BR_I32_GT_S_IMM, 3) X(BR_I32_GT_U_IMM, 3) X(BR_I32_LE_S_IMM, 3) X(BR_I32_LE_U_IMM, 3) \
    X(BR_I32_GE_S_IMM, 3) X(BR_I32_GE_U_IMM, 3) \
    X(BR_I64_EQ, 3) X(BR_I64_NE, 3) X(BR_I64_LT_S, 3) X(BR_I64_LT_U, 3) \
    X(BR_I64_GT_S, 3) X(BR_I64_GT_U, 3) X(BR_I64_LE_S, 3) X(BR_I64_LE_U, 3) \
    X(BR_I64_GE_S, 3) X(BR_I64_GE_U, 3) \
    /* moves and constants */ \
    X(MOV, 2)         /* dst src */ \
    X(CONST32, 2)     /* dst imm (zero-extended into the cell) */ \
    X(CONST64, 3)     /* dst lo hi */ \
    X(GLOBAL_GET, 2)  /* dst global */ \
    X(GLOBAL_SET, 2)  /* global src */ \
    X(SELECT, 4)      /* dst a b cond */ \
    /* memory: dst addr offset / addr value offset */ \
    X(I32_LOAD, 3) X(I64_LOAD, 3) X(F32_LOAD, 3) X(F64_LOAD, 3) \
    X(I32_LOAD8_S, 3) X(I32_LOAD8_U, 3) X(I32_LOAD16_S, 3) X(I32_LOAD16_U, 3) \
    X(I64_LOAD8_S, 3) X(I64_LOAD8_U, 3) X(I64_LOAD16_S, 3) X(I64_LOAD16_U, 3) \
    X(I64_LOAD32_S, 3) X(I64_LOAD32_U, 3) \
    X(I32_STORE, 3) X(I64_STORE, 3) X(F32_STORE, 3) X(F64_STORE, 3) \
    X(I32_STORE8, 3) X(I32_STORE16, 3) X(I64_STORE8, 3) X(I64_STORE16, 3) X(I64_STORE32, 3) \
    X(MEMORY_SIZE, 1) X(MEMORY_GROW, 2) \
    X(MEMORY_INIT, 4) /* data d s n */ \
    X(DATA_DROP, 1) \
    X(MEMORY_COPY, 3) X(MEMORY_FILL, 3) \
    /* unary: dst a */ \
    X(I32_EQZ, 2) X(I64_EQZ, 2) \
    X(I32_CLZ, 2) X(I32_CTZ, 2) X(I32_POPCNT, 2) \
    X(I64_CLZ, 2) X(I64_CTZ, 2) X(I64_POPCNT, 2) \
    X(F32_ABS, 2) X(F32_NEG, 2) X(F32_CEIL, 2) X(F32_FLOOR, 2) X(F32_TRUNC, 2) \
    X(F32_NEAREST, 2) X(F32_SQRT, 2) \
    X(F64_ABS, 2) X(F64_NEG, 2) X(F64_CEIL, 2) X(F64_FLOOR, 2) X(F64_TRUNC, 2) \
    X(F64_NEAREST, 2) X(F64_SQRT, 2) \
    X(I32_WRAP_I64, 2) \
    X(I32_TRUNC_F32_S, 2) X(I32_TRUNC_F32_U, 2) X(I32_TRUNC_F64_S, 2) X(I32_TRUNC_F64_U, 2) \
    X(I64_EXTEND_I32_S, 2) X(I64_EXTEND_I32_U, 2) \
    X(I64_TRUNC_F32_S, 2) X(I64_TRUNC_F32_U, 2) X(I64_TRUNC_F64_S, 2) X(I64_TRUNC_F64_U, 2) \
    X(F32_CONVERT_I32_S, 2) X(F32_CONVERT_I32_U, 2) X(F32_CONVERT_I64_S, 2) \
    X(F32_CONVERT_I64_U, 2) X(F32_DEMOTE_F64, 2) \
    X(F64_CONVERT_I32_S, 2) X(F64_CONVERT_I32_U, 2) X(F64_CONVERT_I64_S, 2) \
    X(F64_CONVERT_I64_U, 2) X(F64_PROMOTE_F32, 2) \
    X(I32_EXTEND8_S, 2) X(I32_EXTEND16_S, 2) \
    X(I64_EXTEND8_S, 2) X(I64_EXTEND16_S, 2) X(I64_EXTEND32_S, 2) \
    X(I32_TRUNC_SAT_F32_S, 2) X(I32_TRUNC_SAT_F32_U, 2) X(I32_TRUNC_SAT_F64_S, 2) \
    X(I32_TRUNC_SAT_F64_U, 2) X(I64_TRUNC_SAT_F32_S, 2) X(I64_TRUNC_SAT_F32_U, 2) \
    X(I64_TRUNC_SAT_F64_S, 2) X(I64_TRUNC_SAT_F64_U, 2) \
    X(REF_IS_NULL, 2) \
    X(REF_FUNC, 2)    /* dst func index */ \
    /* binary: dst a b */ \
    X(I32_EQ, 3) X(I32_NE, 3) X(I32_LT_S, 3) X(I32_LT_U, 3) X(I32_GT_S, 3) \
    X(I32_GT_U, 3) X(I32_LE_S, 3) X(I32_LE_U, 3) X(I32_GE_S, 3) X(I32_GE_U, 3) \
    X(I64_EQ, 3) X(I64_NE, 3) X(I64_LT_S, 3) X(I64_LT_U, 3) X(I64_GT_S, 3) \
    X(I64_GT_U, 3) X(I64_LE_S, 3) X(I64_LE_U, 3) X(I64_GE_S, 3) X(I64_GE_U, 3) \
    X(F32_EQ, 3) X(F32_NE, 3) X(F32_LT, 3) X(F32_GT, 3) X(F32_LE, 3) X(F32_GE, 3) \
    X(F64_EQ, 3) X(F64_NE, 3) X(F64_LT, 3) X(F64_GT, 3) X(F64_LE, 3) X(F64_GE, 3) \
    X(I32_ADD, 3) X(I32_SUB, 3) X(I32_MUL, 3) X(I32_DIV_S, 3) X(I32_DIV_U, 3) \
    X(I32_REM_S, 3) X(I32_REM_U, 3) X(I32_AND, 3) X(I32_OR, 3) X(I32_XOR, 3) \
    X(I32_SHL, 3) X(I32_SHR_S, 3) X(I32_SHR_U, 3) X(I32_ROTL, 3) X(I32_ROTR, 3) \
    X(I64_ADD, 3) X(I64_SUB, 3) X(I64_MUL, 3) X(I64_DIV_S, 3) X(I64_DIV_U, 3) \
    X(I64_REM_S, 3) X(I64_REM_U, 3) X(I64_AND, 3) X(I64_OR, 3) X(I64_XOR, 3) \
    X(I64_SHL, 3) X(I64_SHR_S, 3) X(I64_SHR_U, 3) X(I64_ROTL, 3) X(I64_ROTR, 3) \
    X(F32_ADD, 3) X(F32_SUB, 3) X(F32_MUL, 3) X(F32_DIV, 3) X(F32_MIN, 3) \
    X(F32_MAX, 3) X(F32_COPYSIGN, 3) \
    X(F64_ADD, 3) X(F64_SUB, 3) X(F64_MUL, 3) X(F64_DIV, 3) X(F64_MIN, 3) \
    X(F64_MAX, 3) X(F64_COPYSIGN, 3) \
    /* binary with an immediate: dst a imm (i64 forms: imm sign-extended) */ \
    X(I32_ADD_IMM, 3) X(I32_SUB_IMM, 3) X(I32_MUL_IMM, 3) X(I32_AND_IMM, 3) \
    X(I32_OR_IMM, 3) X(I32_XOR_IMM, 3) X(I32_SHL_IMM, 3) X(I32_SHR_S_IMM, 3) \
    X(I32_SHR_U_IMM, 3) \
    X(I32_EQ_IMM, 3) X(I32_NE_IMM, 3) X(I32_LT_S_IMM, 3) X(I32_LT_U_IMM, 3) \
    X(I32_GT_S_IMM, 3) X(I32_GT_U_IMM, 3) X(I32_LE_S_IMM, 3) X(I32_LE_U_IMM, 3) \
    X(I32_GE_S_IMM, 3) X(I32_GE_U_IMM, 3) \
    X(I64_ADD_IMM, 3) X(I64_SUB_IMM, 3) X(I64_MUL_IMM, 3) X(I64_AND_IMM, 3) \
    X(I64_OR_IMM, 3) X(I64_XOR_IMM, 3) X(I64_SHL_IMM, 3) X(I64_SHR_S_IMM, 3) \
    X(I64_SHR_U_IMM, 3) \
    /* tables and references */ \
    X(TABLE_GET, 3)   /* dst table idx */ \
    X(TABLE_SET, 3)   /* table idx value */ \
    X(TABLE_SIZE, 2)  /* dst table */ \
    X(TABLE_GROW, 4)  /* dst table init n */ \
    X(TABLE_FILL, 4)  /* table i value n */ \
    X(TABLE_COPY, 5)  /* dst-table src-table d s n */ \
    X(TABLE_INIT, 5)  /* table elem d s n */ \
    X(ATOMIC, 6)      /* threads: subop dst addr arg1 arg2 offset (atomic_exec.h) */ \
    X(ELEM_DROP, 1) \
    /* superinstructions for compiler-generated code */ \
    X(I32_ROTL_IMM, 3) X(I32_ROTR_IMM, 3) X(I64_ROTL_IMM, 3) X(I64_ROTR_IMM, 3) \
    X(F64_ADD_IMM, 4) X(F64_SUB_IMM, 4) X(F64_MUL_IMM, 4) X(F64_DIV_IMM, 4) /* dst a lo hi */ \
    /* f64/i32.load whose address is an i32.add of a constant: dst a imm offset,
     * effective address (u32)(a + imm) + offset */ \
    X(F64_LOAD_AI, 4) X(I32_LOAD_AI, 4) \
    /* f64 op whose second operand is an f64.load: dst a addr imm offset, the
     * load's address computed as in F64_LOAD_AI (imm 0 when none) */ \
    X(F64_ADD_MEM, 5) X(F64_SUB_MEM, 5) X(F64_MUL_MEM, 5) X(F64_DIV_MEM, 5) \
    /* an f64 op whose result goes straight to f64.store: store-addr a b
     * store-offset, and the same for the _MEM forms: store-addr a addr imm
     * offset store-offset */ \
    X(F64_ADD_ST, 4) X(F64_SUB_ST, 4) X(F64_MUL_ST, 4) \
    /* i32.xor with a rotate/shift by a constant (sha-style mixing): dst a x k,
     * dst = a ^ rotl(x, k) / a ^ (x >> k) */ \
    X(I32_XOR_ROTL_IMM, 4) X(I32_XOR_SHR_U_IMM, 4) \
    X(F64_ADD_MEM_ST, 6) X(F64_SUB_MEM_ST, 6) X(F64_MUL_MEM_ST, 6) \
    INTERP_SIMD_OPS(X)

enum interp_op {
#define INTERP_OP_ENUM(name, n) INTERP_OP_##name,
    INTERP_OPS(INTERP_OP_ENUM)
#undef INTERP_OP_ENUM
    INTERP_OP_COUNT
};

/* Units an instruction's handler address takes in the stream. */
#define INTERP_HANDLER_UNITS (sizeof(void *) / sizeof(uint32_t))

/* One compiled function. */
struct interp_func {
    struct interp_module *imodule;
    uint32_t func_index;     /* in the module's function index space */
    uint32_t param_cells;
    uint32_t result_cells;
    uint32_t local_cells;    /* params + declared locals */
    uint32_t frame_cells;    /* locals + max stack height + a call record */
    uint32_t *code;          /* owned; NULL until compiled */
    uint32_t code_units;
};

struct interp_module {
    const struct wasm_module *module;
    struct interp_func *funcs;   /* one per defined function */
    uint32_t func_count;
    const void *const *handlers; /* handler address per enum interp_op */
};

/* Handler addresses of the dispatch loop, indexed by enum interp_op. The
 * table is a constant of the exec function; never freed. */
const void *const *interp_handler_table(void);

/* The tier's entry point (runtime_invoke_fn): runs func (an interp function
 * of func->instance) with arguments and results in cells. */
int interp_invoke(struct runtime_exec *exec, struct runtime_instance *caller,
                  struct runtime_func *func, uint64_t *cells);

/* Compiles one function body into f->code. Returns 0 or an FL_ERR_* code. */
int interp_compile_func(struct interp_module *imodule, struct interp_func *f,
                        struct fl_error *err);

/* Checks f's code structurally (known handlers, branches landing on
 * instruction starts). For tests and debugging; 0 or FL_ERR_INTERNAL. */
int interp_func_verify(const struct interp_func *f, struct fl_error *err);

/* Prints f's code, one instruction a line, for debugging. */
void interp_func_dump(const struct interp_func *f, FILE *out);

#endif
