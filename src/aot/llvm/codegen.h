/* codegen.h: state shared by the code generator's files (codegen.c: module,
 * functions, control flow, calls, memory; codegen_ops.c: numeric
 * instructions). One struct cg translates one module into one LLVM module. */
#ifndef FL_AOT_CODEGEN_H
#define FL_AOT_CODEGEN_H

#include <llvm-c/Core.h>
#include <stdbool.h>
#include <stdint.h>

#include "aot/aot_internal.h"
#include "wasm/wasm.h"

/* A block type resolved to its params and results. */
struct cg_bt {
    uint32_t np, nr;
    const uint8_t *p, *r;
};

enum cg_frame_kind { CG_BLOCK, CG_LOOP, CG_IF, CG_FUNC };

struct cg_frame {
    uint8_t kind;
    bool dead;              /* rest of this frame is unreachable until else/end */
    bool has_else;
    uint32_t height;        /* operand stack height below the params */
    uint32_t end_preds;     /* edges into end */
    struct cg_bt bt;
    LLVMBasicBlockRef end;
    LLVMBasicBlockRef header;  /* loop */
    LLVMBasicBlockRef els;     /* if: false edge */
    LLVMValueRef *phis;        /* bt.nr result phis in end */
    LLVMValueRef *hphis;       /* loop: bt.np param phis in header */
    LLVMValueRef *ifparams;    /* if: param values for the false edge */
};

struct cg {
    LLVMContextRef ctx;
    LLVMModuleRef mod;
    LLVMBuilderRef b;
    LLVMBuilderRef pb;      /* positioned elsewhere: phis, entry-block allocas */
    const struct wasm_module *m;
    const struct aot_options *opt;
    struct fl_error *err;

    LLVMTypeRef t_void, t_i1, t_i8, t_i16, t_i32, t_i64, t_f32, t_f64, t_ptr;
    LLVMTypeRef t_v128;     /* <2 x i64>: v128 on the operand stack, in locals and signatures */
    LLVMTypeRef t_invoke;   /* runtime_invoke_fn */
    LLVMTypeRef *fn_types;  /* native signature per module type */
    LLVMValueRef *fns;      /* per function index; NULL for imports */
    unsigned md_invariant;
    LLVMValueRef md_empty;

    /* Current function. */
    uint32_t func_index;
    LLVMValueRef fn;
    LLVMValueRef vmctx, thread, mem_base;
    LLVMBasicBlockRef entry;
    LLVMValueRef *locals;
    uint8_t *local_types;
    uint32_t local_count;
    LLVMValueRef *stack;
    uint32_t sp, stack_cap;
    struct cg_frame *frames;
    uint32_t nframes, frames_cap;
    uint32_t dead_depth;
    LLVMBasicBlockRef trap_bb[RUNTIME_TRAP_COUNT];
    uint32_t body_offset;   /* for messages */
    const uint8_t *body_start;
    bool failed;
};

/* LLVM type of a wasm value type. */
LLVMTypeRef cg_type(struct cg *cg, uint8_t valtype);
/* Pushes/pops the operand stack. */
void cg_push(struct cg *cg, LLVMValueRef v);
LLVMValueRef cg_pop(struct cg *cg);
/* Calls an LLVM intrinsic overloaded on tys. */
LLVMValueRef cg_intrinsic(struct cg *cg, const char *name, LLVMTypeRef *tys, unsigned ntys,
                          LLVMValueRef *args, unsigned nargs);
/* Branches to a trap of kind when cond (i1) is true; continues in a new block. */
void cg_trap_if(struct cg *cg, LLVMValueRef cond, int trap);
/* Emits one numeric / conversion / comparison instruction; false if op is not one. */
bool cg_numeric(struct cg *cg, uint8_t op);
/* 0xFD (SIMD, simd.c): subop sub with its immediates read from r. */
struct wasm_reader;
void cg_simd(struct cg *cg, struct wasm_reader *r, uint32_t sub);
/* 0xFE (threads, atomic.c): subop sub with its immediates read from r. */
void cg_atomic(struct cg *cg, struct wasm_reader *r, uint32_t sub);
/* Native pointer (type t*) of a wasm access of size bytes at i32 addr + offset. */
LLVMValueRef cg_mem_address(struct cg *cg, LLVMValueRef addr, uint64_t offset, unsigned size, LLVMTypeRef t);
/* Calls helper (enum aot_helper) through vmctx->helpers. */
LLVMValueRef cg_call_helper(struct cg *cg, int helper, LLVMValueRef *args, unsigned n);
/* Same for the 0xFC saturating truncations (subops 0-7). */
bool cg_numeric_fc(struct cg *cg, uint32_t subop);
/* The compiler is a module of its own (dlopen'ed by src/aot/compiler.c so
 * processes that only run cached code never load LLVM): it uses nothing of
 * the engine's libraries, only their headers. This is its fl_error_set. */
int aotc_error(struct fl_error *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Builds the LLVM module for m in ctx; *out owned by the caller. */
int aot_codegen_module(LLVMContextRef ctx, const struct wasm_module *m, const struct aot_options *opts,
                       LLVMModuleRef *out, struct fl_error *err);

/* Puts an interrupt poll on every loop back-edge of the compiled functions
 * of an optimised module (poll.c). */
int aot_insert_polls(LLVMContextRef ctx, LLVMModuleRef mod, struct fl_error *err);

/* Initialises LLVM's native target once (emit.c); false if there is none. */
bool aot_llvm_init(void);

/* Records a codegen failure (first one wins). */
void cg_fail(struct cg *cg, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
