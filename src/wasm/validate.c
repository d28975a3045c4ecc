/* validate.c: module-level validation after decoding: every index in range,
 * limits, constant expressions, element/data segments, start, unique export
 * names, and the set of functions that ref.func may name (C.refs). Function
 * bodies are checked afterwards by validate_code.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/opcodes.h"
#include "wasm/wasm_internal.h"

#define TRY(call)                                                                                  \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_ != 0)                                                                              \
            return rc_;                                                                            \
    } while (0)

static int invalid(struct wasm_decoder *d, const char *section, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int invalid(struct wasm_decoder *d, const char *section, const char *fmt, ...)
{
    char text[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    d->section = section;
    return wasm_decoder_fail(d, FL_ERR_INVALID, WASM_NO_OFFSET, "%s", text);
}

/* Checks a constant expression produces `expected`; `what` names its owner. */
static int check_const_expr(struct wasm_decoder *d, const char *section, const char *what,
                            struct wasm_const_expr *e, uint8_t expected)
{
    const struct wasm_module *m = d->module;
    if (e->opcode == WASM_OP_GLOBAL_GET) {
        /* 2.0: only imported globals are visible to constant expressions. */
        if (e->index >= m->import_global_count)
            return invalid(d, section, "%s: unknown global %u", what, e->index);
        if (m->globals[e->index].type.is_mutable)
            return invalid(d, section, "%s: constant expression required (global %u is mutable)",
                           what, e->index);
        e->type = m->globals[e->index].type.type;
    } else if (e->opcode == WASM_OP_REF_FUNC) {
        if (e->index >= m->func_count)
            return invalid(d, section, "%s: unknown function %u", what, e->index);
    }
    if (e->type != expected)
        return invalid(d, section, "%s: type mismatch: expected %s, got %s", what,
                       wasm_valtype_name(expected), wasm_valtype_name(e->type));
    return 0;
}

static int check_limits(struct wasm_decoder *d, const char *section, const char *what,
                        const struct wasm_limits *l, uint64_t bound, const char *bound_text)
{
    if (l->min > bound)
        return invalid(d, section, "%s: %s", what, bound_text);
    if (l->has_max && l->max > bound)
        return invalid(d, section, "%s: %s", what, bound_text);
    if (l->has_max && l->min > l->max)
        return invalid(d, section, "%s: size minimum must not be greater than maximum", what);
    return 0;
}

static void declare_func(struct wasm_decoder *d, const struct wasm_const_expr *e)
{
    if (e->opcode == WASM_OP_REF_FUNC && e->index < d->module->func_count)
        d->declared_funcs[e->index / 8] |= (uint8_t)(1u << (e->index % 8));
}

static int compare_exports(const void *a, const void *b)
{
    const struct wasm_export *x = *(const struct wasm_export *const *)a;
    const struct wasm_export *y = *(const struct wasm_export *const *)b;
    uint32_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->name, y->name, n);
    if (c != 0)
        return c;
    return (x->name_len > y->name_len) - (x->name_len < y->name_len);
}

static int check_exports(struct wasm_decoder *d)
{
    struct wasm_module *m = d->module;
    static const char *const kinds[] = {"function", "table", "memory", "global"};
    for (uint32_t i = 0; i < m->export_count; i++) {
        const struct wasm_export *e = &m->exports[i];
        uint32_t limit = e->kind == WASM_EXTERN_FUNC    ? m->func_count
                         : e->kind == WASM_EXTERN_TABLE  ? m->table_count
                         : e->kind == WASM_EXTERN_MEMORY ? m->memory_count
                                                         : m->global_count;
        if (e->index >= limit)
            return invalid(d, "export", "export \"%s\": unknown %s %u", e->name, kinds[e->kind],
                           e->index);
    }
    if (m->export_count < 2)
        return 0;
    const struct wasm_export **sorted = malloc(m->export_count * sizeof *sorted);
    if (!sorted)
        return wasm_decoder_fail(d, FL_ERR_NOMEM, WASM_NO_OFFSET, "out of memory");
    for (uint32_t i = 0; i < m->export_count; i++)
        sorted[i] = &m->exports[i];
    qsort(sorted, m->export_count, sizeof *sorted, compare_exports);
    int rc = 0;
    for (uint32_t i = 1; i < m->export_count; i++) {
        if (compare_exports(&sorted[i - 1], &sorted[i]) == 0) {
            rc = invalid(d, "export", "duplicate export name \"%s\"", sorted[i]->name);
            break;
        }
    }
    free(sorted);
    return rc;
}

int wasm_validate_module(struct wasm_decoder *d)
{
    struct wasm_module *m = d->module;
    char what[64];

    for (uint32_t i = 0; i < m->func_count; i++) {
        if (m->funcs[i].type_index >= m->type_count)
            return invalid(d, i < m->import_func_count ? "import" : "function",
                           "function %u: unknown type %u", i, m->funcs[i].type_index);
    }
    for (uint32_t i = 0; i < m->table_count; i++) {
        snprintf(what, sizeof what, "table %u", i);
        TRY(check_limits(d, i < m->import_table_count ? "import" : "table", what,
                         &m->tables[i].type.limits, UINT32_MAX,
                         "table size must be at most 2^32-1"));
    }
    if (m->memory_count > WASM_MAX_MEMORIES)
        return invalid(d, "memory", "multiple memories (%u)", m->memory_count);
    for (uint32_t i = 0; i < m->memory_count; i++) {
        const struct wasm_limits *l = &m->memories[i].limits;
        const char *section = i < m->import_memory_count ? "import" : "memory";
        snprintf(what, sizeof what, "memory %u", i);
        TRY(check_limits(d, section, what, l, WASM_MAX_PAGES,
                         "memory size must be at most 65536 pages (4GiB)"));
        if (l->shared && !l->has_max)
            return invalid(d, section, "%s: shared memory must have maximum", what);
    }

    /* C.refs: ref.func may only name functions referenced outside bodies. */
    d->declared_funcs = calloc((size_t)m->func_count / 8 + 1, 1);
    if (!d->declared_funcs)
        return wasm_decoder_fail(d, FL_ERR_NOMEM, WASM_NO_OFFSET, "out of memory");
    for (uint32_t i = m->import_global_count; i < m->global_count; i++)
        declare_func(d, &m->globals[i].init);
    for (uint32_t i = 0; i < m->elem_count; i++)
        for (uint32_t k = 0; k < m->elems[i].item_count; k++)
            declare_func(d, &m->elems[i].items[k]);
    for (uint32_t i = 0; i < m->export_count; i++) {
        const struct wasm_export *e = &m->exports[i];
        if (e->kind == WASM_EXTERN_FUNC && e->index < m->func_count)
            d->declared_funcs[e->index / 8] |= (uint8_t)(1u << (e->index % 8));
    }

    for (uint32_t i = m->import_global_count; i < m->global_count; i++) {
        struct wasm_global *g = &m->globals[i];
        snprintf(what, sizeof what, "global %u", i);
        TRY(check_const_expr(d, "global", what, &g->init, g->type.type));
    }
    TRY(check_exports(d));
    if (d->has_start) {
        if (m->start_func >= m->func_count)
            return invalid(d, "start", "unknown function %u", m->start_func);
        const struct wasm_functype *ft = wasm_module_func_type(m, m->start_func);
        if (ft->param_count != 0 || ft->result_count != 0)
            return invalid(d, "start", "start function %u must have type [] -> []",
                           m->start_func);
    }
    for (uint32_t i = 0; i < m->elem_count; i++) {
        struct wasm_elem *e = &m->elems[i];
        snprintf(what, sizeof what, "element segment %u", i);
        if (e->mode == WASM_SEGMENT_ACTIVE) {
            if (e->table_index >= m->table_count)
                return invalid(d, "element", "%s: unknown table %u", what, e->table_index);
            TRY(check_const_expr(d, "element", what, &e->offset, WASM_TYPE_I32));
            if (m->tables[e->table_index].type.elem_type != e->elem_type)
                return invalid(d, "element", "%s: type mismatch: table %u holds %s, segment %s",
                               what, e->table_index,
                               wasm_valtype_name(m->tables[e->table_index].type.elem_type),
                               wasm_valtype_name(e->elem_type));
        }
        for (uint32_t k = 0; k < e->item_count; k++)
            TRY(check_const_expr(d, "element", what, &e->items[k], e->elem_type));
    }
    for (uint32_t i = 0; i < m->data_count; i++) {
        struct wasm_data *seg = &m->datas[i];
        if (seg->mode != WASM_SEGMENT_ACTIVE)
            continue;
        snprintf(what, sizeof what, "data segment %u", i);
        if (seg->memory_index >= m->memory_count)
            return invalid(d, "data", "%s: unknown memory %u", what, seg->memory_index);
        TRY(check_const_expr(d, "data", what, &seg->offset, WASM_TYPE_I32));
    }
    return 0;
}
