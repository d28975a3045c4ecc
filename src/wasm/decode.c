/* decode.c: the binary format -> struct wasm_module, syntax only.
 * Every count is checked against a WASM_MAX_* limit and the bytes left before
 * anything is allocated; indices are stored raw and checked by validate.c.
 * Function bodies are located here and walked by validate_code.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/opcodes.h"
#include "wasm/wasm_internal.h"

/* Caps on what a small input may expand into (local types, element items),
 * beyond the per-item limits of wasm.h. */
#define WASM_MAX_TOTAL_LOCALS (1u << 26)
#define WASM_MAX_TOTAL_ELEM_ITEMS WASM_MAX_TABLE_SIZE

#define READ(r, call)                                                                              \
    do {                                                                                           \
        if (!(call))                                                                               \
            return wasm_decoder_read_fail(d, (r));                                                 \
    } while (0)

#define TRY(call)                                                                                  \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_ != 0)                                                                              \
            return rc_;                                                                            \
    } while (0)

/* Position within the whole module, for messages. */
static size_t off(const struct wasm_reader *r)
{
    return wasm_reader_offset(r);
}

static int nomem(struct wasm_decoder *d, const struct wasm_reader *r)
{
    return wasm_decoder_fail(d, FL_ERR_NOMEM, off(r), "out of memory");
}

/* Reads a vector length: at most `limit`, and each element needs at least
 * `min_size` bytes, so the count cannot exceed what is left. */
static int read_count(struct wasm_decoder *d, struct wasm_reader *r, uint32_t limit,
                      size_t min_size, const char *what, uint32_t *out)
{
    size_t at = off(r);
    READ(r, wasm_read_u32(r, out));
    if (*out > limit)
        return wasm_decoder_fail(d, FL_ERR_LIMIT, at, "too many %s: %u (limit %u)", what, *out,
                                 limit);
    if ((uint64_t)*out * min_size > wasm_reader_remaining(r))
        return wasm_decoder_fail(d, FL_ERR_MALFORMED, at,
                                 "unexpected end of section or function: %u %s cannot fit in %zu "
                                 "bytes",
                                 *out, what, wasm_reader_remaining(r));
    return 0;
}

/* Grows an array of `count` elements of `size` bytes to `new_count`,
 * zeroing the new part. */
static void *grow(void *ptr, size_t count, size_t new_count, size_t size)
{
    size_t bytes = new_count * size;
    void *p = realloc(ptr, bytes ? bytes : 1);
    if (p && new_count > count)
        memset((char *)p + count * size, 0, (new_count - count) * size);
    return p;
}

/* A name: length-prefixed UTF-8, copied and NUL-terminated. */
static int read_name(struct wasm_decoder *d, struct wasm_reader *r, char **out, uint32_t *len_out)
{
    size_t at = off(r);
    uint32_t len;
    READ(r, wasm_read_u32(r, &len));
    if (len > wasm_reader_remaining(r))
        return wasm_decoder_fail(d, FL_ERR_MALFORMED, at, "length out of bounds: name of %u bytes, %zu left",
                                 len, wasm_reader_remaining(r));
    if (len > WASM_MAX_NAME)
        return wasm_decoder_fail(d, FL_ERR_LIMIT, at, "name too long: %u bytes (limit %u)", len,
                                 WASM_MAX_NAME);
    const uint8_t *bytes;
    READ(r, wasm_read_bytes(r, len, &bytes));
    if (!wasm_utf8_valid(bytes, len))
        return wasm_decoder_fail(d, FL_ERR_MALFORMED, at, "malformed UTF-8 encoding");
    char *s = malloc((size_t)len + 1);
    if (!s)
        return nomem(d, r);
    memcpy(s, bytes, len);
    s[len] = '\0';
    *out = s;
    *len_out = len;
    return 0;
}

static int read_valtype(struct wasm_decoder *d, struct wasm_reader *r, uint8_t *out)
{
    size_t at = off(r);
    READ(r, wasm_read_u8(r, out));
    if (!wasm_valtype_decode(*out))
        return wasm_decoder_fail(d, FL_ERR_MALFORMED, at, "malformed value type 0x%02x", *out);
    return 0;
}

static int read_reftype(struct wasm_decoder *d, struct wasm_reader *r, uint8_t *out)
{
    size_t at = off(r);
    READ(r, wasm_read_u8(r, out));
    if (!wasm_is_reftype(*out))
        return wasm_decoder_fail(d, FL_ERR_MALFORMED, at, "malformed reference type 0x%02x",
                                 *out);
    return 0;
}

/* Limits. Flags: 0 = min, 1 = min+max, 3 = shared min+max (threads; memories
 * only). Sizes are u32 in 2.0; range checks are validation's job. */
static int read_limits(struct wasm_decoder *d, struct wasm_reader *r, bool memory,
                       struct wasm_limits *out)
{
    size_t at = off(r);
    uint8_t flags;
    READ(r, wasm_read_u8(r, &flags));
    if (flags & 0x80)
        return wasm_decoder_fail(d, FL_ERR_MALFORMED, at,
                                 "integer representation too long: limits flags 0x%02x", flags);
    /* Flags 2 and 3 (shared) exist for memories with threads; 2 (no maximum)
     * then decodes and validation rejects it, as the threads proposal says. */
    bool shared_ok = memory && (d->features & WASM_FEATURE_THREADS);
    if (flags > 3 || (flags > 1 && !shared_ok))
        return wasm_decoder_fail(d, FL_ERR_MALFORMED, at,
                                 "integer too large: malformed limits flags 0x%02x", flags);
    uint32_t v;
    READ(r, wasm_read_u32(r, &v));
    out->min = v;
    out->has_max = flags & 1;
    out->shared = flags & 2;
    out->max = 0;
    if (out->has_max) {
        READ(r, wasm_read_u32(r, &v));
        out->max = v;
    }
    return 0;
}

static int read_globaltype(struct wasm_decoder *d, struct wasm_reader *r,
                           struct wasm_globaltype *out)
{
    TRY(read_valtype(d, r, &out->type));
    size_t at = off(r);
    uint8_t mut;
    READ(r, wasm_read_u8(r, &mut));
    if (mut > 1)
        return wasm_decoder_fail(d, FL_ERR_MALFORMED, at, "malformed mutability 0x%02x", mut);
    out->is_mutable = mut;
    return 0;
}

/* A block type: 0x40, a value type, or a non-negative s33 type index. */
static int skip_blocktype(struct wasm_decoder *d, struct wasm_reader *r)
{
    size_t at = off(r);
    if (wasm_reader_at_end(r))
        return wasm_decoder_read_fail(d, r);
    uint8_t b = *r->pos;
    if (b == 0x40 || wasm_valtype_decode(b)) {
        r->pos++;
        return 0;
    }
    int64_t idx;
    READ(r, wasm_read_s33(r, &idx));
    if (idx < 0)
        return wasm_decoder_fail(d, FL_ERR_MALFORMED, at, "malformed block type");
    return 0;
}

/* Skips the immediates of an instruction with immediate kind imm. Used where
 * instructions are only stepped over (non-constant constant expressions). */
static int skip_immediates(struct wasm_decoder *d, struct wasm_reader *r, int imm)
{
    uint32_t u;
    int32_t i32;
    int64_t i64;
    uint8_t b;
    switch (imm) {
    case WASM_IMM_NONE:
        return 0;
    case WASM_IMM_BLOCK:
        return skip_blocktype(d, r);
    case WASM_IMM_LABEL:
    case WASM_IMM_FUNC:
    case WASM_IMM_LOCAL:
    case WASM_IMM_GLOBAL:
    case WASM_IMM_TABLE:
    case WASM_IMM_DATA:
    case WASM_IMM_ELEM:
        READ(r, wasm_read_u32(r, &u));
        return 0;
    case WASM_IMM_BR_TABLE: {
        uint32_t n;
        TRY(read_count(d, r, UINT32_MAX, 1, "labels", &n));
        for (uint64_t k = 0; k <= n; k++)
            READ(r, wasm_read_u32(r, &u));
        return 0;
    }
    case WASM_IMM_CALL_INDIRECT:
    case WASM_IMM_MEMARG:
    case WASM_IMM_TABLE_INIT:
    case WASM_IMM_TABLE_COPY:
        READ(r, wasm_read_u32(r, &u));
        READ(r, wasm_read_u32(r, &u));
        return 0;
    case WASM_IMM_MEMORY_INIT:
        READ(r, wasm_read_u32(r, &u));
        /* then a reserved zero byte, like memory.size */
        __attribute__((fallthrough));
    case WASM_IMM_MEMORY:
    case WASM_IMM_MEMORY_COPY:
        for (int k = imm == WASM_IMM_MEMORY_COPY ? 2 : 1; k > 0; k--) {
            size_t at = off(r);
            READ(r, wasm_read_u8(r, &b));
            if (b != 0)
                return wasm_decoder_fail(d, FL_ERR_MALFORMED, at, "zero byte expected");
        }
        return 0;
    case WASM_IMM_I32:
        READ(r, wasm_read_i32(r, &i32));
        return 0;
    case WASM_IMM_I64:
        READ(r, wasm_read_i64(r, &i64));
        return 0;
    case WASM_IMM_F32:
        READ(r, wasm_read_f32_bits(r, &u));
        return 0;
    case WASM_IMM_F64: {
        uint64_t v;
        READ(r, wasm_read_f64_bits(r, &v));
        return 0;
    }
    case WASM_IMM_SELECT_T: {
        uint32_t n;
        TRY(read_count(d, r, UINT32_MAX, 1, "types", &n));
        for (uint32_t k = 0; k < n; k++)
            TRY(read_valtype(d, r, &b));
        return 0;
    }
    case WASM_IMM_REFTYPE:
        return read_reftype(d, r, &b);
    default:
        return wasm_decoder_fail(d, FL_ERR_INTERNAL, off(r), "unknown immediate kind %d", imm);
    }
}

/* A constant expression: one constant instruction then `end`. Anything else
 * that still decodes is an (deferred) validation error, as in the spec. */
static int read_const_expr(struct wasm_decoder *d, struct wasm_reader *r,
                           struct wasm_const_expr *e)
{
    uint32_t count = 0, depth = 0;
    memset(e, 0, sizeof *e);
    size_t start = off(r);
    for (;;) {
        size_t at = off(r);
        uint8_t op;
        READ(r, wasm_read_u8(r, &op));
        if (op == WASM_OP_END) {
            if (depth == 0)
                break;
            depth--;
            continue;
        }
        count++;
        struct wasm_const_expr tmp = {.opcode = op};
        switch (op) {
        case WASM_OP_I32_CONST: {
            int32_t v;
            READ(r, wasm_read_i32(r, &v));
            tmp.type = WASM_TYPE_I32;
            tmp.value.i32 = (uint32_t)v;
            break;
        }
        case WASM_OP_I64_CONST: {
            int64_t v;
            READ(r, wasm_read_i64(r, &v));
            tmp.type = WASM_TYPE_I64;
            tmp.value.i64 = (uint64_t)v;
            break;
        }
        case WASM_OP_F32_CONST:
            READ(r, wasm_read_f32_bits(r, &tmp.value.i32));
            tmp.type = WASM_TYPE_F32;
            break;
        case WASM_OP_F64_CONST:
            READ(r, wasm_read_f64_bits(r, &tmp.value.i64));
            tmp.type = WASM_TYPE_F64;
            break;
        case WASM_OP_GLOBAL_GET:
            READ(r, wasm_read_u32(r, &tmp.index));
            tmp.type = WASM_TYPE_UNKNOWN; /* the global's; set by validation */
            break;
        case WASM_OP_REF_NULL:
            TRY(read_reftype(d, r, &tmp.type));
            break;
        case WASM_OP_REF_FUNC:
            READ(r, wasm_read_u32(r, &tmp.index));
            tmp.type = WASM_TYPE_FUNCREF;
            break;
        case WASM_OP_PREFIX_FD: {
            uint32_t sub;
            struct wasm_simd_imm imm;
            char why[120];
            int simd = wasm_simd_read(r, &sub, &imm, why, sizeof why);
            if (simd == WASM_SIMD_READ_FAIL)
                return wasm_decoder_read_fail(d, r);
            if (simd == FL_ERR_MALFORMED)
                return wasm_decoder_fail(d, FL_ERR_MALFORMED, at, "%s", why);
            if (sub != WASM_OP_FD_V128_CONST) {
                wasm_decoder_defer(d, FL_ERR_INVALID, at, "constant expression required");
                break;
            }
            tmp.opcode = WASM_CONST_V128;
            tmp.type = WASM_TYPE_V128;
            memcpy(tmp.value.v128, imm.bytes, 16);
            break;
        }
        case WASM_OP_PREFIX_FC: {
            uint32_t sub;
            READ(r, wasm_read_u32(r, &sub));
            if (sub >= WASM_FC_COUNT)
                return wasm_decoder_fail(d, FL_ERR_MALFORMED, at, "illegal opcode 0xfc %u", sub);
            TRY(skip_immediates(d, r, wasm_opinfo_fc[sub].imm));
            wasm_decoder_defer(d, FL_ERR_INVALID, at, "constant expression required");
            break;
        }
        case WASM_OP_PREFIX_FE: {
            uint32_t sub, align, offset;
            char why[120];
            int fe = wasm_atomic_read(r, &sub, &align, &offset, why, sizeof why);
            if (fe == WASM_ATOMIC_READ_FAIL)
                return wasm_decoder_read_fail(d, r);
            if (fe == FL_ERR_MALFORMED)
                return wasm_decoder_fail(d, FL_ERR_MALFORMED, at, "%s", why);
            wasm_decoder_defer(d, FL_ERR_INVALID, at, "constant expression required");
            break;
        }
        default:
            if (!wasm_opinfo_main[op].valid)
                return wasm_decoder_fail(d, FL_ERR_MALFORMED, at, "illegal opcode 0x%02x", op);
            TRY(skip_immediates(d, r, wasm_opinfo_main[op].imm));
            if (op == WASM_OP_BLOCK || op == WASM_OP_LOOP || op == WASM_OP_IF)
                depth++;
            wasm_decoder_defer(d, FL_ERR_INVALID, at, "constant expression required");
            break;
        }
        if (count == 1)
            *e = tmp;
    }
    if (count != 1)
        wasm_decoder_defer(d, FL_ERR_INVALID, start,
                           "type mismatch: constant expression must produce one value, has %u "
                           "instructions",
                           count);
    return 0;
}

int wasm_scan_body(struct wasm_decoder *d, uint32_t func_index)
{
    const struct wasm_func *f = &d->module->funcs[func_index];
    struct wasm_reader r;
    wasm_reader_init(&r, d->module->bytes, f->body, f->body + f->body_size);
    d->section = "code";
    uint32_t depth = 1;
    int rc = 0;
    while (rc == 0 && depth > 0) {
        size_t at = off(&r);
        uint8_t op;
        if (!wasm_read_u8(&r, &op)) {
            rc = wasm_decoder_fail(d, FL_ERR_MALFORMED, at,
                                   "unexpected end of section or function");
            break;
        }
        if (op == WASM_OP_END) {
            depth--;
        } else if (op == WASM_OP_BLOCK || op == WASM_OP_LOOP || op == WASM_OP_IF) {
            depth++;
            rc = skip_immediates(d, &r, WASM_IMM_BLOCK);
        } else if (op == WASM_OP_PREFIX_FC) {
            uint32_t sub;
            if (!wasm_read_u32(&r, &sub))
                rc = wasm_decoder_read_fail(d, &r);
            else if (sub >= WASM_FC_COUNT)
                rc = wasm_decoder_fail(d, FL_ERR_MALFORMED, at, "illegal opcode 0xfc %u", sub);
            else
                rc = skip_immediates(d, &r, wasm_opinfo_fc[sub].imm);
        } else if (op == WASM_OP_PREFIX_FD) {
            uint32_t sub;
            struct wasm_simd_imm imm;
            char why[120];
            int simd = wasm_simd_read(&r, &sub, &imm, why, sizeof why);
            if (simd == WASM_SIMD_READ_FAIL)
                rc = wasm_decoder_read_fail(d, &r);
            else if (simd == FL_ERR_MALFORMED)
                rc = wasm_decoder_fail(d, FL_ERR_MALFORMED, at, "%s", why);
        } else if (op == WASM_OP_PREFIX_FE) {
            uint32_t sub, align, offset;
            char why[120];
            int fe = wasm_atomic_read(&r, &sub, &align, &offset, why, sizeof why);
            if (fe == WASM_ATOMIC_READ_FAIL)
                rc = wasm_decoder_read_fail(d, &r);
            else if (fe == FL_ERR_MALFORMED)
                rc = wasm_decoder_fail(d, FL_ERR_MALFORMED, at, "%s", why);
        } else if (!wasm_opinfo_main[op].valid) {
            rc = wasm_decoder_fail(d, FL_ERR_MALFORMED, at, "illegal opcode 0x%02x", op);
        } else {
            rc = skip_immediates(d, &r, wasm_opinfo_main[op].imm);
        }
    }
    if (rc == 0 && !wasm_reader_at_end(&r))
        rc = wasm_decoder_fail(d, FL_ERR_MALFORMED, off(&r),
                               "section size mismatch: %zu bytes after the end of the function",
                               wasm_reader_remaining(&r));
    if (rc != 0) {
        char text[sizeof d->err->msg];
        snprintf(text, sizeof text, "%s", d->err->msg + strlen("code section: "));
        fl_error_set(d->err, rc, "code section: function %u: %s", func_index, text);
    }
    return rc;
}

static int decode_types(struct wasm_decoder *d, struct wasm_reader *r)
{
    struct wasm_module *m = d->module;
    uint32_t n;
    TRY(read_count(d, r, WASM_MAX_TYPES, 1, "types", &n));
    m->types = calloc(n ? n : 1, sizeof *m->types);
    if (!m->types)
        return nomem(d, r);
    m->type_count = n;
    for (uint32_t i = 0; i < n; i++) {
        size_t at = off(r);
        uint8_t form;
        READ(r, wasm_read_u8(r, &form));
        if (form != 0x60)
            return wasm_decoder_fail(d, FL_ERR_MALFORMED, at,
                                     "integer representation too long: type %u is not a "
                                     "function type (0x%02x)",
                                     i, form);
        uint32_t np, nr;
        TRY(read_count(d, r, WASM_MAX_PARAMS, 1, "params", &np));
        const uint8_t *params = r->pos;
        for (uint32_t k = 0; k < np; k++) {
            uint8_t t;
            TRY(read_valtype(d, r, &t));
        }
        TRY(read_count(d, r, WASM_MAX_RESULTS, 1, "results", &nr));
        const uint8_t *results = r->pos;
        for (uint32_t k = 0; k < nr; k++) {
            uint8_t t;
            TRY(read_valtype(d, r, &t));
        }
        struct wasm_functype *ft = &m->types[i];
        ft->types = malloc((size_t)np + nr + 1);
        if (!ft->types)
            return nomem(d, r);
        memcpy(ft->types, params, np);
        memcpy(ft->types + np, results, nr);
        ft->param_count = np;
        ft->result_count = nr;
    }
    return 0;
}

static int decode_imports(struct wasm_decoder *d, struct wasm_reader *r)
{
    struct wasm_module *m = d->module;
    uint32_t n;
    TRY(read_count(d, r, WASM_MAX_IMPORTS, 1, "imports", &n));
    size_t cap = n ? n : 1;
    m->imports = calloc(cap, sizeof *m->imports);
    m->funcs = calloc(cap, sizeof *m->funcs);
    m->tables = calloc(cap, sizeof *m->tables);
    m->memories = calloc(cap, sizeof *m->memories);
    m->globals = calloc(cap, sizeof *m->globals);
    if (!m->imports || !m->funcs || !m->tables || !m->memories || !m->globals)
        return nomem(d, r);
    for (uint32_t i = 0; i < n; i++) {
        struct wasm_import *im = &m->imports[i];
        m->import_count = i + 1;
        TRY(read_name(d, r, &im->module_name, &im->module_name_len));
        TRY(read_name(d, r, &im->name, &im->name_len));
        size_t at = off(r);
        READ(r, wasm_read_u8(r, &im->kind));
        switch (im->kind) {
        case WASM_EXTERN_FUNC: {
            struct wasm_func *f = &m->funcs[m->func_count];
            READ(r, wasm_read_u32(r, &f->type_index));
            f->import_index = i;
            im->index = m->func_count++;
            m->import_func_count++;
            break;
        }
        case WASM_EXTERN_TABLE: {
            struct wasm_table *t = &m->tables[m->table_count];
            TRY(read_reftype(d, r, &t->type.elem_type));
            TRY(read_limits(d, r, false, &t->type.limits));
            t->import_index = i;
            im->index = m->table_count++;
            m->import_table_count++;
            break;
        }
        case WASM_EXTERN_MEMORY: {
            struct wasm_memory *mem = &m->memories[m->memory_count];
            TRY(read_limits(d, r, true, &mem->limits));
            mem->import_index = i;
            im->index = m->memory_count++;
            m->import_memory_count++;
            break;
        }
        case WASM_EXTERN_GLOBAL: {
            struct wasm_global *g = &m->globals[m->global_count];
            TRY(read_globaltype(d, r, &g->type));
            g->import_index = i;
            im->index = m->global_count++;
            m->import_global_count++;
            break;
        }
        default:
            return wasm_decoder_fail(d, FL_ERR_MALFORMED, at, "malformed import kind 0x%02x",
                                     im->kind);
        }
    }
    return 0;
}

static int decode_functions(struct wasm_decoder *d, struct wasm_reader *r)
{
    struct wasm_module *m = d->module;
    uint32_t n;
    TRY(read_count(d, r, WASM_MAX_FUNCS - m->import_func_count, 1, "functions", &n));
    struct wasm_func *funcs = grow(m->funcs, m->func_count, (size_t)m->func_count + n,
                                   sizeof *funcs);
    if (!funcs)
        return nomem(d, r);
    m->funcs = funcs;
    for (uint32_t i = 0; i < n; i++) {
        struct wasm_func *f = &funcs[m->func_count];
        READ(r, wasm_read_u32(r, &f->type_index));
        f->import_index = WASM_NO_INDEX;
        m->func_count++;
    }
    d->defined_func_count = n;
    d->has_function_section = true;
    return 0;
}

static int decode_tables(struct wasm_decoder *d, struct wasm_reader *r)
{
    struct wasm_module *m = d->module;
    uint32_t n;
    TRY(read_count(d, r, WASM_MAX_TABLES - m->table_count, 1, "tables", &n));
    struct wasm_table *t = grow(m->tables, m->table_count, (size_t)m->table_count + n, sizeof *t);
    if (!t)
        return nomem(d, r);
    m->tables = t;
    for (uint32_t i = 0; i < n; i++) {
        struct wasm_table *tab = &t[m->table_count];
        TRY(read_reftype(d, r, &tab->type.elem_type));
        TRY(read_limits(d, r, false, &tab->type.limits));
        tab->import_index = WASM_NO_INDEX;
        m->table_count++;
    }
    return 0;
}

static int decode_memories(struct wasm_decoder *d, struct wasm_reader *r)
{
    struct wasm_module *m = d->module;
    uint32_t n;
    /* 2.0 allows one memory, but counting more is validation's job. */
    TRY(read_count(d, r, WASM_MAX_TABLES - m->memory_count, 1, "memories", &n));
    struct wasm_memory *mems = grow(m->memories, m->memory_count, (size_t)m->memory_count + n,
                                    sizeof *mems);
    if (!mems)
        return nomem(d, r);
    m->memories = mems;
    for (uint32_t i = 0; i < n; i++) {
        struct wasm_memory *mem = &mems[m->memory_count];
        TRY(read_limits(d, r, true, &mem->limits));
        mem->import_index = WASM_NO_INDEX;
        m->memory_count++;
    }
    return 0;
}

static int decode_globals(struct wasm_decoder *d, struct wasm_reader *r)
{
    struct wasm_module *m = d->module;
    uint32_t n;
    TRY(read_count(d, r, WASM_MAX_GLOBALS - m->global_count, 1, "globals", &n));
    struct wasm_global *g = grow(m->globals, m->global_count, (size_t)m->global_count + n,
                                 sizeof *g);
    if (!g)
        return nomem(d, r);
    m->globals = g;
    for (uint32_t i = 0; i < n; i++) {
        struct wasm_global *gl = &g[m->global_count];
        TRY(read_globaltype(d, r, &gl->type));
        TRY(read_const_expr(d, r, &gl->init));
        gl->import_index = WASM_NO_INDEX;
        m->global_count++;
    }
    return 0;
}

static int decode_exports(struct wasm_decoder *d, struct wasm_reader *r)
{
    struct wasm_module *m = d->module;
    uint32_t n;
    TRY(read_count(d, r, WASM_MAX_EXPORTS, 1, "exports", &n));
    m->exports = calloc(n ? n : 1, sizeof *m->exports);
    if (!m->exports)
        return nomem(d, r);
    for (uint32_t i = 0; i < n; i++) {
        struct wasm_export *e = &m->exports[i];
        m->export_count = i + 1;
        TRY(read_name(d, r, &e->name, &e->name_len));
        size_t at = off(r);
        READ(r, wasm_read_u8(r, &e->kind));
        if (e->kind > WASM_EXTERN_GLOBAL)
            return wasm_decoder_fail(d, FL_ERR_MALFORMED, at, "malformed export kind 0x%02x",
                                     e->kind);
        READ(r, wasm_read_u32(r, &e->index));
    }
    return 0;
}

static int decode_start(struct wasm_decoder *d, struct wasm_reader *r)
{
    READ(r, wasm_read_u32(r, &d->module->start_func));
    d->has_start = true;
    return 0;
}

static int decode_elems(struct wasm_decoder *d, struct wasm_reader *r)
{
    struct wasm_module *m = d->module;
    uint32_t n;
    uint64_t total_items = 0;
    TRY(read_count(d, r, WASM_MAX_SEGMENTS, 1, "element segments", &n));
    m->elems = calloc(n ? n : 1, sizeof *m->elems);
    if (!m->elems)
        return nomem(d, r);
    for (uint32_t i = 0; i < n; i++) {
        struct wasm_elem *e = &m->elems[i];
        m->elem_count = i + 1;
        size_t at = off(r);
        uint32_t flags;
        READ(r, wasm_read_u32(r, &flags));
        if (flags > 7)
            return wasm_decoder_fail(d, FL_ERR_MALFORMED, at,
                                     "malformed elements segment kind %u", flags);
        /* bit 0: passive/declarative (else active); bit 1: explicit table
         * index (active) or declarative; bit 2: items are expressions. */
        e->elem_type = WASM_TYPE_FUNCREF;
        e->table_index = 0;
        if (flags & 1)
            e->mode = (flags & 2) ? WASM_SEGMENT_DECLARATIVE : WASM_SEGMENT_PASSIVE;
        else
            e->mode = WASM_SEGMENT_ACTIVE;
        if (e->mode == WASM_SEGMENT_ACTIVE) {
            if (flags & 2)
                READ(r, wasm_read_u32(r, &e->table_index));
            TRY(read_const_expr(d, r, &e->offset));
        }
        bool exprs = flags & 4;
        if (flags & 3) { /* elemkind or reftype present */
            if (exprs) {
                TRY(read_reftype(d, r, &e->elem_type));
            } else {
                size_t kat = off(r);
                uint8_t kind;
                READ(r, wasm_read_u8(r, &kind));
                if (kind != 0x00)
                    return wasm_decoder_fail(d, FL_ERR_MALFORMED, kat,
                                             "malformed elements segment kind 0x%02x", kind);
            }
        }
        uint32_t count;
        TRY(read_count(d, r, WASM_MAX_TABLE_SIZE, 1, "element items", &count));
        total_items += count;
        if (total_items > WASM_MAX_TOTAL_ELEM_ITEMS)
            return wasm_decoder_fail(d, FL_ERR_LIMIT, at, "too many element items in module");
        e->items = calloc(count ? count : 1, sizeof *e->items);
        if (!e->items)
            return nomem(d, r);
        e->item_count = count;
        for (uint32_t k = 0; k < count; k++) {
            struct wasm_const_expr *item = &e->items[k];
            if (exprs) {
                TRY(read_const_expr(d, r, item));
            } else {
                item->opcode = WASM_OP_REF_FUNC;
                item->type = WASM_TYPE_FUNCREF;
                READ(r, wasm_read_u32(r, &item->index));
            }
        }
    }
    return 0;
}

static int decode_datacount(struct wasm_decoder *d, struct wasm_reader *r)
{
    READ(r, wasm_read_u32(r, &d->module->data_count));
    d->module->has_data_count = true;
    return 0;
}

static int decode_code(struct wasm_decoder *d, struct wasm_reader *r)
{
    struct wasm_module *m = d->module;
    size_t at = off(r);
    uint32_t n;
    READ(r, wasm_read_u32(r, &n));
    if (n != d->defined_func_count)
        return wasm_decoder_fail(d, FL_ERR_MALFORMED, at,
                                 "function and code section have inconsistent lengths (%u "
                                 "functions, %u bodies)",
                                 d->defined_func_count, n);
    d->has_code_section = true;
    uint64_t total_locals = 0;
    for (uint32_t i = 0; i < n; i++) {
        struct wasm_func *f = &m->funcs[m->import_func_count + i];
        size_t body_at = off(r);
        uint32_t size;
        READ(r, wasm_read_u32(r, &size));
        if (size > wasm_reader_remaining(r))
            return wasm_decoder_fail(d, FL_ERR_MALFORMED, body_at,
                                     "unexpected end: body of function %u has %u bytes, %zu "
                                     "left",
                                     m->import_func_count + i, size, wasm_reader_remaining(r));
        struct wasm_reader br;
        wasm_reader_init(&br, r->base, r->pos, r->pos + size);
        r->pos += size;

        /* Locals come as (count, type) groups: sum them first, so a huge
         * count is refused before anything is allocated. */
        uint32_t groups;
        TRY(read_count(d, &br, UINT32_MAX, 1, "local groups", &groups));
        const uint8_t *groups_start = br.pos;
        uint64_t sum = 0;
        for (uint32_t g = 0; g < groups; g++) {
            uint32_t cnt;
            uint8_t t;
            READ(&br, wasm_read_u32(&br, &cnt));
            TRY(read_valtype(d, &br, &t));
            sum += cnt;
        }
        if (sum > UINT32_MAX)
            return wasm_decoder_fail(d, FL_ERR_MALFORMED, body_at,
                                     "too many locals in function %u",
                                     m->import_func_count + i);
        if (sum > WASM_MAX_LOCALS)
            return wasm_decoder_fail(d, FL_ERR_LIMIT, body_at,
                                     "too many locals in function %u: %llu (limit %u)",
                                     m->import_func_count + i, (unsigned long long)sum,
                                     WASM_MAX_LOCALS);
        total_locals += sum;
        if (total_locals > WASM_MAX_TOTAL_LOCALS)
            return wasm_decoder_fail(d, FL_ERR_LIMIT, body_at, "too many locals in module");
        f->local_types = malloc(sum ? sum : 1);
        if (!f->local_types)
            return nomem(d, r);
        f->local_count = (uint32_t)sum;
        struct wasm_reader lr;
        wasm_reader_init(&lr, br.base, groups_start, br.pos);
        uint32_t k = 0;
        for (uint32_t g = 0; g < groups; g++) {
            uint32_t cnt = 0;
            uint8_t t = 0;
            wasm_read_u32(&lr, &cnt); /* already checked above */
            wasm_read_u8(&lr, &t);
            memset(f->local_types + k, t, cnt);
            k += cnt;
        }
        f->body = br.pos;
        f->body_size = (uint32_t)wasm_reader_remaining(&br);
        f->body_offset = (uint32_t)off(&br);
    }
    return 0;
}

static int decode_datas(struct wasm_decoder *d, struct wasm_reader *r)
{
    struct wasm_module *m = d->module;
    size_t at = off(r);
    uint32_t n;
    TRY(read_count(d, r, WASM_MAX_SEGMENTS, 1, "data segments", &n));
    if (m->has_data_count && n != m->data_count)
        return wasm_decoder_fail(d, FL_ERR_MALFORMED, at,
                                 "data count and data section have inconsistent lengths (%u, %u)",
                                 m->data_count, n);
    m->datas = calloc(n ? n : 1, sizeof *m->datas);
    if (!m->datas)
        return nomem(d, r);
    m->data_count = n;
    for (uint32_t i = 0; i < n; i++) {
        struct wasm_data *seg = &m->datas[i];
        size_t fat = off(r);
        uint32_t flags;
        READ(r, wasm_read_u32(r, &flags));
        if (flags > 2)
            return wasm_decoder_fail(d, FL_ERR_MALFORMED, fat, "malformed data segment kind %u",
                                     flags);
        seg->mode = flags == 1 ? WASM_SEGMENT_PASSIVE : WASM_SEGMENT_ACTIVE;
        seg->memory_index = 0;
        if (flags == 2)
            READ(r, wasm_read_u32(r, &seg->memory_index));
        if (flags != 1)
            TRY(read_const_expr(d, r, &seg->offset));
        size_t lat = off(r);
        uint32_t size;
        READ(r, wasm_read_u32(r, &size));
        if (size > wasm_reader_remaining(r))
            return wasm_decoder_fail(d, FL_ERR_MALFORMED, lat,
                                     "unexpected end of section or function: data segment %u "
                                     "has %u bytes, %zu left",
                                     i, size, wasm_reader_remaining(r));
        READ(r, wasm_read_bytes(r, size, &seg->bytes));
        seg->size = size;
    }
    return 0;
}

static int decode_custom(struct wasm_decoder *d, struct wasm_reader *r)
{
    char *name;
    uint32_t len;
    TRY(read_name(d, r, &name, &len));
    bool is_name = len == 4 && memcmp(name, "name", 4) == 0;
    free(name);
    if (is_name && !d->name_section) {
        d->name_section = r->pos;
        d->name_section_size = wasm_reader_remaining(r);
    }
    r->pos = r->end; /* contents are opaque */
    return 0;
}

/* Section ids in the order they must appear (data count sits before code). */
static int section_rank(uint8_t id)
{
    static const int8_t rank[13] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 10};
    return id < 13 ? rank[id] : -1;
}

static const char *section_name(uint8_t id)
{
    static const char *const names[13] = {"custom", "type",    "import", "function", "table",
                                          "memory", "global",  "export", "start",    "element",
                                          "code",   "data",    "data count"};
    return id < 13 ? names[id] : "unknown";
}

int wasm_decode_module(struct wasm_decoder *d)
{
    struct wasm_module *m = d->module;
    struct wasm_reader r;
    wasm_reader_init(&r, m->bytes, m->bytes, m->bytes + m->size);
    d->section = "header";
    static const uint8_t magic[4] = {0x00, 0x61, 0x73, 0x6D};
    static const uint8_t version[4] = {0x01, 0x00, 0x00, 0x00};
    if (m->size < 4)
        return wasm_decoder_fail(d, FL_ERR_MALFORMED, 0, "unexpected end: no magic header");
    if (memcmp(m->bytes, magic, 4) != 0)
        return wasm_decoder_fail(d, FL_ERR_MALFORMED, 0, "magic header not detected");
    if (m->size < 8)
        return wasm_decoder_fail(d, FL_ERR_MALFORMED, 4, "unexpected end: no binary version");
    if (memcmp(m->bytes + 4, version, 4) != 0)
        return wasm_decoder_fail(d, FL_ERR_MALFORMED, 4, "unknown binary version");
    r.pos += 8;

    int last_rank = 0;
    while (!wasm_reader_at_end(&r)) {
        size_t at = off(&r);
        uint8_t id;
        d->section = "module";
        READ(&r, wasm_read_u8(&r, &id));
        int rank = section_rank(id);
        if (rank < 0)
            return wasm_decoder_fail(d, FL_ERR_MALFORMED, at, "malformed section id %u", id);
        d->section = section_name(id);
        uint32_t size;
        READ(&r, wasm_read_u32(&r, &size));
        if (size > wasm_reader_remaining(&r))
            return wasm_decoder_fail(d, FL_ERR_MALFORMED, at,
                                     "length out of bounds: section size %u, %zu bytes left (unexpected end)", size,
                                     wasm_reader_remaining(&r));
        if (rank > 0) {
            if (rank <= last_rank)
                return wasm_decoder_fail(d, FL_ERR_MALFORMED, at,
                                         rank == last_rank
                                             ? "unexpected content after last section "
                                               "(duplicate section)"
                                             : "unexpected content after last section "
                                               "(section out of order)");
            last_rank = rank;
        }
        struct wasm_reader sr;
        wasm_reader_init(&sr, r.base, r.pos, r.pos + size);
        r.pos += size;
        int rc;
        switch (id) {
        case 0: rc = decode_custom(d, &sr); break;
        case 1: rc = decode_types(d, &sr); break;
        case 2: rc = decode_imports(d, &sr); break;
        case 3: rc = decode_functions(d, &sr); break;
        case 4: rc = decode_tables(d, &sr); break;
        case 5: rc = decode_memories(d, &sr); break;
        case 6: rc = decode_globals(d, &sr); break;
        case 7: rc = decode_exports(d, &sr); break;
        case 8: rc = decode_start(d, &sr); break;
        case 9: rc = decode_elems(d, &sr); break;
        case 10: rc = decode_code(d, &sr); break;
        case 11: rc = decode_datas(d, &sr); break;
        default: rc = decode_datacount(d, &sr); break;
        }
        if (rc != 0)
            return rc;
        if (!wasm_reader_at_end(&sr))
            return wasm_decoder_fail(d, FL_ERR_MALFORMED, off(&sr),
                                     "section size mismatch: %zu bytes left over",
                                     wasm_reader_remaining(&sr));
    }
    d->section = "module";
    if (d->defined_func_count > 0 && !d->has_code_section)
        return wasm_decoder_fail(d, FL_ERR_MALFORMED, off(&r),
                                 "function and code section have inconsistent lengths (%u "
                                 "functions, no code section)",
                                 d->defined_func_count);
    if (m->has_data_count && m->data_count > 0 && !m->datas)
        return wasm_decoder_fail(d, FL_ERR_MALFORMED, off(&r),
                                 "data count and data section have inconsistent lengths (%u, "
                                 "no data section)",
                                 m->data_count);
    /* Make every index space array exist, so later passes need no NULL checks. */
    if (!m->funcs)
        m->funcs = calloc(1, sizeof *m->funcs);
    if (!m->tables)
        m->tables = calloc(1, sizeof *m->tables);
    if (!m->memories)
        m->memories = calloc(1, sizeof *m->memories);
    if (!m->globals)
        m->globals = calloc(1, sizeof *m->globals);
    if (!m->funcs || !m->tables || !m->memories || !m->globals)
        return nomem(d, &r);
    return 0;
}
