/* compile_ops.h: the interpreter compiler's choice of internal ops for
 * numeric, memory, local and prefixed (0xFC/0xFE) instructions: immediate
 * forms, operand swaps and fused superinstructions. Included once by
 * compile.c, whose static helpers (stack model, emission) it uses; not a
 * header to include anywhere else. */

static void do_unary(struct comp *c, int op)
{
    if (!can_pop(c, 1))
        return;
    uint32_t a = read_slot(c, c->sh - 1);
    c->sh--;
    uint32_t dst = push_slot(c);
    emit_op(c, op);
    emit_u(c, dst);
    mark_dst(c, c->sh - 1);
    emit_u(c, a);
}

/* The immediate form of op when its second operand is a constant. */
static int imm_form(int op, bool *is64)
{
    *is64 = false;
    switch (op) {
#define I(X) case INTERP_OP_I32_##X: return INTERP_OP_I32_##X##_IMM;
        I(ADD) I(SUB) I(MUL) I(AND) I(OR) I(XOR) I(SHL) I(SHR_S) I(SHR_U)
        I(EQ) I(NE) I(LT_S) I(LT_U) I(GT_S) I(GT_U) I(LE_S) I(LE_U) I(GE_S) I(GE_U)
        I(ROTL) I(ROTR)
#undef I
    default:
        break;
    }
    *is64 = true;
    switch (op) {
#define I(X) case INTERP_OP_I64_##X: return INTERP_OP_I64_##X##_IMM;
        I(ADD) I(SUB) I(MUL) I(AND) I(OR) I(XOR) I(SHL) I(SHR_S) I(SHR_U) I(ROTL) I(ROTR)
#undef I
    default:
        return -1;
    }
}

/* op with its operands swapped, when that exists (commutative or mirrored
 * compare), so a constant first operand can still become an immediate. */
static int swapped(int op)
{
    switch (op) {
    case INTERP_OP_I32_ADD: case INTERP_OP_I32_MUL: case INTERP_OP_I32_AND:
    case INTERP_OP_I32_OR: case INTERP_OP_I32_XOR: case INTERP_OP_I32_EQ:
    case INTERP_OP_I32_NE: case INTERP_OP_I64_ADD: case INTERP_OP_I64_MUL:
    case INTERP_OP_I64_AND: case INTERP_OP_I64_OR: case INTERP_OP_I64_XOR:
        return op;
    case INTERP_OP_I32_LT_S: return INTERP_OP_I32_GT_S;
    case INTERP_OP_I32_LT_U: return INTERP_OP_I32_GT_U;
    case INTERP_OP_I32_GT_S: return INTERP_OP_I32_LT_S;
    case INTERP_OP_I32_GT_U: return INTERP_OP_I32_LT_U;
    case INTERP_OP_I32_LE_S: return INTERP_OP_I32_GE_S;
    case INTERP_OP_I32_LE_U: return INTERP_OP_I32_GE_U;
    case INTERP_OP_I32_GE_S: return INTERP_OP_I32_LE_S;
    case INTERP_OP_I32_GE_U: return INTERP_OP_I32_LE_U;
    default:
        return -1;
    }
}

static bool imm_fits(const struct entry *e, bool is64)
{
    if (e->kind != ENTRY_CONST)
        return false;
    if (!is64)
        return true;
    return (int64_t)e->value == (int64_t)(int32_t)(uint32_t)e->value;
}

/* The f64 op taking its second operand from memory, or -1. */
static int f64_mem_form(int op, bool *commutes)
{
    *commutes = op == INTERP_OP_F64_ADD || op == INTERP_OP_F64_MUL;
    switch (op) {
    case INTERP_OP_F64_ADD: return INTERP_OP_F64_ADD_MEM;
    case INTERP_OP_F64_SUB: return INTERP_OP_F64_SUB_MEM;
    case INTERP_OP_F64_MUL: return INTERP_OP_F64_MUL_MEM;
    case INTERP_OP_F64_DIV: return INTERP_OP_F64_DIV_MEM;
    default: return -1;
    }
}

/* f64 binops: an f64.load just emitted for one operand folds into the op
 * (the other operand must then be read without emitting code: a local or a
 * slot; for sub/div the load must be the second operand), and an f64.const
 * second operand becomes a 64-bit immediate. Returns whether it emitted. */
static bool do_binary_f64(struct comp *c, int op)
{
    bool commutes;
    int mop = f64_mem_form(op, &commutes);
    if (mop < 0)
        return false;
    uint32_t h = c->sh - 2;
    struct entry *ea = &c->st[h], *eb = &c->st[h + 1];
    if (eb->kind == ENTRY_CONST && ea->kind != ENTRY_CONST) {
        static const int imm_ops[] = {INTERP_OP_F64_ADD_IMM, INTERP_OP_F64_SUB_IMM,
                                      INTERP_OP_F64_MUL_IMM, INTERP_OP_F64_DIV_IMM};
        uint64_t v = eb->value;
        uint32_t a = read_slot(c, h);
        c->sh = h;
        uint32_t dst = push_slot(c);
        emit_op(c, imm_ops[mop - INTERP_OP_F64_ADD_MEM]);
        emit_u(c, dst);
        mark_dst(c, h);
        emit_u(c, a);
        emit_u(c, (uint32_t)v);
        emit_u(c, (uint32_t)(v >> 32));
        return true;
    }
    if (c->last_start == NO_LAST ||
        (c->last_op != INTERP_OP_F64_LOAD && c->last_op != INTERP_OP_F64_LOAD_AI))
        return false;
    uint32_t mem_h;
    if (c->last_dst_h == h + 1 && ea->kind != ENTRY_CONST)
        mem_h = h + 1;
    else if (commutes && c->last_dst_h == h && eb->kind != ENTRY_CONST)
        mem_h = h;
    else
        return false;
    if (c->st[mem_h].kind != ENTRY_SLOT)
        return false;
    const uint32_t *ops = c->code + c->last_start + INTERP_HANDLER_UNITS;
    bool ai = c->last_op == INTERP_OP_F64_LOAD_AI;
    uint32_t addr = ops[1], imm = ai ? ops[2] : 0, offset = ai ? ops[3] : ops[2];
    c->len = c->last_start; /* drop the load: the op does it */
    barrier(c);
    uint32_t a = read_slot(c, mem_h == h + 1 ? h : h + 1);
    c->sh = h;
    uint32_t dst = push_slot(c);
    emit_op(c, mop);
    emit_u(c, dst);
    mark_dst(c, h);
    emit_u(c, a);
    emit_u(c, addr);
    emit_u(c, imm);
    emit_u(c, offset);
    return true;
}

/* i32.xor of a value and a rotate/shift by a constant just emitted for the
 * other operand: one op (the rotated value never goes to its slot). */
static bool do_xor_shifted(struct comp *c)
{
    uint32_t h = c->sh - 2;
    if (c->last_start == NO_LAST ||
        (c->last_op != INTERP_OP_I32_ROTL_IMM && c->last_op != INTERP_OP_I32_SHR_U_IMM))
        return false;
    uint32_t sh_h;
    if (c->last_dst_h == h + 1 && c->st[h].kind != ENTRY_CONST)
        sh_h = h + 1;
    else if (c->last_dst_h == h && c->st[h + 1].kind != ENTRY_CONST)
        sh_h = h;
    else
        return false;
    if (c->st[sh_h].kind != ENTRY_SLOT)
        return false;
    const uint32_t *ops = c->code + c->last_start + INTERP_HANDLER_UNITS;
    uint32_t x = ops[1], k = ops[2];
    int fop = c->last_op == INTERP_OP_I32_ROTL_IMM ? INTERP_OP_I32_XOR_ROTL_IMM
                                                   : INTERP_OP_I32_XOR_SHR_U_IMM;
    c->len = c->last_start;
    barrier(c);
    uint32_t a = read_slot(c, sh_h == h + 1 ? h : h + 1);
    c->sh = h;
    uint32_t dst = push_slot(c);
    emit_op(c, fop);
    emit_u(c, dst);
    mark_dst(c, h);
    emit_u(c, a);
    emit_u(c, x);
    emit_u(c, k);
    return true;
}

static void do_binary(struct comp *c, int op)
{
    if (!can_pop(c, 2))
        return;
    if (do_binary_f64(c, op))
        return;
    if (op == INTERP_OP_I32_XOR && do_xor_shifted(c))
        return;
    uint32_t h = c->sh - 2;
    struct entry *ea = &c->st[h], *eb = &c->st[h + 1];
    bool is64;
    int iop = imm_form(op, &is64);
    int sop = swapped(op);
    bool is64s;
    int siop = sop >= 0 ? imm_form(sop, &is64s) : -1;
    uint32_t a, b;
    if (iop >= 0 && imm_fits(eb, is64) && ea->kind != ENTRY_CONST) {
        op = iop;
        a = read_slot(c, h);
        b = (uint32_t)eb->value;
    } else if (siop >= 0 && imm_fits(ea, is64s) && eb->kind != ENTRY_CONST) {
        op = siop;
        a = read_slot(c, h + 1);
        b = (uint32_t)ea->value;
    } else {
        a = read_slot(c, h);
        b = read_slot(c, h + 1);
    }
    c->sh = h;
    uint32_t dst = push_slot(c);
    emit_op(c, op);
    emit_u(c, dst);
    mark_dst(c, h);
    emit_u(c, a);
    emit_u(c, b);
}

static void do_load(struct comp *c, int op)
{
    rd_u32(c); /* alignment: a hint */
    uint32_t offset = rd_u32(c);
    if (!can_pop(c, 1))
        return;
    if ((op == INTERP_OP_F64_LOAD || op == INTERP_OP_I32_LOAD) && c->last_start != NO_LAST &&
        c->last_op == INTERP_OP_I32_ADD_IMM && c->last_dst_h == c->sh - 1 &&
        c->st[c->sh - 1].kind == ENTRY_SLOT) {
        /* address = local/slot + constant: fold the add into the load */
        const uint32_t *ops = c->code + c->last_start + INTERP_HANDLER_UNITS;
        uint32_t a = ops[1], imm = ops[2];
        c->len = c->last_start;
        barrier(c);
        c->sh--;
        uint32_t dst = push_slot(c);
        emit_op(c, op == INTERP_OP_F64_LOAD ? INTERP_OP_F64_LOAD_AI : INTERP_OP_I32_LOAD_AI);
        emit_u(c, dst);
        mark_dst(c, c->sh - 1);
        emit_u(c, a);
        emit_u(c, imm);
        emit_u(c, offset);
        return;
    }
    uint32_t addr = read_slot(c, c->sh - 1);
    c->sh--;
    uint32_t dst = push_slot(c);
    emit_op(c, op);
    emit_u(c, dst);
    mark_dst(c, c->sh - 1);
    emit_u(c, addr);
    emit_u(c, offset);
}

/* f64.store of an f64 add/sub/mul just emitted into the stored slot: one op
 * that computes and stores (the address must be readable without emitting
 * code). Returns whether it emitted. */
static bool do_store_f64_result(struct comp *c, uint32_t offset)
{
    static const struct {
        int op, st, units;
    } map[] = {
        {INTERP_OP_F64_ADD, INTERP_OP_F64_ADD_ST, 3},
        {INTERP_OP_F64_SUB, INTERP_OP_F64_SUB_ST, 3},
        {INTERP_OP_F64_MUL, INTERP_OP_F64_MUL_ST, 3},
        {INTERP_OP_F64_ADD_MEM, INTERP_OP_F64_ADD_MEM_ST, 5},
        {INTERP_OP_F64_SUB_MEM, INTERP_OP_F64_SUB_MEM_ST, 5},
        {INTERP_OP_F64_MUL_MEM, INTERP_OP_F64_MUL_MEM_ST, 5},
    };
    uint32_t h = c->sh - 1;
    if (c->last_start == NO_LAST || c->last_dst_h != h || c->st[h].kind != ENTRY_SLOT ||
        c->st[h - 1].kind == ENTRY_CONST)
        return false;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (map[i].op != c->last_op)
            continue;
        uint32_t ops[5];
        memcpy(ops, c->code + c->last_start + INTERP_HANDLER_UNITS,
               (size_t)map[i].units * sizeof ops[0]);
        c->len = c->last_start; /* drop the op: the store computes it */
        barrier(c);
        uint32_t addr = read_slot(c, h - 1);
        c->sh -= 2;
        emit_op(c, map[i].st);
        emit_u(c, addr);
        for (int k = 1; k < map[i].units; k++) /* the op's operands, dst dropped */
            emit_u(c, ops[k]);
        emit_u(c, offset);
        return true;
    }
    return false;
}

static void do_store(struct comp *c, int op)
{
    rd_u32(c);
    uint32_t offset = rd_u32(c);
    if (!can_pop(c, 2))
        return;
    if (op == INTERP_OP_F64_STORE && do_store_f64_result(c, offset))
        return;
    uint32_t addr = read_slot(c, c->sh - 2);
    uint32_t val = read_slot(c, c->sh - 1);
    c->sh -= 2;
    emit_op(c, op);
    emit_u(c, addr);
    emit_u(c, val);
    emit_u(c, offset);
}

/* Pops n operands and emits op with them (for ops without a result). */
static void do_sink(struct comp *c, int op, uint32_t n, const uint32_t *imms, uint32_t nimm)
{
    if (!can_pop(c, n))
        return;
    uint32_t slots[3];
    for (uint32_t i = 0; i < n; i++)
        slots[i] = read_slot(c, c->sh - n + i);
    c->sh -= n;
    emit_op(c, op);
    for (uint32_t i = 0; i < nimm; i++)
        emit_u(c, imms[i]);
    for (uint32_t i = 0; i < n; i++)
        emit_u(c, slots[i]);
}

static void do_local_set(struct comp *c, uint32_t x, bool tee)
{
    if (x >= c->L) {
        fail(c, FL_ERR_INVALID, "unknown local");
        return;
    }
    if (!can_pop(c, 1))
        return;
    uint32_t h = c->sh - 1;
    struct entry v = c->st[h];
    bool emitted = false;
    for (uint32_t j = 0; j < h; j++)
        if (c->st[j].kind == ENTRY_LOCAL && c->st[j].local == x) {
            materialize(c, j);
            emitted = true;
        }
    if (v.kind == ENTRY_SLOT) {
        if (!emitted && c->last_start != NO_LAST && c->last_dst_h == h) {
            c->code[c->last_dst_pos] = x; /* the producer writes the local itself */
            c->last_dst_h = NONE;
        } else {
            emit_mov(c, x, slot_of_h(c, h));
        }
    } else if (v.kind == ENTRY_LOCAL) {
        emit_mov(c, x, v.local);
    } else {
        emit_const_to(c, x, &v);
    }
    c->sh--;
    if (tee) {
        struct entry *e = push_entry(c);
        if (e) {
            e->kind = ENTRY_LOCAL;
            e->local = x;
        }
    }
}

#define UNARY_OPS(X) \
    X(I32_EQZ) X(I64_EQZ) X(I32_CLZ) X(I32_CTZ) X(I32_POPCNT) X(I64_CLZ) X(I64_CTZ) \
    X(I64_POPCNT) X(F32_ABS) X(F32_NEG) X(F32_CEIL) X(F32_FLOOR) X(F32_TRUNC) \
    X(F32_NEAREST) X(F32_SQRT) X(F64_ABS) X(F64_NEG) X(F64_CEIL) X(F64_FLOOR) \
    X(F64_TRUNC) X(F64_NEAREST) X(F64_SQRT) X(I32_WRAP_I64) X(I32_TRUNC_F32_S) \
    X(I32_TRUNC_F32_U) X(I32_TRUNC_F64_S) X(I32_TRUNC_F64_U) X(I64_EXTEND_I32_S) \
    X(I64_EXTEND_I32_U) X(I64_TRUNC_F32_S) X(I64_TRUNC_F32_U) X(I64_TRUNC_F64_S) \
    X(I64_TRUNC_F64_U) X(F32_CONVERT_I32_S) X(F32_CONVERT_I32_U) X(F32_CONVERT_I64_S) \
    X(F32_CONVERT_I64_U) X(F32_DEMOTE_F64) X(F64_CONVERT_I32_S) X(F64_CONVERT_I32_U) \
    X(F64_CONVERT_I64_S) X(F64_CONVERT_I64_U) X(F64_PROMOTE_F32) X(I32_EXTEND8_S) \
    X(I32_EXTEND16_S) X(I64_EXTEND8_S) X(I64_EXTEND16_S) X(I64_EXTEND32_S) X(REF_IS_NULL)

#define BINARY_OPS(X) \
    X(I32_EQ) X(I32_NE) X(I32_LT_S) X(I32_LT_U) X(I32_GT_S) X(I32_GT_U) X(I32_LE_S) \
    X(I32_LE_U) X(I32_GE_S) X(I32_GE_U) X(I64_EQ) X(I64_NE) X(I64_LT_S) X(I64_LT_U) \
    X(I64_GT_S) X(I64_GT_U) X(I64_LE_S) X(I64_LE_U) X(I64_GE_S) X(I64_GE_U) X(F32_EQ) \
    X(F32_NE) X(F32_LT) X(F32_GT) X(F32_LE) X(F32_GE) X(F64_EQ) X(F64_NE) X(F64_LT) \
    X(F64_GT) X(F64_LE) X(F64_GE) X(I32_ADD) X(I32_SUB) X(I32_MUL) X(I32_DIV_S) \
    X(I32_DIV_U) X(I32_REM_S) X(I32_REM_U) X(I32_AND) X(I32_OR) X(I32_XOR) X(I32_SHL) \
    X(I32_SHR_S) X(I32_SHR_U) X(I32_ROTL) X(I32_ROTR) X(I64_ADD) X(I64_SUB) X(I64_MUL) \
    X(I64_DIV_S) X(I64_DIV_U) X(I64_REM_S) X(I64_REM_U) X(I64_AND) X(I64_OR) X(I64_XOR) \
    X(I64_SHL) X(I64_SHR_S) X(I64_SHR_U) X(I64_ROTL) X(I64_ROTR) X(F32_ADD) X(F32_SUB) \
    X(F32_MUL) X(F32_DIV) X(F32_MIN) X(F32_MAX) X(F32_COPYSIGN) X(F64_ADD) X(F64_SUB) \
    X(F64_MUL) X(F64_DIV) X(F64_MIN) X(F64_MAX) X(F64_COPYSIGN)

#define LOAD_OPS(X) \
    X(I32_LOAD) X(I64_LOAD) X(F32_LOAD) X(F64_LOAD) X(I32_LOAD8_S) X(I32_LOAD8_U) \
    X(I32_LOAD16_S) X(I32_LOAD16_U) X(I64_LOAD8_S) X(I64_LOAD8_U) X(I64_LOAD16_S) \
    X(I64_LOAD16_U) X(I64_LOAD32_S) X(I64_LOAD32_U)

#define STORE_OPS(X) \
    X(I32_STORE) X(I64_STORE) X(F32_STORE) X(F64_STORE) X(I32_STORE8) X(I32_STORE16) \
    X(I64_STORE8) X(I64_STORE16) X(I64_STORE32)

static void compile_fc(struct comp *c)
{
    uint32_t sub = rd_u32(c);
    uint32_t imm[2];
    if (c->failed)
        return;
    switch (sub) {
    case WASM_OP_FC_I32_TRUNC_SAT_F32_S: do_unary(c, INTERP_OP_I32_TRUNC_SAT_F32_S); break;
    case WASM_OP_FC_I32_TRUNC_SAT_F32_U: do_unary(c, INTERP_OP_I32_TRUNC_SAT_F32_U); break;
    case WASM_OP_FC_I32_TRUNC_SAT_F64_S: do_unary(c, INTERP_OP_I32_TRUNC_SAT_F64_S); break;
    case WASM_OP_FC_I32_TRUNC_SAT_F64_U: do_unary(c, INTERP_OP_I32_TRUNC_SAT_F64_U); break;
    case WASM_OP_FC_I64_TRUNC_SAT_F32_S: do_unary(c, INTERP_OP_I64_TRUNC_SAT_F32_S); break;
    case WASM_OP_FC_I64_TRUNC_SAT_F32_U: do_unary(c, INTERP_OP_I64_TRUNC_SAT_F32_U); break;
    case WASM_OP_FC_I64_TRUNC_SAT_F64_S: do_unary(c, INTERP_OP_I64_TRUNC_SAT_F64_S); break;
    case WASM_OP_FC_I64_TRUNC_SAT_F64_U: do_unary(c, INTERP_OP_I64_TRUNC_SAT_F64_U); break;
    case WASM_OP_FC_MEMORY_INIT:
        imm[0] = rd_u32(c);
        rd_u8(c);
        do_sink(c, INTERP_OP_MEMORY_INIT, 3, imm, 1);
        break;
    case WASM_OP_FC_DATA_DROP:
        imm[0] = rd_u32(c);
        do_sink(c, INTERP_OP_DATA_DROP, 0, imm, 1);
        break;
    case WASM_OP_FC_MEMORY_COPY:
        rd_u8(c);
        rd_u8(c);
        do_sink(c, INTERP_OP_MEMORY_COPY, 3, NULL, 0);
        break;
    case WASM_OP_FC_MEMORY_FILL:
        rd_u8(c);
        do_sink(c, INTERP_OP_MEMORY_FILL, 3, NULL, 0);
        break;
    case WASM_OP_FC_TABLE_INIT:
        imm[1] = rd_u32(c); /* elem */
        imm[0] = rd_u32(c); /* table */
        do_sink(c, INTERP_OP_TABLE_INIT, 3, imm, 2);
        break;
    case WASM_OP_FC_ELEM_DROP:
        imm[0] = rd_u32(c);
        do_sink(c, INTERP_OP_ELEM_DROP, 0, imm, 1);
        break;
    case WASM_OP_FC_TABLE_COPY:
        imm[0] = rd_u32(c);
        imm[1] = rd_u32(c);
        do_sink(c, INTERP_OP_TABLE_COPY, 3, imm, 2);
        break;
    case WASM_OP_FC_TABLE_GROW: {
        uint32_t t = rd_u32(c);
        if (!can_pop(c, 2))
            break;
        uint32_t init = read_slot(c, c->sh - 2), n = read_slot(c, c->sh - 1);
        c->sh -= 2;
        uint32_t dst = push_slot(c);
        emit_op(c, INTERP_OP_TABLE_GROW);
        emit_u(c, dst);
        emit_u(c, t);
        emit_u(c, init);
        emit_u(c, n);
        break;
    }
    case WASM_OP_FC_TABLE_SIZE: {
        uint32_t t = rd_u32(c);
        uint32_t dst = push_slot(c);
        emit_op(c, INTERP_OP_TABLE_SIZE);
        emit_u(c, dst);
        emit_u(c, t);
        break;
    }
    case WASM_OP_FC_TABLE_FILL:
        imm[0] = rd_u32(c);
        do_sink(c, INTERP_OP_TABLE_FILL, 3, imm, 1);
        break;
    default:
        fail(c, FL_ERR_INVALID, "unsupported 0xFC instruction");
    }
}

/* An atomic instruction (threads): one ATOMIC op (atomic_exec.h) whose
 * operands and result follow the 0xFE table's signature. */
static void compile_fe(struct comp *c)
{
    uint32_t sub = rd_u32(c);
    const char *sig = NULL;
    switch (sub) {
#define FE_SIG(name, code, imm, s) case code: sig = s; break;
        WASM_OPCODES_FE(FE_SIG)
#undef FE_SIG
    default:
        break;
    }
    if (c->failed || !sig) {
        fail(c, FL_ERR_INVALID, "unsupported 0xFE instruction");
        return;
    }
    uint32_t offset = 0;
    if (sub == WASM_OP_FE_ATOMIC_FENCE) {
        rd_u8(c);
    } else {
        rd_u32(c); /* alignment: validation made it natural */
        offset = rd_u32(c);
    }
    uint32_t np = (uint32_t)(strchr(sig, ':') - sig);
    bool has_result = sig[np + 1] != '\0';
    if (np > 3 || !can_pop(c, np))
        return;
    uint32_t slots[3] = {0, 0, 0};
    for (uint32_t i = 0; i < np; i++)
        slots[i] = read_slot(c, c->sh - np + i);
    c->sh -= np;
    /* Unused operand units repeat a real slot, so reading them is harmless. */
    uint32_t dst = has_result ? push_slot(c) : slots[0];
    emit_op(c, INTERP_OP_ATOMIC);
    emit_u(c, sub);
    emit_u(c, dst);
    if (has_result)
        mark_dst(c, c->sh - 1);
    emit_u(c, slots[0]);
    emit_u(c, np > 1 ? slots[1] : slots[0]);
    emit_u(c, np > 2 ? slots[2] : slots[0]);
    emit_u(c, offset);
}
