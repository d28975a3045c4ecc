/* poll.c: interrupt polls on loop back-edges, inserted after optimisation.
 * A poll in the IR before optimisation (a volatile load and an early exit
 * in every loop) stops LLVM from vectorising and unrolling loops; inserted
 * afterwards on every retreating edge of a depth-first walk, it costs one
 * load and a well-predicted branch per (vector) iteration and still puts a
 * check on every cycle of the control-flow graph, so no loop can run on
 * after an interrupt. */
#include <stdlib.h>
#include <string.h>

#include "aot/llvm/codegen.h"

struct block_index {
    LLVMBasicBlockRef bb;
    uint32_t index;
};

static int cmp_block(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)((const struct block_index *)a)->bb;
    uintptr_t y = (uintptr_t)((const struct block_index *)b)->bb;
    return x < y ? -1 : x > y;
}

static uint32_t find_block(const struct block_index *map, uint32_t n, LLVMBasicBlockRef bb)
{
    struct block_index key = {bb, 0};
    const struct block_index *hit = bsearch(&key, map, n, sizeof *map, cmp_block);
    return hit ? hit->index : UINT32_MAX;
}

struct edge {
    LLVMBasicBlockRef from, to;
};

/* The retreating edges of a depth-first walk from the entry block. */
static int back_edges(LLVMValueRef fn, struct edge **out, uint32_t *count)
{
    uint32_t n = LLVMCountBasicBlocks(fn);
    LLVMBasicBlockRef *blocks = malloc(n * sizeof *blocks);
    struct block_index *map = malloc(n * sizeof *map);
    uint8_t *state = calloc(n, 1); /* 0 new, 1 on the walk's stack, 2 done */
    uint32_t *stack = malloc(n * sizeof *stack), *next = calloc(n, sizeof *next);
    struct edge *edges = NULL;
    uint32_t nedges = 0, cap = 0;
    int rc = FL_OK;
    if (!blocks || !map || !state || !stack || !next) {
        rc = FL_ERR_NOMEM;
        goto out;
    }
    LLVMGetBasicBlocks(fn, blocks);
    for (uint32_t i = 0; i < n; i++)
        map[i] = (struct block_index){blocks[i], i};
    qsort(map, n, sizeof *map, cmp_block);
    uint32_t sp = 0;
    stack[sp++] = 0;
    state[0] = 1;
    while (sp) {
        uint32_t b = stack[sp - 1];
        LLVMValueRef term = LLVMGetBasicBlockTerminator(blocks[b]);
        uint32_t nsucc = term ? LLVMGetNumSuccessors(term) : 0;
        if (next[b] == nsucc) {
            state[b] = 2;
            sp--;
            continue;
        }
        LLVMBasicBlockRef succ = LLVMGetSuccessor(term, next[b]++);
        uint32_t s = find_block(map, n, succ);
        if (s == UINT32_MAX)
            continue;
        if (state[s] == 0) {
            state[s] = 1;
            stack[sp++] = s;
        } else if (state[s] == 1) {
            if (nedges == cap) {
                cap = cap ? cap * 2 : 16;
                struct edge *e = realloc(edges, cap * sizeof *e);
                if (!e) {
                    rc = FL_ERR_NOMEM;
                    goto out;
                }
                edges = e;
            }
            /* A block may reach the same header twice (switch cases). */
            bool dup = false;
            for (uint32_t k = 0; k < nedges && !dup; k++)
                dup = edges[k].from == blocks[b] && edges[k].to == succ;
            if (!dup)
                edges[nedges++] = (struct edge){blocks[b], succ};
        }
    }
out:
    free(blocks);
    free(map);
    free(state);
    free(stack);
    free(next);
    if (rc) {
        free(edges);
        return rc;
    }
    *out = edges;
    *count = nedges;
    return FL_OK;
}

/* Replaces every phi of `to` so that its entries from `old_pred` come from
 * `new_pred`, once (new_pred reaches `to` by a single edge). */
static void retarget_phis(struct cg *cg, LLVMBasicBlockRef to, LLVMBasicBlockRef old_pred,
                          LLVMBasicBlockRef new_pred)
{
    LLVMValueRef inst = LLVMGetFirstInstruction(to);
    while (inst && LLVMIsAPHINode(inst)) {
        LLVMValueRef following = LLVMGetNextInstruction(inst);
        LLVMPositionBuilderBefore(cg->pb, inst);
        LLVMValueRef phi = LLVMBuildPhi(cg->pb, LLVMTypeOf(inst), "");
        bool added = false;
        unsigned n = LLVMCountIncoming(inst);
        for (unsigned i = 0; i < n; i++) {
            LLVMValueRef v = LLVMGetIncomingValue(inst, i);
            LLVMBasicBlockRef bb = LLVMGetIncomingBlock(inst, i);
            if (bb == old_pred) {
                if (added)
                    continue;
                bb = new_pred;
                added = true;
            }
            LLVMAddIncoming(phi, &v, &bb, 1);
        }
        LLVMReplaceAllUsesWith(inst, phi);
        LLVMInstructionEraseFromParent(inst);
        inst = following;
    }
}

static LLVMValueRef field(struct cg *cg, LLVMValueRef base, uint64_t offset, LLVMTypeRef t, bool invariant)
{
    LLVMValueRef idx = LLVMConstInt(cg->t_i64, offset, 0);
    LLVMValueRef p = LLVMBuildGEP2(cg->b, cg->t_i8, base, &idx, 1, "");
    p = LLVMBuildBitCast(cg->b, p, LLVMPointerType(t, 0), "");
    LLVMValueRef v = LLVMBuildLoad2(cg->b, t, p, "");
    if (invariant)
        LLVMSetMetadata(v, cg->md_invariant, cg->md_empty);
    return v;
}

static int poll_function(struct cg *cg, LLVMValueRef fn)
{
    struct edge *edges = NULL;
    uint32_t n = 0;
    int rc = back_edges(fn, &edges, &n);
    if (rc || n == 0)
        return rc;
    LLVMValueRef vmctx = LLVMGetParam(fn, 0), thread = LLVMGetParam(fn, 1);
    /* One shared trap block per function. */
    LLVMBasicBlockRef trap = LLVMAppendBasicBlockInContext(cg->ctx, fn, "interrupted");
    LLVMPositionBuilderAtEnd(cg->b, trap);
    LLVMValueRef helpers = field(cg, vmctx, offsetof(struct aot_vmctx, helpers), cg->t_ptr, true);
    LLVMValueRef trap_fn = field(cg, helpers, AOT_HELPER_TRAP * sizeof(void *), cg->t_ptr, true);
    LLVMTypeRef trap_t = LLVMFunctionType(cg->t_void, (LLVMTypeRef[]){cg->t_ptr, cg->t_ptr, cg->t_i32, cg->t_i32},
                                          4, 0);
    trap_fn = LLVMBuildBitCast(cg->b, trap_fn, LLVMPointerType(trap_t, 0), "");
    /* f<N> and entry<N>: N is the wasm function (loops inlined from
     * elsewhere are blamed on it too). */
    size_t len;
    const char *name = LLVMGetValueName2(fn, &len);
    const char *digits = name + len;
    while (digits > name && digits[-1] >= '0' && digits[-1] <= '9')
        digits--;
    uint32_t func = digits < name + len ? (uint32_t)strtoul(digits, NULL, 10) : UINT32_MAX;
    LLVMValueRef args[4] = {vmctx, thread, LLVMConstInt(cg->t_i32, RUNTIME_TRAP_INTERRUPTED, 0),
                            LLVMConstInt(cg->t_i32, func, 0)};
    LLVMValueRef call = LLVMBuildCall2(cg->b, trap_t, trap_fn, args, 4, "");
    LLVMAddCallSiteAttribute(call, LLVMAttributeFunctionIndex,
                             LLVMCreateEnumAttribute(cg->ctx, LLVMGetEnumAttributeKindForName("noreturn", 8), 0));
    LLVMBuildUnreachable(cg->b);

    for (uint32_t i = 0; i < n; i++) {
        LLVMBasicBlockRef poll = LLVMAppendBasicBlockInContext(cg->ctx, fn, "poll");
        LLVMPositionBuilderAtEnd(cg->b, poll);
        LLVMValueRef flag_ptr = field(cg, thread, offsetof(struct aot_thread, interrupt), cg->t_ptr, true);
        flag_ptr = LLVMBuildBitCast(cg->b, flag_ptr, LLVMPointerType(cg->t_i32, 0), "");
        LLVMValueRef flag = LLVMBuildLoad2(cg->b, cg->t_i32, flag_ptr, "");
        LLVMSetVolatile(flag, 1);
        LLVMSetAlignment(flag, 4);
        LLVMValueRef set = LLVMBuildICmp(cg->b, LLVMIntNE, flag, LLVMConstInt(cg->t_i32, 0, 0), "");
        LLVMBuildCondBr(cg->b, set, trap, edges[i].to);
        LLVMValueRef term = LLVMGetBasicBlockTerminator(edges[i].from);
        unsigned nsucc = LLVMGetNumSuccessors(term);
        for (unsigned s = 0; s < nsucc; s++)
            if (LLVMGetSuccessor(term, s) == edges[i].to)
                LLVMSetSuccessor(term, s, poll);
        retarget_phis(cg, edges[i].to, edges[i].from, poll);
    }
    free(edges);
    return FL_OK;
}

int aot_insert_polls(LLVMContextRef ctx, LLVMModuleRef mod, struct fl_error *err)
{
    struct cg cg;
    memset(&cg, 0, sizeof cg);
    cg.ctx = ctx;
    cg.mod = mod;
    cg.b = LLVMCreateBuilderInContext(ctx);
    cg.pb = LLVMCreateBuilderInContext(ctx);
    cg.t_void = LLVMVoidTypeInContext(ctx);
    cg.t_i8 = LLVMInt8TypeInContext(ctx);
    cg.t_i32 = LLVMInt32TypeInContext(ctx);
    cg.t_i64 = LLVMInt64TypeInContext(ctx);
    cg.t_ptr = LLVMPointerType(cg.t_i8, 0);
    cg.md_invariant = LLVMGetMDKindIDInContext(ctx, "invariant.load", 14);
    cg.md_empty = LLVMMetadataAsValue(ctx, LLVMMDNodeInContext2(ctx, NULL, 0));
    int rc = FL_OK;
    for (LLVMValueRef fn = LLVMGetFirstFunction(mod); fn && !rc; fn = LLVMGetNextFunction(fn)) {
        /* Every definition is a compiled function f<N>(vmctx, thread, ...) or
         * an entry trampoline entry<N>(vmctx, thread, cells), into which
         * LLVM may have inlined loops. */
        if (LLVMIsDeclaration(fn) || LLVMCountParams(fn) < 2)
            continue;
        rc = poll_function(&cg, fn);
    }
    LLVMDisposeBuilder(cg.b);
    LLVMDisposeBuilder(cg.pb);
    if (rc)
        return aotc_error(err, rc, "aot: out of memory inserting interrupt polls");
    return FL_OK;
}
