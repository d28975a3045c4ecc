/* compile.c: compiles validated wasm function bodies into the interpreter's
 * internal code (interp_internal.h). Every operand-stack position gets a fixed
 * frame slot; the compile-time stack also tracks values that still live in a
 * local or are constants, so `local.get a; local.get b; i32.add; local.set c`
 * becomes one `i32.add c, a, b`, constants fold into immediate forms, and a
 * compare feeding br_if/if becomes one compare-and-branch. */
#include <stdlib.h>
#include <string.h>

#include "interp/interp_internal.h"
#include "wasm/opcodes.h"
#include "wasm/reader.h"

#define NONE UINT32_MAX

enum entry_kind { ENTRY_SLOT, ENTRY_LOCAL, ENTRY_CONST };

/* A compile-time operand: where the value at this stack height is now. */
struct entry {
    uint8_t kind;
    bool wide;       /* CONST: 64-bit payload */
    uint32_t local;  /* LOCAL: its slot */
    uint64_t value;  /* CONST */
    bool vhi;        /* the high cell of a v128 (its low cell is the entry below) */
};

enum frame_kind { FRAME_FUNC, FRAME_BLOCK, FRAME_LOOP, FRAME_IF };

struct frame {
    uint8_t kind;
    bool unreachable;
    bool has_else;
    uint32_t height;       /* stack height below the block's params */
    uint32_t nparams, nresults;
    uint32_t loop_pos;     /* LOOP: start of its code */
    uint32_t else_pos;     /* IF: offset operand of the false branch, or NONE */
    uint32_t else_instr;
    uint32_t fixups;       /* head of the list of forward branches to patch at end */
    const uint8_t *ptypes, *rtypes; /* param/result value types, to mark v128s */
    uint32_t npv, nrv;     /* their counts (nparams/nresults count cells) */
};

/* A branch offset to patch: code[pos] = target - instr. */
struct fixup {
    uint32_t pos, instr, next;
};

struct comp {
    const struct wasm_module *m;
    const struct interp_module *im;
    struct interp_func *f;
    struct fl_error *err;
    struct wasm_reader r;
    uint32_t L;            /* local cells */
    const struct wasm_functype *ft;
    const struct wasm_func *wf;
    uint32_t nlocals;      /* wasm locals (params included) */
    uint32_t *local_cell;  /* wasm local -> its first cell; NULL when the same (no v128) */

    uint32_t *code;
    size_t len, cap;
    struct entry *st;
    uint32_t sh, scap, max_h;
    struct frame *fr;
    uint32_t nfr, frcap;
    struct fixup *fx;
    uint32_t nfx, fxcap;

    /* The last emitted instruction, while nothing (label, other code) came
     * after it: lets local.set retarget its destination and br_if fuse it. */
    size_t last_start;     /* NONE-like SIZE_MAX when invalid */
    int last_op;
    uint32_t last_dst_h;   /* stack height whose slot it wrote, or NONE */
    size_t last_dst_pos;
    bool failed;
};

#define NO_LAST SIZE_MAX

static int fail(struct comp *c, int code, const char *what)
{
    if (!c->failed)
        fl_error_set(c->err, code, "interp: function %u: %s at offset 0x%zx", c->f->func_index,
                     what, wasm_reader_offset(&c->r));
    c->failed = true;
    return code;
}

static bool grow(void **p, uint32_t *cap, uint32_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    uint32_t n = *cap ? *cap : 16;
    while (n < need) {
        if (n > UINT32_MAX / 2)
            return false;
        n *= 2;
    }
    void *q = realloc(*p, (size_t)n * elem);
    if (!q)
        return false;
    *p = q;
    *cap = n;
    return true;
}

/* ---- code emission ---- */

static void emit_u(struct comp *c, uint32_t v)
{
    if (c->len == c->cap) {
        size_t n = c->cap ? c->cap * 2 : 256;
        if (n > (size_t)INT32_MAX) {
            fail(c, FL_ERR_LIMIT, "function too large for the interpreter");
            return;
        }
        uint32_t *q = realloc(c->code, n * sizeof *q);
        if (!q) {
            fail(c, FL_ERR_NOMEM, "out of memory");
            return;
        }
        c->code = q;
        c->cap = n;
    }
    if (!c->failed)
        c->code[c->len++] = v;
}

/* Starts instruction op; returns its start position. */
static size_t emit_op(struct comp *c, int op)
{
    size_t start = c->len;
    const void *h = c->im->handlers[op];
    uint32_t units[INTERP_HANDLER_UNITS];
    memcpy(units, &h, sizeof h);
    for (size_t i = 0; i < INTERP_HANDLER_UNITS; i++)
        emit_u(c, units[i]);
    c->last_start = start;
    c->last_op = op;
    c->last_dst_h = NONE;
    return start;
}

/* Marks the dst operand just emitted as writing the slot of height h. */
static void mark_dst(struct comp *c, uint32_t h)
{
    c->last_dst_h = h;
    c->last_dst_pos = c->len - 1;
}

/* A label or control point: nothing before it may be rewritten. */
static void barrier(struct comp *c)
{
    c->last_start = NO_LAST;
    c->last_dst_h = NONE;
}

static uint32_t slot_of_h(const struct comp *c, uint32_t h)
{
    return c->L + h;
}

static void emit_const_to(struct comp *c, uint32_t dst, const struct entry *e)
{
    if (e->wide && (e->value >> 32) != 0) {
        emit_op(c, INTERP_OP_CONST64);
        emit_u(c, dst);
        emit_u(c, (uint32_t)e->value);
        emit_u(c, (uint32_t)(e->value >> 32));
    } else {
        emit_op(c, INTERP_OP_CONST32);
        emit_u(c, dst);
        emit_u(c, (uint32_t)e->value);
    }
}

static void emit_mov(struct comp *c, uint32_t dst, uint32_t src)
{
    if (dst == src)
        return;
    emit_op(c, INTERP_OP_MOV);
    emit_u(c, dst);
    emit_u(c, src);
}

/* ---- compile-time stack ---- */

static struct entry *push_entry(struct comp *c)
{
    if (!grow((void **)&c->st, &c->scap, c->sh + 1, sizeof *c->st)) {
        fail(c, FL_ERR_NOMEM, "out of memory");
        return NULL;
    }
    struct entry *e = &c->st[c->sh++];
    memset(e, 0, sizeof *e);
    if (c->sh > c->max_h)
        c->max_h = c->sh;
    return e;
}

/* Pushes a value computed into its own slot; returns that slot. */
static uint32_t push_slot(struct comp *c)
{
    struct entry *e = push_entry(c);
    if (e)
        e->kind = ENTRY_SLOT;
    return slot_of_h(c, c->sh - 1);
}

static void push_const(struct comp *c, uint64_t v, bool wide)
{
    struct entry *e = push_entry(c);
    if (e) {
        e->kind = ENTRY_CONST;
        e->value = v;
        e->wide = wide;
    }
}

/* Cells n values of these types take. */
static uint32_t cells_of(const uint8_t *types, uint32_t n)
{
    uint32_t cells = 0;
    for (uint32_t i = 0; i < n; i++)
        cells += wasm_valtype_cells(types[i]);
    return cells;
}

/* Marks which entries from height h on are v128 high cells, for n values. */
static void mark_v128(struct comp *c, uint32_t h, const uint8_t *types, uint32_t n)
{
    for (uint32_t i = 0; i < n && !c->failed && h < c->sh; i++) {
        c->st[h++].vhi = false;
        if (types[i] == WASM_TYPE_V128 && h < c->sh)
            c->st[h++].vhi = true;
    }
}

/* Type of wasm local x (validated: x < nlocals); *cell gets its first cell. */
static uint8_t local_info(const struct comp *c, uint32_t x, uint32_t *cell)
{
    *cell = c->local_cell ? c->local_cell[x] : x;
    uint32_t np = c->ft->param_count;
    return x < np ? c->ft->types[x] : c->wf->local_types[x - np];
}

static bool can_pop(struct comp *c, uint32_t n)
{
    uint32_t floor = c->nfr ? c->fr[c->nfr - 1].height : 0;
    if (c->sh < n || c->sh - n < floor) {
        fail(c, FL_ERR_INVALID, "operand stack underflow");
        return false;
    }
    return true;
}

/* Puts entry h into its own slot (emitting a copy if it lives elsewhere). */
static void materialize(struct comp *c, uint32_t h)
{
    struct entry *e = &c->st[h];
    if (e->kind == ENTRY_LOCAL)
        emit_mov(c, slot_of_h(c, h), e->local);
    else if (e->kind == ENTRY_CONST)
        emit_const_to(c, slot_of_h(c, h), e);
    else
        return;
    e->kind = ENTRY_SLOT;
    mark_dst(c, h);
}

/* The slot an operand at height h can be read from. */
static uint32_t read_slot(struct comp *c, uint32_t h)
{
    struct entry *e = &c->st[h];
    if (e->kind == ENTRY_CONST)
        materialize(c, h);
    if (e->kind == ENTRY_LOCAL)
        return e->local;
    return slot_of_h(c, h);
}

/* Before a control boundary: no lazy local may cross it (the block could
 * write that local), and the top n values must sit in their slots. */
static void settle(struct comp *c, uint32_t top_n)
{
    for (uint32_t h = 0; h < c->sh; h++)
        if (c->st[h].kind == ENTRY_LOCAL || h >= c->sh - top_n)
            materialize(c, h);
}

/* ---- immediates ---- */

static uint32_t rd_u32(struct comp *c)
{
    uint32_t v = 0;
    if (!wasm_read_u32(&c->r, &v))
        fail(c, FL_ERR_MALFORMED, wasm_read_status_text(c->r.status));
    return v;
}

static uint8_t rd_u8(struct comp *c)
{
    uint8_t v = 0;
    if (!wasm_read_u8(&c->r, &v))
        fail(c, FL_ERR_MALFORMED, wasm_read_status_text(c->r.status));
    return v;
}

/* A block type: params and results in cells, and their value types. */
struct blocktype {
    uint32_t np, nr;
    const uint8_t *pt, *rt;
    uint32_t npv, nrv;
};

static bool rd_blocktype(struct comp *c, struct blocktype *bt)
{
    static const uint8_t singles[] = {WASM_TYPE_I32, WASM_TYPE_I64, WASM_TYPE_F32,
                                      WASM_TYPE_F64, WASM_TYPE_V128, WASM_TYPE_FUNCREF,
                                      WASM_TYPE_EXTERNREF};
    int64_t v = 0;
    memset(bt, 0, sizeof *bt);
    bt->pt = bt->rt = singles;
    if (!wasm_read_s33(&c->r, &v)) {
        fail(c, FL_ERR_MALFORMED, wasm_read_status_text(c->r.status));
        return false;
    }
    if (v == -64)
        return true;
    if (v < 0) {
        uint8_t t = (uint8_t)(v & 0x7F);
        for (size_t i = 0; i < sizeof singles; i++)
            if (singles[i] == t)
                bt->rt = &singles[i];
        bt->nrv = 1;
        bt->nr = wasm_valtype_cells(t);
        return true;
    }
    if ((uint64_t)v >= c->m->type_count) {
        fail(c, FL_ERR_INVALID, "unknown block type");
        return false;
    }
    const struct wasm_functype *t = &c->m->types[v];
    bt->pt = t->types;
    bt->npv = t->param_count;
    bt->rt = t->types + t->param_count;
    bt->nrv = t->result_count;
    bt->np = cells_of(bt->pt, bt->npv);
    bt->nr = cells_of(bt->rt, bt->nrv);
    return true;
}

/* ---- branches ---- */

static void add_fixup(struct comp *c, struct frame *fr, uint32_t pos, uint32_t instr)
{
    if (!grow((void **)&c->fx, &c->fxcap, c->nfx + 1, sizeof *c->fx)) {
        fail(c, FL_ERR_NOMEM, "out of memory");
        return;
    }
    c->fx[c->nfx] = (struct fixup){pos, instr, fr->fixups};
    fr->fixups = c->nfx++;
}

/* Emits the branch offset operand of the instruction at instr, to frame fr's
 * label (loop start, or patched at the frame's end). */
static void emit_target(struct comp *c, struct frame *fr, size_t instr)
{
    if (fr->kind == FRAME_LOOP) {
        emit_u(c, (uint32_t)(int32_t)((int64_t)fr->loop_pos - (int64_t)instr));
    } else {
        add_fixup(c, fr, (uint32_t)c->len, (uint32_t)instr);
        emit_u(c, 0);
    }
}

static uint32_t label_arity(const struct frame *fr)
{
    return fr->kind == FRAME_LOOP ? fr->nparams : fr->nresults;
}

/* Does branching to fr need value moves? */
static bool needs_moves(struct comp *c, const struct frame *fr)
{
    if (fr->kind == FRAME_FUNC)
        return true;
    uint32_t n = label_arity(fr);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t h = c->sh - n + i;
        if (c->st[h].kind != ENTRY_SLOT || h != fr->height + i)
            return true;
    }
    return false;
}

/* Emits the moves of the top label values to fr's slots (or, for the
 * function frame, slots 0.. followed by the return). Leaves the compile-time
 * stack unchanged: this code may run on one path only. */
static void emit_moves_and_jump(struct comp *c, struct frame *fr)
{
    uint32_t n = label_arity(fr);
    uint32_t dst0 = fr->kind == FRAME_FUNC ? 0 : slot_of_h(c, fr->height);
    uint32_t src_h0 = c->sh - n;
    /* Destinations below the locals' end could overwrite a local another
     * result still reads; copy such locals to their own slots first. */
    if (dst0 < c->L)
        for (uint32_t i = 0; i < n; i++) {
            struct entry *e = &c->st[src_h0 + i];
            if (e->kind == ENTRY_LOCAL && e->local != dst0 + i)
                emit_mov(c, slot_of_h(c, src_h0 + i), e->local);
        }
    for (uint32_t i = 0; i < n; i++) {
        struct entry *e = &c->st[src_h0 + i];
        uint32_t dst = dst0 + i;
        if (e->kind == ENTRY_SLOT)
            emit_mov(c, dst, slot_of_h(c, src_h0 + i));
        else if (e->kind == ENTRY_LOCAL)
            emit_mov(c, dst, dst0 < c->L && e->local != dst ? slot_of_h(c, src_h0 + i) : e->local);
    }
    /* Constants last: their destinations are not read by any move. */
    for (uint32_t i = 0; i < n; i++) {
        struct entry *e = &c->st[src_h0 + i];
        if (e->kind == ENTRY_CONST)
            emit_const_to(c, dst0 + i, e);
    }
    if (fr->kind == FRAME_FUNC) {
        emit_op(c, INTERP_OP_RET);
        emit_u(c, n);
    } else {
        size_t at = emit_op(c, INTERP_OP_BR);
        emit_target(c, fr, at);
    }
    barrier(c);
}

/* The conditional-branch form of the last instruction, if it is a compare
 * whose result is the top of the stack: fused op (inverted or not) and its
 * two operands. */
static int fusable_compare(struct comp *c, bool invert, uint32_t *a, uint32_t *b, bool *has_b)
{
    if (c->last_start == NO_LAST || c->last_dst_h != c->sh - 1 ||
        c->st[c->sh - 1].kind != ENTRY_SLOT)
        return -1;
    static const struct {
        int op, br, inv;
    } map[] = {
#define M(X, Y) {INTERP_OP_I32_##X, INTERP_OP_BR_I32_##X, INTERP_OP_BR_I32_##Y}
        M(EQ, NE), M(NE, EQ), M(LT_S, GE_S), M(LT_U, GE_U), M(GT_S, LE_S), M(GT_U, LE_U),
        M(LE_S, GT_S), M(LE_U, GT_U), M(GE_S, LT_S), M(GE_U, LT_U),
        M(EQ_IMM, NE_IMM), M(NE_IMM, EQ_IMM), M(LT_S_IMM, GE_S_IMM), M(LT_U_IMM, GE_U_IMM),
        M(GT_S_IMM, LE_S_IMM), M(GT_U_IMM, LE_U_IMM), M(LE_S_IMM, GT_S_IMM),
        M(LE_U_IMM, GT_U_IMM), M(GE_S_IMM, LT_S_IMM), M(GE_U_IMM, LT_U_IMM),
#undef M
#define M(X, Y) {INTERP_OP_I64_##X, INTERP_OP_BR_I64_##X, INTERP_OP_BR_I64_##Y}
        M(EQ, NE), M(NE, EQ), M(LT_S, GE_S), M(LT_U, GE_U), M(GT_S, LE_S), M(GT_U, LE_U),
        M(LE_S, GT_S), M(LE_U, GT_U), M(GE_S, LT_S), M(GE_U, LT_U),
#undef M
        {INTERP_OP_I32_EQZ, INTERP_OP_BR_Z, INTERP_OP_BR_NZ},
        {INTERP_OP_I64_EQZ, INTERP_OP_BR_Z64, INTERP_OP_BR_NZ64},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (map[i].op != c->last_op)
            continue;
        const uint32_t *ops = c->code + c->last_start + INTERP_HANDLER_UNITS;
        *a = ops[1];
        *has_b = map[i].op != INTERP_OP_I32_EQZ && map[i].op != INTERP_OP_I64_EQZ;
        *b = *has_b ? ops[2] : 0;
        c->len = c->last_start; /* drop the compare: the branch does it */
        barrier(c);
        return invert ? map[i].inv : map[i].br;
    }
    return -1;
}

/* A conditional branch being compiled: op and its condition operands. */
struct cond {
    int op;
    uint32_t a, b;
    bool has_b; /* b is an operand (slot or immediate; any value) */
};

/* Pops the condition: fuses the compare that produced it when possible,
 * else branches on its slot. invert: branch when the condition is false. */
static void prepare_cond(struct comp *c, bool invert, struct cond *k)
{
    k->op = fusable_compare(c, invert, &k->a, &k->b, &k->has_b);
    c->sh--;
    if (k->op < 0) {
        k->a = read_slot(c, c->sh);
        k->has_b = false;
        k->op = invert ? INTERP_OP_BR_Z : INTERP_OP_BR_NZ;
    }
}

/* Emits the branch of k, all but its offset operand; returns its start. */
static size_t emit_cond(struct comp *c, const struct cond *k)
{
    size_t at = emit_op(c, k->op);
    emit_u(c, k->a);
    if (k->has_b)
        emit_u(c, k->b);
    return at;
}

/* Patches every forward branch to fr to land at the current position. */
static void patch_fixups(struct comp *c, uint32_t head)
{
    for (uint32_t i = head; i != NONE; i = c->fx[i].next)
        c->code[c->fx[i].pos] = (uint32_t)(int32_t)((int64_t)c->len - (int64_t)c->fx[i].instr);
}

static struct frame *push_frame(struct comp *c, int kind, uint32_t np, uint32_t nr)
{
    if (!grow((void **)&c->fr, &c->frcap, c->nfr + 1, sizeof *c->fr)) {
        fail(c, FL_ERR_NOMEM, "out of memory");
        return NULL;
    }
    struct frame *fr = &c->fr[c->nfr++];
    memset(fr, 0, sizeof *fr);
    fr->kind = (uint8_t)kind;
    fr->height = c->sh - np;
    fr->nparams = np;
    fr->nresults = nr;
    fr->else_pos = NONE;
    fr->fixups = NONE;
    return fr;
}

/* After br/return/unreachable: drop the rest of the block's values. */
static void set_unreachable(struct comp *c)
{
    struct frame *fr = &c->fr[c->nfr - 1];
    fr->unreachable = true;
    c->sh = fr->height;
    barrier(c);
}

/* Immediate kind of an opcode (dead code is skipped, not compiled). */
static int imm_kind(uint8_t op)
{
    switch (op) {
#define IMM_CASE(name, code, imm, sig) case code: return WASM_IMM_##imm;
        WASM_OPCODES(IMM_CASE)
    default:
        return -1;
    }
}

static int imm_kind_fc(uint32_t sub)
{
    switch (sub) {
        WASM_OPCODES_FC(IMM_CASE)
#undef IMM_CASE
    default:
        return -1;
    }
}

static bool skip_kind(struct comp *c, int imm)
{
    int64_t s;
    uint32_t n;
    switch (imm) {
    case WASM_IMM_NONE:
        return true;
    case WASM_IMM_BLOCK:
        return wasm_read_s33(&c->r, &s);
    case WASM_IMM_LABEL: case WASM_IMM_FUNC: case WASM_IMM_LOCAL: case WASM_IMM_GLOBAL:
    case WASM_IMM_TABLE: case WASM_IMM_DATA: case WASM_IMM_ELEM:
        rd_u32(c);
        return !c->failed;
    case WASM_IMM_BR_TABLE:
        n = rd_u32(c);
        for (uint32_t i = 0; i <= n && !c->failed; i++)
            rd_u32(c);
        return !c->failed;
    case WASM_IMM_CALL_INDIRECT: case WASM_IMM_MEMARG: case WASM_IMM_TABLE_INIT:
    case WASM_IMM_TABLE_COPY:
        rd_u32(c);
        rd_u32(c);
        return !c->failed;
    case WASM_IMM_MEMORY: case WASM_IMM_REFTYPE:
        rd_u8(c);
        return !c->failed;
    case WASM_IMM_MEMORY_INIT:
        rd_u32(c);
        rd_u8(c);
        return !c->failed;
    case WASM_IMM_MEMORY_COPY:
        rd_u8(c);
        rd_u8(c);
        return !c->failed;
    case WASM_IMM_I32: { int32_t v; return wasm_read_i32(&c->r, &v); }
    case WASM_IMM_I64: { int64_t v; return wasm_read_i64(&c->r, &v); }
    case WASM_IMM_F32: return wasm_reader_skip(&c->r, 4);
    case WASM_IMM_F64: return wasm_reader_skip(&c->r, 8);
    case WASM_IMM_SELECT_T:
        n = rd_u32(c);
        for (uint32_t i = 0; i < n && !c->failed; i++)
            rd_u8(c);
        return !c->failed;
    default:
        return false;
    }
}

/* ---- instructions ---- */

#include "interp/compile_ops.h"

static void do_call(struct comp *c, uint32_t fi)
{
    if (fi >= c->m->func_count) {
        fail(c, FL_ERR_INVALID, "unknown function");
        return;
    }
    const struct wasm_functype *t = &c->m->types[c->m->funcs[fi].type_index];
    uint32_t pc = cells_of(t->types, t->param_count);
    uint32_t rc = cells_of(t->types + t->param_count, t->result_count);
    if (!can_pop(c, pc))
        return;
    for (uint32_t i = c->sh - pc; i < c->sh; i++)
        materialize(c, i);
    uint32_t args = slot_of_h(c, c->sh - pc);
    if (fi < c->m->import_func_count) {
        emit_op(c, INTERP_OP_CALL_IMPORT);
        emit_u(c, fi);
        emit_u(c, args);
    } else {
        emit_op(c, INTERP_OP_CALL);
        emit_u(c, fi - c->m->import_func_count);
        emit_u(c, args);
        emit_u(c, slot_of_h(c, c->sh));
        if (c->sh + INTERP_FRAME_RECORD_CELLS > c->max_h)
            c->max_h = c->sh + INTERP_FRAME_RECORD_CELLS;
    }
    barrier(c);
    c->sh -= pc;
    for (uint32_t i = 0; i < rc; i++)
        push_slot(c);
    mark_v128(c, c->sh - rc, t->types + t->param_count, t->result_count);
}

static void do_call_indirect(struct comp *c)
{
    uint32_t ti = rd_u32(c);
    uint32_t table = rd_u32(c);
    if (c->failed)
        return;
    if (ti >= c->m->type_count || table >= c->m->table_count) {
        fail(c, FL_ERR_INVALID, "unknown type or table");
        return;
    }
    const struct wasm_functype *t = &c->m->types[ti];
    uint32_t pc = cells_of(t->types, t->param_count);
    uint32_t rc = cells_of(t->types + t->param_count, t->result_count);
    if (!can_pop(c, pc + 1))
        return;
    uint32_t idx = read_slot(c, c->sh - 1);
    c->sh--;
    for (uint32_t i = c->sh - pc; i < c->sh; i++)
        materialize(c, i);
    emit_op(c, INTERP_OP_CALL_INDIRECT);
    emit_u(c, table);
    emit_u(c, ti);
    emit_u(c, idx);
    emit_u(c, slot_of_h(c, c->sh - pc));
    emit_u(c, slot_of_h(c, c->sh));
    if (c->sh + INTERP_FRAME_RECORD_CELLS > c->max_h)
        c->max_h = c->sh + INTERP_FRAME_RECORD_CELLS;
    barrier(c);
    c->sh -= pc;
    for (uint32_t i = 0; i < rc; i++)
        push_slot(c);
    mark_v128(c, c->sh - rc, t->types + t->param_count, t->result_count);
}

static struct frame *label(struct comp *c, uint32_t depth)
{
    if (depth >= c->nfr) {
        fail(c, FL_ERR_INVALID, "unknown label");
        return NULL;
    }
    return &c->fr[c->nfr - 1 - depth];
}

static void do_br_if(struct comp *c, uint32_t depth)
{
    struct frame *fr = label(c, depth);
    if (!fr || !can_pop(c, 1 + label_arity(fr)))
        return;
    struct cond k;
    if (fr->kind != FRAME_FUNC) {
        /* Decide on moves with the condition popped. */
        c->sh--;
        bool moves = needs_moves(c, fr);
        c->sh++;
        if (!moves) {
            prepare_cond(c, false, &k);
            size_t at = emit_cond(c, &k);
            emit_target(c, fr, at);
            barrier(c);
            return;
        }
    }
    /* Values must move on the taken path only: skip over the moves. */
    prepare_cond(c, true, &k);
    size_t at = emit_cond(c, &k);
    size_t pos = c->len;
    emit_u(c, 0);
    emit_moves_and_jump(c, fr);
    if (!c->failed)
        c->code[pos] = (uint32_t)(int32_t)((int64_t)c->len - (int64_t)at);
    barrier(c);
}

static void do_br_table(struct comp *c)
{
    uint32_t n = rd_u32(c);
    if (c->failed)
        return;
    if (n > wasm_reader_remaining(&c->r)) {
        fail(c, FL_ERR_MALFORMED, "br_table too long");
        return;
    }
    uint32_t *labels = malloc(((size_t)n + 1) * sizeof *labels);
    if (!labels) {
        fail(c, FL_ERR_NOMEM, "out of memory");
        return;
    }
    for (uint32_t i = 0; i <= n; i++) {
        labels[i] = rd_u32(c);
        if (!c->failed && !label(c, labels[i]))
            break;
    }
    if (c->failed || !can_pop(c, 1)) {
        free(labels);
        return;
    }
    uint32_t idx = read_slot(c, c->sh - 1);
    c->sh--;
    size_t at = emit_op(c, INTERP_OP_BR_TABLE);
    emit_u(c, idx);
    emit_u(c, n);
    size_t table = c->len;
    for (uint32_t i = 0; i <= n; i++) {
        struct frame *fr = label(c, labels[i]);
        if (fr->kind == FRAME_LOOP && !needs_moves(c, fr)) {
            emit_u(c, (uint32_t)(int32_t)((int64_t)fr->loop_pos - (int64_t)at));
        } else if (fr->kind != FRAME_FUNC && !needs_moves(c, fr)) {
            add_fixup(c, fr, (uint32_t)c->len, (uint32_t)at);
            emit_u(c, 0);
        } else {
            emit_u(c, NONE); /* a stub below moves the values */
        }
    }
    for (uint32_t i = 0; i <= n && !c->failed; i++) {
        if (c->code[table + i] != NONE)
            continue;
        c->code[table + i] = (uint32_t)(int32_t)((int64_t)c->len - (int64_t)at);
        emit_moves_and_jump(c, label(c, labels[i]));
    }
    free(labels);
    set_unreachable(c);
}

static void do_block(struct comp *c, int kind)
{
    struct blocktype bt;
    if (!rd_blocktype(c, &bt) || !can_pop(c, kind == FRAME_IF ? bt.np + 1 : bt.np))
        return;
    uint32_t np = bt.np, nr = bt.nr;
    struct cond k;
    if (kind == FRAME_IF)
        prepare_cond(c, true, &k);
    settle(c, np);
    barrier(c);
    struct frame *fr = push_frame(c, kind, np, nr);
    if (!fr)
        return;
    fr->ptypes = bt.pt;
    fr->npv = bt.npv;
    fr->rtypes = bt.rt;
    fr->nrv = bt.nrv;
    if (kind == FRAME_LOOP) {
        fr->loop_pos = (uint32_t)c->len;
    } else if (kind == FRAME_IF) {
        fr->else_instr = (uint32_t)emit_cond(c, &k);
        fr->else_pos = (uint32_t)c->len;
        emit_u(c, 0);
        barrier(c);
    }
}

static void reset_to_slots(struct comp *c, uint32_t height)
{
    c->sh = height;
    for (uint32_t h = 0; h < height; h++)
        if (c->st[h].kind != ENTRY_SLOT && h >= c->fr[c->nfr - 1].height)
            c->st[h].kind = ENTRY_SLOT;
}

static void do_else(struct comp *c)
{
    struct frame *fr = &c->fr[c->nfr - 1];
    if (fr->kind != FRAME_IF || fr->has_else) {
        fail(c, FL_ERR_INVALID, "else without if");
        return;
    }
    if (!fr->unreachable) {
        settle(c, fr->nresults);
        size_t at = emit_op(c, INTERP_OP_BR);
        emit_target(c, fr, at);
    }
    if (!c->failed)
        c->code[fr->else_pos] = (uint32_t)(int32_t)((int64_t)c->len - (int64_t)fr->else_instr);
    fr->else_pos = NONE;
    fr->has_else = true;
    fr->unreachable = false;
    barrier(c);
    /* The else arm starts from the if's params, in their slots. */
    while (!c->failed && c->sh < fr->height + fr->nparams)
        push_slot(c);
    reset_to_slots(c, fr->height + fr->nparams);
    mark_v128(c, fr->height, fr->ptypes, fr->npv);
}

static void do_end(struct comp *c)
{
    struct frame *fr = &c->fr[c->nfr - 1];
    if (fr->kind == FRAME_FUNC) {
        if (!fr->unreachable)
            emit_moves_and_jump(c, fr);
        c->nfr--;
        return;
    }
    if (!fr->unreachable)
        settle(c, fr->nresults);
    if (fr->else_pos != NONE && !c->failed)
        c->code[fr->else_pos] = (uint32_t)(int32_t)((int64_t)c->len - (int64_t)fr->else_instr);
    if (!c->failed)
        patch_fixups(c, fr->fixups);
    barrier(c);
    uint32_t height = fr->height, nr = fr->nresults;
    const uint8_t *rtypes = fr->rtypes;
    uint32_t nrv = fr->nrv;
    c->nfr--;
    c->sh = height;
    for (uint32_t i = 0; i < nr; i++)
        push_slot(c);
    mark_v128(c, height, rtypes, nrv);
}

#include "interp/compile_simd.h"

/* local.set / local.tee of wasm local x (a v128 is two cell stores). */
static void do_local_set_tee(struct comp *c, uint32_t x, bool tee)
{
    if (x >= c->nlocals) {
        fail(c, FL_ERR_INVALID, "unknown local");
        return;
    }
    uint32_t cell;
    if (local_info(c, x, &cell) != WASM_TYPE_V128) {
        do_local_set(c, cell, tee);
        return;
    }
    if (!can_pop(c, 2))
        return;
    do_local_set(c, cell + 1, false);
    do_local_set(c, cell, false);
    for (uint32_t k = 0; tee && k < 2; k++) {
        struct entry *e = push_entry(c);
        if (e) {
            e->kind = ENTRY_LOCAL;
            e->local = cell + k;
            e->vhi = k == 1;
        }
    }
}

/* Handles one instruction of dead code: only nesting matters. */
static void skip_dead(struct comp *c, uint8_t op, uint32_t *depth)
{
    if (op == WASM_OP_PREFIX_FD) {
        skip_fd(c);
        return;
    }
    if (op == WASM_OP_BLOCK || op == WASM_OP_LOOP || op == WASM_OP_IF) {
        (*depth)++;
        skip_kind(c, WASM_IMM_BLOCK);
        return;
    }
    if (op == WASM_OP_END) {
        (*depth)--;
        return;
    }
    int kind;
    if (op == WASM_OP_PREFIX_FC)
        kind = imm_kind_fc(rd_u32(c));
    else if (op == WASM_OP_PREFIX_FE)
        kind = rd_u32(c) == WASM_OP_FE_ATOMIC_FENCE ? WASM_IMM_MEMORY : WASM_IMM_MEMARG;
    else
        kind = imm_kind(op);
    if (kind < 0 || !skip_kind(c, kind))
        fail(c, FL_ERR_INVALID, "unsupported instruction");
}

static void compile_op(struct comp *c, uint8_t op)
{
    switch (op) {
    case WASM_OP_UNREACHABLE:
        emit_op(c, INTERP_OP_UNREACHABLE);
        set_unreachable(c);
        break;
    case WASM_OP_NOP:
        break;
    case WASM_OP_BLOCK: do_block(c, FRAME_BLOCK); break;
    case WASM_OP_LOOP: do_block(c, FRAME_LOOP); break;
    case WASM_OP_IF: do_block(c, FRAME_IF); break;
    case WASM_OP_ELSE: do_else(c); break;
    case WASM_OP_END: do_end(c); break;
    case WASM_OP_BR: {
        struct frame *fr = label(c, rd_u32(c));
        if (!fr || !can_pop(c, label_arity(fr)))
            break;
        emit_moves_and_jump(c, fr);
        set_unreachable(c);
        break;
    }
    case WASM_OP_BR_IF: do_br_if(c, rd_u32(c)); break;
    case WASM_OP_BR_TABLE: do_br_table(c); break;
    case WASM_OP_RETURN:
        if (!can_pop(c, c->fr[0].nresults))
            break;
        emit_moves_and_jump(c, &c->fr[0]);
        set_unreachable(c);
        break;
    case WASM_OP_CALL: do_call(c, rd_u32(c)); break;
    case WASM_OP_CALL_INDIRECT: do_call_indirect(c); break;
    case WASM_OP_DROP:
        if (can_pop(c, 1)) {
            c->sh -= c->st[c->sh - 1].vhi && c->sh >= 2 ? 2 : 1;
            barrier(c);
        }
        break;
    case WASM_OP_SELECT_T: {
        uint32_t n = rd_u32(c);
        for (uint32_t i = 0; i < n && !c->failed; i++)
            rd_u8(c);
    }
        /* fall through */
    case WASM_OP_SELECT: {
        if (c->failed || !can_pop(c, 3))
            break;
        if (c->st[c->sh - 2].vhi) {
            do_select_v128(c);
            break;
        }
        uint32_t h = c->sh - 3;
        uint32_t a = read_slot(c, h), b = read_slot(c, h + 1), cond = read_slot(c, h + 2);
        c->sh = h;
        uint32_t dst = push_slot(c);
        emit_op(c, INTERP_OP_SELECT);
        emit_u(c, dst);
        mark_dst(c, h);
        emit_u(c, a);
        emit_u(c, b);
        emit_u(c, cond);
        break;
    }
    case WASM_OP_LOCAL_GET: {
        uint32_t x = rd_u32(c);
        if (c->failed)
            break;
        if (x >= c->nlocals) {
            fail(c, FL_ERR_INVALID, "unknown local");
            break;
        }
        uint32_t cell;
        uint32_t n = wasm_valtype_cells(local_info(c, x, &cell));
        for (uint32_t k = 0; k < n; k++) {
            struct entry *e = push_entry(c);
            if (e) {
                e->kind = ENTRY_LOCAL;
                e->local = cell + k;
                e->vhi = k == 1;
            }
        }
        break;
    }
    case WASM_OP_LOCAL_SET: do_local_set_tee(c, rd_u32(c), false); break;
    case WASM_OP_LOCAL_TEE: do_local_set_tee(c, rd_u32(c), true); break;
    case WASM_OP_GLOBAL_GET: {
        uint32_t g = rd_u32(c);
        if (!c->failed && g < c->m->global_count &&
            c->m->globals[g].type.type == WASM_TYPE_V128) {
            do_global_v128(c, g, false);
            break;
        }
        uint32_t dst = push_slot(c);
        emit_op(c, INTERP_OP_GLOBAL_GET);
        emit_u(c, dst);
        mark_dst(c, c->sh - 1);
        emit_u(c, g);
        break;
    }
    case WASM_OP_GLOBAL_SET: {
        uint32_t g = rd_u32(c);
        if (!c->failed && g < c->m->global_count &&
            c->m->globals[g].type.type == WASM_TYPE_V128) {
            do_global_v128(c, g, true);
            break;
        }
        do_sink(c, INTERP_OP_GLOBAL_SET, 1, &g, 1);
        break;
    }
    case WASM_OP_TABLE_GET: {
        uint32_t t = rd_u32(c);
        if (!can_pop(c, 1))
            break;
        uint32_t i = read_slot(c, c->sh - 1);
        c->sh--;
        uint32_t dst = push_slot(c);
        emit_op(c, INTERP_OP_TABLE_GET);
        emit_u(c, dst);
        emit_u(c, t);
        emit_u(c, i);
        break;
    }
    case WASM_OP_TABLE_SET: {
        uint32_t t = rd_u32(c);
        do_sink(c, INTERP_OP_TABLE_SET, 2, &t, 1);
        break;
    }
#define LOAD_CASE(name) case WASM_OP_##name: do_load(c, INTERP_OP_##name); break;
        LOAD_OPS(LOAD_CASE)
#undef LOAD_CASE
#define STORE_CASE(name) case WASM_OP_##name: do_store(c, INTERP_OP_##name); break;
        STORE_OPS(STORE_CASE)
#undef STORE_CASE
    case WASM_OP_MEMORY_SIZE: {
        rd_u8(c);
        uint32_t dst = push_slot(c);
        emit_op(c, INTERP_OP_MEMORY_SIZE);
        emit_u(c, dst);
        break;
    }
    case WASM_OP_MEMORY_GROW:
        rd_u8(c);
        do_unary(c, INTERP_OP_MEMORY_GROW);
        break;
    case WASM_OP_I32_CONST: {
        int32_t v = 0;
        if (!wasm_read_i32(&c->r, &v))
            fail(c, FL_ERR_MALFORMED, wasm_read_status_text(c->r.status));
        push_const(c, (uint32_t)v, false);
        break;
    }
    case WASM_OP_I64_CONST: {
        int64_t v = 0;
        if (!wasm_read_i64(&c->r, &v))
            fail(c, FL_ERR_MALFORMED, wasm_read_status_text(c->r.status));
        push_const(c, (uint64_t)v, true);
        break;
    }
    case WASM_OP_F32_CONST: {
        uint32_t v = 0;
        if (!wasm_read_f32_bits(&c->r, &v))
            fail(c, FL_ERR_MALFORMED, wasm_read_status_text(c->r.status));
        push_const(c, v, false);
        break;
    }
    case WASM_OP_F64_CONST: {
        uint64_t v = 0;
        if (!wasm_read_f64_bits(&c->r, &v))
            fail(c, FL_ERR_MALFORMED, wasm_read_status_text(c->r.status));
        push_const(c, v, true);
        break;
    }
#define UNARY_CASE(name) case WASM_OP_##name: do_unary(c, INTERP_OP_##name); break;
        UNARY_OPS(UNARY_CASE)
#undef UNARY_CASE
#define BINARY_CASE(name) case WASM_OP_##name: do_binary(c, INTERP_OP_##name); break;
        BINARY_OPS(BINARY_CASE)
#undef BINARY_CASE
    case WASM_OP_I32_REINTERPRET_F32: case WASM_OP_I64_REINTERPRET_F64:
    case WASM_OP_F32_REINTERPRET_I32: case WASM_OP_F64_REINTERPRET_I64:
        /* Cells hold raw bits: the value stays where it is. */
        if (can_pop(c, 1) && c->last_dst_h == c->sh - 1)
            barrier(c); /* not a compare result any more */
        break;
    case WASM_OP_REF_NULL:
        rd_u8(c);
        push_const(c, 0, true);
        break;
    case WASM_OP_REF_FUNC: {
        uint32_t fi = rd_u32(c);
        uint32_t dst = push_slot(c);
        emit_op(c, INTERP_OP_REF_FUNC);
        emit_u(c, dst);
        mark_dst(c, c->sh - 1);
        emit_u(c, fi);
        break;
    }
    case WASM_OP_PREFIX_FC:
        compile_fc(c);
        break;
    case WASM_OP_PREFIX_FE:
        compile_fe(c);
        break;
    case WASM_OP_PREFIX_FD:
        compile_fd(c);
        break;
    default:
        fail(c, FL_ERR_INVALID, "unsupported instruction");
        break;
    }
}

int interp_compile_func(struct interp_module *imodule, struct interp_func *f,
                        struct fl_error *err)
{
    const struct wasm_module *m = imodule->module;
    const struct wasm_func *wf = &m->funcs[f->func_index];
    const struct wasm_functype *t = &m->types[wf->type_index];
    struct comp c;
    memset(&c, 0, sizeof c);
    c.m = m;
    c.im = imodule;
    c.f = f;
    c.err = err;
    c.last_start = NO_LAST;
    c.last_dst_h = NONE;
    wasm_reader_init(&c.r, m->bytes, wf->body, wf->body + wf->body_size);

    c.ft = t;
    c.wf = wf;
    c.nlocals = t->param_count + wf->local_count;
    uint32_t param_cells = cells_of(t->types, t->param_count);
    uint32_t local_cells = param_cells + cells_of(wf->local_types, wf->local_count);
    if (local_cells != c.nlocals) {
        /* v128 locals take two cells: map local indices to cells. */
        c.local_cell = malloc((size_t)c.nlocals * sizeof *c.local_cell);
        if (!c.local_cell)
            return fail(&c, FL_ERR_NOMEM, "out of memory");
        uint32_t cell = 0;
        for (uint32_t x = 0; x < c.nlocals; x++) {
            c.local_cell[x] = cell;
            cell += wasm_valtype_cells(local_info(&c, x, &(uint32_t){0}));
        }
    }
    c.L = local_cells;
    f->param_cells = param_cells;
    f->result_cells = cells_of(t->types + t->param_count, t->result_count);
    f->local_cells = c.L;

    struct frame *fr = push_frame(&c, FRAME_FUNC, 0, f->result_cells);
    if (fr)
        fr->height = 0;
    while (!c.failed && c.nfr > 0) {
        uint8_t op = rd_u8(&c);
        if (c.failed)
            break;
        struct frame *top = &c.fr[c.nfr - 1];
        if (top->unreachable) {
            /* Dead code: skip to this block's else/end. */
            uint32_t depth = 0;
            while (!c.failed && (depth > 0 || (op != WASM_OP_END && op != WASM_OP_ELSE))) {
                skip_dead(&c, op, &depth);
                if (c.failed)
                    break;
                op = rd_u8(&c);
            }
            if (c.failed)
                break;
        }
        compile_op(&c, op);
    }
    if (!c.failed && !wasm_reader_at_end(&c.r))
        fail(&c, FL_ERR_MALFORMED, "code after the function's end");
    if (!c.failed && c.nfr > 0)
        fail(&c, FL_ERR_MALFORMED, "function body without end");
    if (!c.failed && (uint64_t)c.L + c.max_h + INTERP_FRAME_RECORD_CELLS > UINT32_MAX / 2)
        fail(&c, FL_ERR_LIMIT, "frame too large");
    free(c.st);
    free(c.fr);
    free(c.fx);
    free(c.local_cell);
    if (c.failed) {
        free(c.code);
        return err ? err->code : FL_ERR_INVALID;
    }
    f->code = c.code;
    f->code_units = (uint32_t)c.len;
    f->frame_cells = c.L + c.max_h + INTERP_FRAME_RECORD_CELLS;
    return 0;
}

struct interp_module *interp_module_compile(const struct wasm_module *module,
                                            struct fl_error *err)
{
    struct interp_module *im = calloc(1, sizeof *im);
    if (!im) {
        fl_error_set(err, FL_ERR_NOMEM, "interp: out of memory");
        return NULL;
    }
    im->module = module;
    im->handlers = interp_handler_table();
    im->func_count = module->func_count - module->import_func_count;
    im->funcs = calloc(im->func_count ? im->func_count : 1, sizeof *im->funcs);
    if (!im->funcs) {
        free(im);
        fl_error_set(err, FL_ERR_NOMEM, "interp: out of memory");
        return NULL;
    }
    for (uint32_t i = 0; i < im->func_count; i++) {
        struct interp_func *f = &im->funcs[i];
        f->imodule = im;
        f->func_index = module->import_func_count + i;
        if (interp_compile_func(im, f, err) != 0) {
            interp_module_destroy(im);
            return NULL;
        }
    }
    return im;
}

void interp_module_destroy(struct interp_module *imodule)
{
    if (!imodule)
        return;
    for (uint32_t i = 0; i < imodule->func_count; i++)
        free(imodule->funcs[i].code);
    free(imodule->funcs);
    free(imodule);
}
