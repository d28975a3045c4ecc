/* compile_simd.h: the SIMD (0xFD) part of the interpreter's compiler: one
 * internal op per instruction (simd_ops.h) with slot operands laid out as
 * the 0xFD table's signature says. A v128 on the compile-time stack is two
 * entries (low cell, then high cell marked vhi). Included once by compile.c,
 * whose static helpers it uses; not a header to include anywhere else. */

/* The slot of the low cell of the v128 at heights h, h+1 (the high cell
 * follows it): a local's cells when it still lives there, else its own slots. */
static uint32_t read_v128(struct comp *c, uint32_t h)
{
    struct entry *lo = &c->st[h], *hi = &c->st[h + 1];
    if (lo->kind == ENTRY_LOCAL && hi->kind == ENTRY_LOCAL && hi->local == lo->local + 1)
        return lo->local;
    materialize(c, h);
    materialize(c, h + 1);
    return slot_of_h(c, h);
}

/* Pushes a v128 result computed into its own two slots; returns the low one. */
static uint32_t push_v128_slot(struct comp *c)
{
    uint32_t dst = push_slot(c);
    push_slot(c);
    if (!c->failed)
        c->st[c->sh - 1].vhi = true;
    return dst;
}

/* Steps over a SIMD instruction in dead code. */
static void skip_fd(struct comp *c)
{
    uint32_t sub = rd_u32(c);
    int imm = -1;
    switch (sub) {
#define FD_IMM(name, code, k, s) case code: imm = WASM_IMM_##k; break;
        WASM_OPCODES_FD(FD_IMM)
#undef FD_IMM
    default:
        break;
    }
    switch (imm) {
    case WASM_IMM_NONE:
        return;
    case WASM_IMM_MEMARG:
        rd_u32(c);
        rd_u32(c);
        return;
    case WASM_IMM_MEMARG_LANE:
        rd_u32(c);
        rd_u32(c);
        rd_u8(c);
        return;
    case WASM_IMM_LANE:
        rd_u8(c);
        return;
    case WASM_IMM_V128:
    case WASM_IMM_SHUFFLE:
        if (!wasm_reader_skip(&c->r, 16))
            fail(c, FL_ERR_MALFORMED, "unexpected end");
        return;
    default:
        fail(c, FL_ERR_INVALID, "unsupported 0xFD instruction");
    }
}

static void compile_fd(struct comp *c)
{
    uint32_t sub = rd_u32(c);
    int imm = -1, op = -1;
    const char *sig = NULL;
    switch (sub) {
#define FD_ROW(name, code, k, s)                                                  \
    case code:                                                                    \
        imm = WASM_IMM_##k;                                                       \
        op = INTERP_OP_V_##name;                                                  \
        sig = s;                                                                  \
        break;
        WASM_OPCODES_FD(FD_ROW)
#undef FD_ROW
    default:
        break;
    }
    if (c->failed || !sig) {
        fail(c, FL_ERR_INVALID, "unsupported 0xFD instruction");
        return;
    }
    uint32_t offset = 0, lane = 0;
    uint8_t bytes[16] = {0};
    if (imm == WASM_IMM_MEMARG || imm == WASM_IMM_MEMARG_LANE) {
        rd_u32(c); /* alignment: a hint */
        offset = rd_u32(c);
    }
    if (imm == WASM_IMM_LANE || imm == WASM_IMM_MEMARG_LANE)
        lane = rd_u8(c);
    if (imm == WASM_IMM_V128 || imm == WASM_IMM_SHUFFLE) {
        const uint8_t *p = NULL;
        if (!wasm_read_bytes(&c->r, 16, &p))
            fail(c, FL_ERR_MALFORMED, "unexpected end");
        else
            memcpy(bytes, p, 16);
    }
    if (c->failed)
        return;
    if (sub == WASM_OP_FD_V128_CONST) {
        /* Two constant cells: they fold into local.set and branch moves. */
        uint64_t lo, hi;
        memcpy(&lo, bytes, 8);
        memcpy(&hi, bytes + 8, 8);
        push_const(c, lo, true);
        push_const(c, hi, true);
        if (!c->failed)
            c->st[c->sh - 1].vhi = true;
        return;
    }
    /* Operands per the signature, v128s taking two cells. */
    uint32_t np = (uint32_t)(strchr(sig, ':') - sig), cells = 0;
    for (uint32_t i = 0; i < np; i++)
        cells += sig[i] == 'v' ? 2 : 1;
    if (np > 3 || !can_pop(c, cells))
        return;
    uint32_t slots[3];
    uint32_t h = c->sh - cells;
    for (uint32_t i = 0; i < np; i++) {
        if (sig[i] == 'v') {
            slots[i] = read_v128(c, h);
            h += 2;
        } else {
            slots[i] = read_slot(c, h);
            h++;
        }
    }
    c->sh -= cells;
    char result = sig[np + 1];
    uint32_t dst = 0;
    if (result == 'v')
        dst = push_v128_slot(c);
    else if (result)
        dst = push_slot(c);
    emit_op(c, op);
    if (result) {
        emit_u(c, dst);
        if (result != 'v')
            mark_dst(c, c->sh - 1);
    }
    for (uint32_t i = 0; i < np; i++)
        emit_u(c, slots[i]);
    if (imm == WASM_IMM_MEMARG || imm == WASM_IMM_MEMARG_LANE)
        emit_u(c, offset);
    if (imm == WASM_IMM_LANE || imm == WASM_IMM_MEMARG_LANE)
        emit_u(c, lane);
    if (imm == WASM_IMM_SHUFFLE)
        for (int i = 0; i < 16; i += 4) {
            uint32_t u;
            memcpy(&u, bytes + i, 4);
            emit_u(c, u);
        }
}

/* global.get / global.set of a v128 global. */
static void do_global_v128(struct comp *c, uint32_t g, bool set)
{
    if (!set) {
        uint32_t dst = push_v128_slot(c);
        emit_op(c, INTERP_OP_V_GLOBAL_GET);
        emit_u(c, dst);
        emit_u(c, g);
        return;
    }
    if (!can_pop(c, 2))
        return;
    uint32_t src = read_v128(c, c->sh - 2);
    c->sh -= 2;
    emit_op(c, INTERP_OP_V_GLOBAL_SET);
    emit_u(c, g);
    emit_u(c, src);
}

/* select of two v128s (the stack holds a, b and the i32 condition). */
static void do_select_v128(struct comp *c)
{
    if (!can_pop(c, 5))
        return;
    uint32_t h = c->sh - 5;
    uint32_t a = read_v128(c, h), b = read_v128(c, h + 2), cond = read_slot(c, h + 4);
    c->sh = h;
    uint32_t dst = push_v128_slot(c);
    emit_op(c, INTERP_OP_V_SELECT);
    emit_u(c, dst);
    emit_u(c, a);
    emit_u(c, b);
    emit_u(c, cond);
}
