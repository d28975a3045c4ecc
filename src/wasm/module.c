/* module.c: the wasm part's entry points: wasm_module_load runs the decoder,
 * the name reader and the validators in order; plus destroy, lookups, the
 * opcode info tables and message helpers shared by the passes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/opcodes.h"
#include "wasm/wasm_internal.h"

const struct wasm_opinfo wasm_opinfo_main[256] = {
#define WASM_OP_INFO(name, code, imm, sig) [code] = {true, WASM_IMM_##imm, sig, #name},
    WASM_OPCODES(WASM_OP_INFO)
#undef WASM_OP_INFO
};

const struct wasm_opinfo wasm_opinfo_fc[WASM_FC_COUNT] = {
#define WASM_OP_INFO(name, code, imm, sig) [code] = {true, WASM_IMM_##imm, sig, #name},
    WASM_OPCODES_FC(WASM_OP_INFO)
#undef WASM_OP_INFO
};

static void vformat(struct wasm_decoder *d, struct fl_error *out, int code, size_t offset,
                    const char *fmt, va_list ap)
{
    char text[200];
    vsnprintf(text, sizeof text, fmt, ap);
    const char *section = d->section ? d->section : "module";
    if (offset == WASM_NO_OFFSET)
        fl_error_set(out, code, "%s section: %s", section, text);
    else
        fl_error_set(out, code, "%s section: %s at offset 0x%zx", section, text, offset);
}

int wasm_decoder_fail(struct wasm_decoder *d, int code, size_t offset, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vformat(d, d->err, code, offset, fmt, ap);
    va_end(ap);
    return code;
}

void wasm_decoder_defer(struct wasm_decoder *d, int code, size_t offset, const char *fmt, ...)
{
    if (d->has_deferred)
        return;
    va_list ap;
    va_start(ap, fmt);
    vformat(d, &d->deferred, code, offset, fmt, ap);
    va_end(ap);
    d->has_deferred = true;
}

int wasm_decoder_read_fail(struct wasm_decoder *d, const struct wasm_reader *r)
{
    /* Readers are bounded by their section (or body): running out is the
     * spec's "unexpected end of section or function". */
    int status = r->status ? r->status : WASM_READ_END;
    return wasm_decoder_fail(d, FL_ERR_MALFORMED, wasm_reader_offset(r), "%s",
                             status == WASM_READ_END ? "unexpected end of section or function"
                                                     : wasm_read_status_text(status));
}

bool wasm_valtype_decode(uint8_t byte)
{
    switch (byte) {
    case WASM_TYPE_I32:
    case WASM_TYPE_I64:
    case WASM_TYPE_F32:
    case WASM_TYPE_F64:
    case WASM_TYPE_V128:
    case WASM_TYPE_FUNCREF:
    case WASM_TYPE_EXTERNREF:
        return true;
    default:
        return false;
    }
}

int wasm_module_load(const uint8_t *bytes, size_t size, struct wasm_module **out,
                     struct fl_error *err)
{
    return wasm_module_load_features(bytes, size, WASM_FEATURES_ALL, out, err);
}

int wasm_module_load_features(const uint8_t *bytes, size_t size, uint32_t features,
                              struct wasm_module **out, struct fl_error *err)
{
    *out = NULL;
    fl_error_clear(err);
    if (!bytes && size)
        return fl_error_set(err, FL_ERR_ARG, "wasm_module_load: NULL bytes");
    if (size > WASM_MAX_MODULE_SIZE)
        return fl_error_set(err, FL_ERR_LIMIT, "module is %zu bytes, more than the limit of %u",
                            size, WASM_MAX_MODULE_SIZE);
    struct wasm_module *m = calloc(1, sizeof *m);
    if (!m)
        return fl_error_set(err, FL_ERR_NOMEM, "out of memory loading module");
    m->bytes = malloc(size ? size : 1);
    if (!m->bytes) {
        free(m);
        return fl_error_set(err, FL_ERR_NOMEM, "out of memory copying module");
    }
    if (size)
        memcpy(m->bytes, bytes, size);
    m->size = size;
    m->start_func = WASM_NO_INDEX;

    struct fl_error local_err;
    struct wasm_decoder d = {.module = m, .err = err ? err : &local_err, .features = features};
    int rc = wasm_decode_module(&d);
    bool decoded = rc == 0; /* every body located, so bodies can be scanned */
    if (rc == 0 && d.has_deferred) {
        *d.err = d.deferred;
        rc = d.deferred.code;
    }
    if (rc == 0) {
        wasm_names_read(&d);
        rc = wasm_validate_module(&d);
    }
    uint32_t first_unchecked = m->import_func_count;
    for (; rc == 0 && first_unchecked < m->func_count; first_unchecked++) {
        rc = wasm_validate_function(&d, first_unchecked);
        if (rc != 0)
            break;
    }
    /* The spec decodes the whole binary before validating anything: if the
     * module is invalid, a malformed body later on must still win. */
    if (rc == FL_ERR_INVALID && decoded) {
        struct fl_error invalid = *d.err;
        for (uint32_t i = first_unchecked; i < m->func_count; i++) {
            if (wasm_scan_body(&d, i) != 0)
                break;
        }
        if (d.err->code != FL_ERR_MALFORMED)
            *d.err = invalid;
        rc = d.err->code;
    }
    free(d.declared_funcs);
    if (rc != 0) {
        wasm_module_destroy(m);
        return rc;
    }
    *out = m;
    return 0;
}

void wasm_module_destroy(struct wasm_module *m)
{
    if (!m)
        return;
    for (uint32_t i = 0; i < m->type_count; i++)
        free(m->types[i].types);
    free(m->types);
    for (uint32_t i = 0; i < m->import_count; i++) {
        free(m->imports[i].module_name);
        free(m->imports[i].name);
    }
    free(m->imports);
    for (uint32_t i = 0; i < m->func_count; i++) {
        free(m->funcs[i].local_types);
        free((void *)m->funcs[i].name);
    }
    free(m->funcs);
    free(m->tables);
    free(m->memories);
    free(m->globals);
    for (uint32_t i = 0; i < m->export_count; i++)
        free(m->exports[i].name);
    free(m->exports);
    for (uint32_t i = 0; i < m->elem_count; i++)
        free(m->elems[i].items);
    free(m->elems);
    free(m->datas);
    free(m->name);
    free(m->bytes);
    free(m);
}

uint32_t wasm_module_export_get(const struct wasm_module *m, const char *name, uint8_t kind)
{
    if (!m || !name)
        return WASM_NO_INDEX;
    size_t len = strlen(name);
    for (uint32_t i = 0; i < m->export_count; i++) {
        const struct wasm_export *e = &m->exports[i];
        if (e->kind == kind && e->name_len == len && memcmp(e->name, name, len) == 0)
            return e->index;
    }
    return WASM_NO_INDEX;
}

const struct wasm_functype *wasm_module_func_type(const struct wasm_module *m, uint32_t func_index)
{
    if (!m || func_index >= m->func_count || m->funcs[func_index].type_index >= m->type_count)
        return NULL;
    return &m->types[m->funcs[func_index].type_index];
}

const char *wasm_module_func_name(const struct wasm_module *m, uint32_t func_index, char *buf,
                                  size_t n)
{
    if (!buf || n == 0)
        return buf;
    if (m && func_index < m->func_count && m->funcs[func_index].name)
        snprintf(buf, n, "%s", m->funcs[func_index].name);
    else
        snprintf(buf, n, "func[%u]", func_index);
    return buf;
}

bool wasm_functype_equal(const struct wasm_functype *a, const struct wasm_functype *b)
{
    if (a == b)
        return true;
    if (!a || !b || a->param_count != b->param_count || a->result_count != b->result_count)
        return false;
    size_t n = (size_t)a->param_count + a->result_count;
    return n == 0 || memcmp(a->types, b->types, n) == 0;
}

const char *wasm_valtype_name(uint8_t type)
{
    switch (type) {
    case WASM_TYPE_I32: return "i32";
    case WASM_TYPE_I64: return "i64";
    case WASM_TYPE_F32: return "f32";
    case WASM_TYPE_F64: return "f64";
    case WASM_TYPE_V128: return "v128";
    case WASM_TYPE_FUNCREF: return "funcref";
    case WASM_TYPE_EXTERNREF: return "externref";
    case WASM_TYPE_UNKNOWN: return "unknown";
    default: return "invalid type";
    }
}
