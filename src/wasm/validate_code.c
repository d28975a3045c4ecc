/* validate_code.c: validation of one function body with the spec's
 * operand-stack / control-stack algorithm (appendix "Validation Algorithm"),
 * including the polymorphic stack after unreachable/br/return. Read errors in
 * a body are malformed; typing errors are invalid. Stacks live on the heap
 * and are bounded, so no input can recurse or grow them without limit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/opcodes.h"
#include "wasm/wasm_internal.h"

#define MAX_VALUE_DEPTH (1u << 20)
#define MAX_CONTROL_DEPTH (1u << 20)

struct ctrl {
    uint8_t opcode; /* BLOCK (also the function), LOOP, IF, ELSE */
    bool unreachable;
    uint32_t height;
    uint32_t param_count, result_count;
    const uint8_t *params, *results;
};

struct validator {
    struct wasm_decoder *d;
    const struct wasm_module *m;
    const struct wasm_func *func;
    const struct wasm_functype *type;
    uint32_t func_index;
    uint32_t local_total; /* params + locals */
    struct wasm_reader r;
    size_t op_offset; /* start of the instruction being checked */
    uint8_t *vals;
    uint32_t nvals, cap_vals;
    struct ctrl *ctrls;
    uint32_t nctrls, cap_ctrls;
};

static int vfail(struct validator *v, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int vfail(struct validator *v, int code, const char *fmt, ...)
{
    char text[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    const char *name = v->func->name;
    fl_error_set(v->d->err, code, "code section: function %u%s%s%s: %s at offset 0x%zx",
                 v->func_index, name ? " (" : "", name ? name : "", name ? ")" : "", text,
                 v->op_offset);
    return code;
}

static int read_fail(struct validator *v)
{
    v->op_offset = wasm_reader_offset(&v->r);
    int status = v->r.status ? v->r.status : WASM_READ_END;
    return vfail(v, FL_ERR_MALFORMED, "%s",
                 status == WASM_READ_END ? "unexpected end of section or function"
                                         : wasm_read_status_text(status));
}

#define READ(call)                                                                                 \
    do {                                                                                           \
        if (!(call))                                                                               \
            return read_fail(v);                                                                   \
    } while (0)

#define TRY(call)                                                                                  \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_ != 0)                                                                              \
            return rc_;                                                                            \
    } while (0)

/* One-element result lists for block types that are a single value type. */
static const uint8_t single_types[] = {WASM_TYPE_I32,     WASM_TYPE_I64,  WASM_TYPE_F32,
                                       WASM_TYPE_F64,     WASM_TYPE_V128, WASM_TYPE_FUNCREF,
                                       WASM_TYPE_EXTERNREF};

static const uint8_t *single_type(uint8_t t)
{
    for (size_t i = 0; i < sizeof single_types; i++)
        if (single_types[i] == t)
            return &single_types[i];
    return NULL;
}

static int push(struct validator *v, uint8_t t)
{
    if (v->nvals == v->cap_vals) {
        if (v->cap_vals >= MAX_VALUE_DEPTH)
            return vfail(v, FL_ERR_LIMIT, "operand stack deeper than %u", MAX_VALUE_DEPTH);
        uint32_t cap = v->cap_vals ? v->cap_vals * 2 : 64;
        uint8_t *p = realloc(v->vals, cap);
        if (!p)
            return vfail(v, FL_ERR_NOMEM, "out of memory");
        v->vals = p;
        v->cap_vals = cap;
    }
    v->vals[v->nvals++] = t;
    return 0;
}

static int pop(struct validator *v, uint8_t *out)
{
    struct ctrl *c = &v->ctrls[v->nctrls - 1];
    if (v->nvals == c->height) {
        if (c->unreachable) {
            *out = WASM_TYPE_UNKNOWN;
            return 0;
        }
        return vfail(v, FL_ERR_INVALID, "type mismatch: expected a value, the stack is empty");
    }
    *out = v->vals[--v->nvals];
    return 0;
}

static int pop_expect(struct validator *v, uint8_t expect, uint8_t *out)
{
    uint8_t actual = WASM_TYPE_UNKNOWN;
    TRY(pop(v, &actual));
    if (actual != expect && actual != WASM_TYPE_UNKNOWN && expect != WASM_TYPE_UNKNOWN)
        return vfail(v, FL_ERR_INVALID, "type mismatch: expected %s, got %s",
                     wasm_valtype_name(expect), wasm_valtype_name(actual));
    if (out)
        *out = actual;
    return 0;
}

static int pop_vals(struct validator *v, const uint8_t *types, uint32_t n)
{
    for (uint32_t i = n; i > 0; i--)
        TRY(pop_expect(v, types[i - 1], NULL));
    return 0;
}

static int push_vals(struct validator *v, const uint8_t *types, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        TRY(push(v, types[i]));
    return 0;
}

static int push_ctrl(struct validator *v, uint8_t opcode, uint32_t np, const uint8_t *params,
                     uint32_t nr, const uint8_t *results)
{
    if (v->nctrls == v->cap_ctrls) {
        if (v->cap_ctrls >= MAX_CONTROL_DEPTH)
            return vfail(v, FL_ERR_LIMIT, "blocks nested deeper than %u", MAX_CONTROL_DEPTH);
        uint32_t cap = v->cap_ctrls ? v->cap_ctrls * 2 : 16;
        struct ctrl *p = realloc(v->ctrls, cap * sizeof *p);
        if (!p)
            return vfail(v, FL_ERR_NOMEM, "out of memory");
        v->ctrls = p;
        v->cap_ctrls = cap;
    }
    v->ctrls[v->nctrls++] = (struct ctrl){.opcode = opcode,
                                          .height = v->nvals,
                                          .param_count = np,
                                          .params = params,
                                          .result_count = nr,
                                          .results = results};
    return push_vals(v, params, np);
}

/* Checks the top frame's results are exactly what is on its part of the stack. */
static int check_frame_end(struct validator *v)
{
    struct ctrl *c = &v->ctrls[v->nctrls - 1];
    TRY(pop_vals(v, c->results, c->result_count));
    if (v->nvals != c->height)
        return vfail(v, FL_ERR_INVALID, "type mismatch: %u values left on the stack at end of block",
                     v->nvals - c->height);
    return 0;
}

static void set_unreachable(struct validator *v)
{
    struct ctrl *c = &v->ctrls[v->nctrls - 1];
    v->nvals = c->height;
    c->unreachable = true;
}

/* Types a branch to label depth l must carry. */
static void label_types(const struct ctrl *c, uint32_t *n, const uint8_t **types)
{
    if (c->opcode == WASM_OP_LOOP) {
        *n = c->param_count;
        *types = c->params;
    } else {
        *n = c->result_count;
        *types = c->results;
    }
}

static int read_label(struct validator *v, uint32_t *out)
{
    READ(wasm_read_u32(&v->r, out));
    if (*out >= v->nctrls)
        return vfail(v, FL_ERR_INVALID, "unknown label %u", *out);
    return 0;
}

static int read_blocktype(struct validator *v, uint32_t *np, const uint8_t **params,
                          uint32_t *nr, const uint8_t **results)
{
    static const uint8_t none[1] = {0};
    *np = 0;
    *nr = 0;
    *params = none;
    *results = none;
    if (wasm_reader_at_end(&v->r))
        return read_fail(v);
    uint8_t b = *v->r.pos;
    if (b == 0x40) {
        v->r.pos++;
        return 0;
    }
    if (wasm_valtype_decode(b)) {
        v->r.pos++;
        *nr = 1;
        *results = single_type(b);
        return 0;
    }
    int64_t idx;
    READ(wasm_read_s33(&v->r, &idx));
    if (idx < 0)
        return vfail(v, FL_ERR_MALFORMED, "malformed block type");
    if ((uint64_t)idx >= v->m->type_count)
        return vfail(v, FL_ERR_INVALID, "unknown type %lld", (long long)idx);
    const struct wasm_functype *ft = &v->m->types[idx];
    *np = ft->param_count;
    *params = ft->types;
    *nr = ft->result_count;
    *results = ft->types + ft->param_count;
    return 0;
}

static uint8_t sig_type(char c)
{
    switch (c) {
    case 'i': return WASM_TYPE_I32;
    case 'I': return WASM_TYPE_I64;
    case 'f': return WASM_TYPE_F32;
    case 'F': return WASM_TYPE_F64;
    default: return WASM_TYPE_V128;
    }
}

/* Applies a fixed "params:results" signature from the opcode table. */
static int apply_sig(struct validator *v, const char *sig)
{
    const char *colon = strchr(sig, ':');
    for (const char *p = colon; p > sig; p--)
        TRY(pop_expect(v, sig_type(p[-1]), NULL));
    for (const char *p = colon + 1; *p; p++)
        TRY(push(v, sig_type(*p)));
    return 0;
}

static int need_memory(struct validator *v)
{
    if (v->m->memory_count == 0)
        return vfail(v, FL_ERR_INVALID, "unknown memory 0");
    return 0;
}

static int zero_byte(struct validator *v)
{
    uint8_t b;
    READ(wasm_read_u8(&v->r, &b));
    if (b != 0)
        return vfail(v, FL_ERR_MALFORMED, "zero byte expected");
    return 0;
}

static int read_table(struct validator *v, uint32_t *out)
{
    READ(wasm_read_u32(&v->r, out));
    if (*out >= v->m->table_count)
        return vfail(v, FL_ERR_INVALID, "unknown table %u", *out);
    return 0;
}

static int read_elem(struct validator *v, uint32_t *out)
{
    READ(wasm_read_u32(&v->r, out));
    if (*out >= v->m->elem_count)
        return vfail(v, FL_ERR_INVALID, "unknown elem segment %u", *out);
    return 0;
}

static int read_data(struct validator *v, uint32_t *out)
{
    READ(wasm_read_u32(&v->r, out));
    if (*out >= v->m->data_count)
        return vfail(v, FL_ERR_INVALID, "unknown data segment %u", *out);
    if (!v->m->has_data_count)
        return vfail(v, FL_ERR_MALFORMED, "data count section required");
    return 0;
}

/* log2 of the natural alignment of a load/store opcode. */
static uint32_t natural_align(uint8_t op)
{
    switch (op) {
    case WASM_OP_I64_LOAD:
    case WASM_OP_F64_LOAD:
    case WASM_OP_I64_STORE:
    case WASM_OP_F64_STORE:
        return 3;
    case WASM_OP_I32_LOAD:
    case WASM_OP_F32_LOAD:
    case WASM_OP_I64_LOAD32_S:
    case WASM_OP_I64_LOAD32_U:
    case WASM_OP_I32_STORE:
    case WASM_OP_F32_STORE:
    case WASM_OP_I64_STORE32:
        return 2;
    case WASM_OP_I32_LOAD16_S:
    case WASM_OP_I32_LOAD16_U:
    case WASM_OP_I64_LOAD16_S:
    case WASM_OP_I64_LOAD16_U:
    case WASM_OP_I32_STORE16:
    case WASM_OP_I64_STORE16:
        return 1;
    default:
        return 0;
    }
}

static uint8_t local_type(const struct validator *v, uint32_t idx)
{
    if (idx < v->type->param_count)
        return v->type->types[idx];
    return v->func->local_types[idx - v->type->param_count];
}

static int check_br_table(struct validator *v)
{
    uint32_t n;
    READ(wasm_read_u32(&v->r, &n));
    if (n > wasm_reader_remaining(&v->r))
        return read_fail(v);
    /* The default label comes last but fixes the arity: read ahead, then re-walk. */
    struct wasm_reader saved = v->r;
    uint32_t l;
    for (uint32_t i = 0; i < n; i++)
        TRY(read_label(v, &l));
    uint32_t def;
    TRY(read_label(v, &def));
    struct wasm_reader after = v->r;
    v->r = saved;
    TRY(pop_expect(v, WASM_TYPE_I32, NULL));
    uint32_t arity;
    const uint8_t *def_types;
    label_types(&v->ctrls[v->nctrls - 1 - def], &arity, &def_types);
    for (uint32_t i = 0; i < n; i++) {
        l = 0;
        wasm_read_u32(&v->r, &l); /* checked above */
        uint32_t cnt;
        const uint8_t *types;
        label_types(&v->ctrls[v->nctrls - 1 - l], &cnt, &types);
        if (cnt != arity)
            return vfail(v, FL_ERR_INVALID,
                         "type mismatch: br_table label %u carries %u values, default %u", l,
                         cnt, arity);
        /* Pop then push back what was popped, so each label is checked
         * against the same stack (unknowns stay unknown). */
        uint8_t popped[16];
        uint8_t *buf = cnt <= sizeof popped ? popped : malloc(cnt);
        if (!buf)
            return vfail(v, FL_ERR_NOMEM, "out of memory");
        int rc = 0;
        for (uint32_t k = cnt; k > 0 && rc == 0; k--)
            rc = pop_expect(v, types[k - 1], &buf[k - 1]);
        for (uint32_t k = 0; k < cnt && rc == 0; k++)
            rc = push(v, buf[k]);
        if (buf != popped)
            free(buf);
        if (rc != 0)
            return rc;
    }
    TRY(pop_vals(v, def_types, arity));
    v->r = after;
    set_unreachable(v);
    return 0;
}

static int check_call(struct validator *v, const struct wasm_functype *ft)
{
    TRY(pop_vals(v, ft->types, ft->param_count));
    return push_vals(v, ft->types + ft->param_count, ft->result_count);
}

static int check_fc(struct validator *v)
{
    const struct wasm_module *m = v->m;
    uint32_t sub, x, y;
    READ(wasm_read_u32(&v->r, &sub));
    if (sub >= WASM_FC_COUNT)
        return vfail(v, FL_ERR_MALFORMED, "illegal opcode 0xfc %u", sub);
    switch (sub) {
    case WASM_OP_FC_MEMORY_INIT: {
        struct wasm_reader at_index = v->r;
        READ(wasm_read_u32(&v->r, &x));
        TRY(zero_byte(v));
        TRY(need_memory(v));
        struct wasm_reader after = v->r;
        v->r = at_index;
        TRY(read_data(v, &x));
        v->r = after;
        break;
    }
    case WASM_OP_FC_DATA_DROP:
        TRY(read_data(v, &x));
        break;
    case WASM_OP_FC_MEMORY_COPY:
        TRY(zero_byte(v));
        TRY(zero_byte(v));
        TRY(need_memory(v));
        break;
    case WASM_OP_FC_MEMORY_FILL:
        TRY(zero_byte(v));
        TRY(need_memory(v));
        break;
    case WASM_OP_FC_TABLE_INIT: {
        struct wasm_reader at_elem = v->r;
        READ(wasm_read_u32(&v->r, &y));
        TRY(read_table(v, &x)); /* the spec checks the table first */
        struct wasm_reader after = v->r;
        v->r = at_elem;
        TRY(read_elem(v, &y));
        v->r = after;
        if (m->elems[y].elem_type != m->tables[x].type.elem_type)
            return vfail(v, FL_ERR_INVALID, "type mismatch: elem segment %u is %s, table %u is %s",
                         y, wasm_valtype_name(m->elems[y].elem_type), x,
                         wasm_valtype_name(m->tables[x].type.elem_type));
        break;
    }
    case WASM_OP_FC_ELEM_DROP:
        TRY(read_elem(v, &x));
        break;
    case WASM_OP_FC_TABLE_COPY:
        TRY(read_table(v, &x));
        TRY(read_table(v, &y));
        if (m->tables[x].type.elem_type != m->tables[y].type.elem_type)
            return vfail(v, FL_ERR_INVALID, "type mismatch: table %u is %s, table %u is %s", x,
                         wasm_valtype_name(m->tables[x].type.elem_type), y,
                         wasm_valtype_name(m->tables[y].type.elem_type));
        break;
    case WASM_OP_FC_TABLE_GROW:
        TRY(read_table(v, &x));
        TRY(pop_expect(v, WASM_TYPE_I32, NULL));
        TRY(pop_expect(v, m->tables[x].type.elem_type, NULL));
        return push(v, WASM_TYPE_I32);
    case WASM_OP_FC_TABLE_SIZE:
        TRY(read_table(v, &x));
        break;
    case WASM_OP_FC_TABLE_FILL:
        TRY(read_table(v, &x));
        TRY(pop_expect(v, WASM_TYPE_I32, NULL));
        TRY(pop_expect(v, m->tables[x].type.elem_type, NULL));
        return pop_expect(v, WASM_TYPE_I32, NULL);
    default:
        break; /* saturating truncations: signature only */
    }
    return apply_sig(v, wasm_opinfo_fc[sub].sig);
}

/* A SIMD instruction: immediates checked by validate_simd.c, then its signature. */
static int check_fd(struct validator *v)
{
    uint32_t sub;
    struct wasm_simd_imm imm;
    char why[120];
    int rc = wasm_simd_read(&v->r, &sub, &imm, why, sizeof why);
    if (rc == WASM_SIMD_READ_FAIL)
        return read_fail(v);
    if (rc != 0)
        return vfail(v, rc, "%s", why);
    uint8_t kind = wasm_opinfo_fd[sub].imm;
    if (kind == WASM_IMM_MEMARG || kind == WASM_IMM_MEMARG_LANE)
        TRY(need_memory(v));
    return apply_sig(v, wasm_opinfo_fd[sub].sig);
}

/* An atomic instruction (threads): immediates checked by validate_atomic.c,
 * then its signature. */
static int check_fe(struct validator *v)
{
    uint32_t sub, align, offset;
    char why[120];
    if (!(v->d->features & WASM_FEATURE_THREADS))
        return vfail(v, FL_ERR_MALFORMED, "illegal opcode 0xfe (threads are disabled)");
    int rc = wasm_atomic_read(&v->r, &sub, &align, &offset, why, sizeof why);
    if (rc == WASM_ATOMIC_READ_FAIL)
        return read_fail(v);
    if (rc == FL_ERR_INVALID)
        TRY(need_memory(v)); /* "unknown memory" before the alignment */
    if (rc != 0)
        return vfail(v, rc, "%s", why);
    if (wasm_opinfo_fe[sub].imm == WASM_IMM_MEMARG)
        TRY(need_memory(v));
    return apply_sig(v, wasm_opinfo_fe[sub].sig);
}

/* Checks one instruction; *done is set when the function's final end is seen. */
static int check_instruction(struct validator *v, bool *done)
{
    const struct wasm_module *m = v->m;
    v->op_offset = wasm_reader_offset(&v->r);
    uint8_t op;
    READ(wasm_read_u8(&v->r, &op));
    uint32_t x, y, np, nr;
    const uint8_t *params, *results;
    uint8_t t1, t2;
    switch (op) {
    case WASM_OP_UNREACHABLE:
        set_unreachable(v);
        return 0;
    case WASM_OP_NOP:
        return 0;
    case WASM_OP_BLOCK:
    case WASM_OP_LOOP:
        TRY(read_blocktype(v, &np, &params, &nr, &results));
        TRY(pop_vals(v, params, np));
        return push_ctrl(v, op, np, params, nr, results);
    case WASM_OP_IF:
        TRY(read_blocktype(v, &np, &params, &nr, &results));
        TRY(pop_expect(v, WASM_TYPE_I32, NULL));
        TRY(pop_vals(v, params, np));
        return push_ctrl(v, op, np, params, nr, results);
    case WASM_OP_ELSE: {
        struct ctrl *c = &v->ctrls[v->nctrls - 1];
        if (c->opcode != WASM_OP_IF)
            return vfail(v, FL_ERR_INVALID, "else without matching if");
        TRY(check_frame_end(v));
        c->opcode = WASM_OP_ELSE;
        c->unreachable = false;
        return push_vals(v, c->params, c->param_count);
    }
    case WASM_OP_END: {
        struct ctrl *c = &v->ctrls[v->nctrls - 1];
        if (c->opcode == WASM_OP_IF) {
            /* A missing else behaves as an empty one: params must pass to results. */
            TRY(check_frame_end(v));
            c->unreachable = false;
            TRY(push_vals(v, c->params, c->param_count));
        }
        TRY(check_frame_end(v));
        struct ctrl done_frame = *c;
        v->nctrls--;
        if (v->nctrls == 0) {
            if (!wasm_reader_at_end(&v->r))
                return vfail(v, FL_ERR_MALFORMED,
                             "section size mismatch: %zu bytes after the end of the function",
                             wasm_reader_remaining(&v->r));
            *done = true;
            return 0;
        }
        return push_vals(v, done_frame.results, done_frame.result_count);
    }
    case WASM_OP_BR:
        TRY(read_label(v, &x));
        label_types(&v->ctrls[v->nctrls - 1 - x], &nr, &results);
        TRY(pop_vals(v, results, nr));
        set_unreachable(v);
        return 0;
    case WASM_OP_BR_IF:
        TRY(read_label(v, &x));
        TRY(pop_expect(v, WASM_TYPE_I32, NULL));
        label_types(&v->ctrls[v->nctrls - 1 - x], &nr, &results);
        TRY(pop_vals(v, results, nr));
        return push_vals(v, results, nr);
    case WASM_OP_BR_TABLE:
        return check_br_table(v);
    case WASM_OP_RETURN:
        TRY(pop_vals(v, v->type->types + v->type->param_count, v->type->result_count));
        set_unreachable(v);
        return 0;
    case WASM_OP_CALL:
        READ(wasm_read_u32(&v->r, &x));
        if (x >= m->func_count)
            return vfail(v, FL_ERR_INVALID, "unknown function %u", x);
        return check_call(v, wasm_module_func_type(m, x));
    case WASM_OP_CALL_INDIRECT:
        READ(wasm_read_u32(&v->r, &y));
        TRY(read_table(v, &x));
        if (y >= m->type_count)
            return vfail(v, FL_ERR_INVALID, "unknown type %u", y);
        if (m->tables[x].type.elem_type != WASM_TYPE_FUNCREF)
            return vfail(v, FL_ERR_INVALID, "type mismatch: call_indirect on table %u of %s", x,
                         wasm_valtype_name(m->tables[x].type.elem_type));
        TRY(pop_expect(v, WASM_TYPE_I32, NULL));
        return check_call(v, &m->types[y]);
    case WASM_OP_DROP:
        return pop(v, &t1);
    case WASM_OP_SELECT:
        TRY(pop_expect(v, WASM_TYPE_I32, NULL));
        TRY(pop(v, &t1));
        TRY(pop(v, &t2));
        if (wasm_is_reftype(t1) || wasm_is_reftype(t2))
            return vfail(v, FL_ERR_INVALID, "type mismatch: select without a type on %s",
                         wasm_valtype_name(wasm_is_reftype(t1) ? t1 : t2));
        if ((t1 == WASM_TYPE_V128) != (t2 == WASM_TYPE_V128) && t1 != WASM_TYPE_UNKNOWN &&
            t2 != WASM_TYPE_UNKNOWN)
            return vfail(v, FL_ERR_INVALID, "type mismatch: select on %s and %s",
                         wasm_valtype_name(t1), wasm_valtype_name(t2));
        if (t1 != t2 && t1 != WASM_TYPE_UNKNOWN && t2 != WASM_TYPE_UNKNOWN)
            return vfail(v, FL_ERR_INVALID, "type mismatch: select on %s and %s",
                         wasm_valtype_name(t1), wasm_valtype_name(t2));
        return push(v, t1 == WASM_TYPE_UNKNOWN ? t2 : t1);
    case WASM_OP_SELECT_T: {
        READ(wasm_read_u32(&v->r, &x));
        if (x > wasm_reader_remaining(&v->r))
            return read_fail(v);
        uint8_t t = 0;
        for (uint32_t i = 0; i < x; i++) {
            size_t at = wasm_reader_offset(&v->r);
            READ(wasm_read_u8(&v->r, &t));
            if (!wasm_valtype_decode(t)) {
                v->op_offset = at;
                return vfail(v, FL_ERR_MALFORMED, "malformed value type 0x%02x", t);
            }
        }
        if (x != 1)
            return vfail(v, FL_ERR_INVALID, "invalid result arity %u for select", x);
        TRY(pop_expect(v, WASM_TYPE_I32, NULL));
        TRY(pop_expect(v, t, NULL));
        TRY(pop_expect(v, t, NULL));
        return push(v, t);
    }
    case WASM_OP_LOCAL_GET:
    case WASM_OP_LOCAL_SET:
    case WASM_OP_LOCAL_TEE:
        READ(wasm_read_u32(&v->r, &x));
        if (x >= v->local_total)
            return vfail(v, FL_ERR_INVALID, "unknown local %u", x);
        t1 = local_type(v, x);
        if (op == WASM_OP_LOCAL_GET)
            return push(v, t1);
        TRY(pop_expect(v, t1, NULL));
        return op == WASM_OP_LOCAL_TEE ? push(v, t1) : 0;
    case WASM_OP_GLOBAL_GET:
    case WASM_OP_GLOBAL_SET:
        READ(wasm_read_u32(&v->r, &x));
        if (x >= m->global_count)
            return vfail(v, FL_ERR_INVALID, "unknown global %u", x);
        t1 = m->globals[x].type.type;
        if (op == WASM_OP_GLOBAL_GET)
            return push(v, t1);
        if (!m->globals[x].type.is_mutable)
            return vfail(v, FL_ERR_INVALID, "global is immutable: global %u", x);
        return pop_expect(v, t1, NULL);
    case WASM_OP_TABLE_GET:
        TRY(read_table(v, &x));
        TRY(pop_expect(v, WASM_TYPE_I32, NULL));
        return push(v, m->tables[x].type.elem_type);
    case WASM_OP_TABLE_SET:
        TRY(read_table(v, &x));
        TRY(pop_expect(v, m->tables[x].type.elem_type, NULL));
        return pop_expect(v, WASM_TYPE_I32, NULL);
    case WASM_OP_MEMORY_SIZE:
    case WASM_OP_MEMORY_GROW:
        TRY(zero_byte(v));
        TRY(need_memory(v));
        return apply_sig(v, wasm_opinfo_main[op].sig);
    case WASM_OP_I32_CONST: {
        int32_t c;
        READ(wasm_read_i32(&v->r, &c));
        return push(v, WASM_TYPE_I32);
    }
    case WASM_OP_I64_CONST: {
        int64_t c;
        READ(wasm_read_i64(&v->r, &c));
        return push(v, WASM_TYPE_I64);
    }
    case WASM_OP_F32_CONST:
        READ(wasm_read_f32_bits(&v->r, &x));
        return push(v, WASM_TYPE_F32);
    case WASM_OP_F64_CONST: {
        uint64_t c;
        READ(wasm_read_f64_bits(&v->r, &c));
        return push(v, WASM_TYPE_F64);
    }
    case WASM_OP_REF_NULL: {
        size_t at = wasm_reader_offset(&v->r);
        READ(wasm_read_u8(&v->r, &t1));
        if (!wasm_is_reftype(t1)) {
            v->op_offset = at;
            return vfail(v, FL_ERR_MALFORMED, "malformed reference type 0x%02x", t1);
        }
        return push(v, t1);
    }
    case WASM_OP_REF_IS_NULL:
        TRY(pop(v, &t1));
        if (!wasm_is_reftype(t1) && t1 != WASM_TYPE_UNKNOWN)
            return vfail(v, FL_ERR_INVALID, "type mismatch: ref.is_null on %s",
                         wasm_valtype_name(t1));
        return push(v, WASM_TYPE_I32);
    case WASM_OP_REF_FUNC:
        READ(wasm_read_u32(&v->r, &x));
        if (x >= m->func_count)
            return vfail(v, FL_ERR_INVALID, "unknown function %u", x);
        if (!(v->d->declared_funcs[x / 8] & (1u << (x % 8))))
            return vfail(v, FL_ERR_INVALID, "undeclared function reference %u", x);
        return push(v, WASM_TYPE_FUNCREF);
    case WASM_OP_PREFIX_FC:
        return check_fc(v);
    case WASM_OP_PREFIX_FD:
        return check_fd(v);
    case WASM_OP_PREFIX_FE:
        return check_fe(v);
    default:
        break;
    }
    const struct wasm_opinfo *info = &wasm_opinfo_main[op];
    if (!info->valid || !info->sig)
        return vfail(v, FL_ERR_MALFORMED, "illegal opcode 0x%02x", op);
    if (info->imm == WASM_IMM_MEMARG) {
        uint32_t align, offset;
        READ(wasm_read_u32(&v->r, &align));
        READ(wasm_read_u32(&v->r, &offset));
        TRY(need_memory(v));
        if (align > natural_align(op))
            return vfail(v, FL_ERR_INVALID,
                         "alignment must not be larger than natural (2^%u > %u bytes)", align,
                         1u << natural_align(op));
    }
    return apply_sig(v, info->sig);
}

int wasm_validate_function(struct wasm_decoder *d, uint32_t func_index)
{
    const struct wasm_module *m = d->module;
    struct validator v = {.d = d, .m = m, .func = &m->funcs[func_index], .func_index = func_index};
    v.type = wasm_module_func_type(m, func_index);
    wasm_reader_init(&v.r, m->bytes, v.func->body, v.func->body + v.func->body_size);
    v.op_offset = v.func->body_offset;
    uint64_t locals = (uint64_t)v.type->param_count + v.func->local_count;
    if (locals > WASM_MAX_LOCALS)
        return vfail(&v, FL_ERR_LIMIT, "too many locals: %llu (limit %u)",
                     (unsigned long long)locals, WASM_MAX_LOCALS);
    v.local_total = (uint32_t)locals;
    int rc = push_ctrl(&v, WASM_OP_BLOCK, 0, v.type->types, v.type->result_count,
                       v.type->types + v.type->param_count);
    bool done = false;
    while (rc == 0 && !done) {
        if (wasm_reader_at_end(&v.r)) {
            v.op_offset = wasm_reader_offset(&v.r);
            rc = vfail(&v, FL_ERR_MALFORMED,
                       "unexpected end of section or function (END opcode expected)");
            break;
        }
        rc = check_instruction(&v, &done);
    }
    free(v.vals);
    free(v.ctrls);
    return rc;
}
