/* host_faasm.c: the non-state `env.__faasm_*` imports of docs/GUEST-API.md
 * (input, output, chaining, await, configuration flags, backtrace) as host
 * functions of one Faaslet, and the definition of every faasm import into
 * its linker (the state ones come from host_state.c, or stand-ins that trap
 * with a clear message when this build or Faaslet has no state store). */
#include "faaslet/faaslet_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STRING 1024 /* a guest string must end within this many bytes */

static int misuse(struct runtime_exec *exec, const char *import, const char *what)
{
    snprintf(exec->trap_msg, sizeof exec->trap_msg, "%s: %s", import, what);
    return RUNTIME_TRAP_HOST;
}

static struct runtime_memory *memory_of(struct runtime_instance *caller)
{
    return caller && caller->module->memory_count ? caller->memories[0] : NULL;
}

/* Guest buffer [ptr, ptr+len) or NULL (len < 0 or out of memory). */
static uint8_t *guest_buf(struct runtime_instance *caller, uint64_t ptr_cell, uint64_t len_cell,
                          int32_t *len_out)
{
    int32_t len = (int32_t)(uint32_t)len_cell;
    struct runtime_memory *m = memory_of(caller);
    if (len < 0 || !m)
        return NULL;
    *len_out = len;
    uint8_t *p = runtime_memory_ptr(m, (uint32_t)ptr_cell, (uint32_t)len);
    return p;
}

/* Guest NUL-terminated string, or NULL. */
static const char *guest_string(struct runtime_instance *caller, uint64_t ptr_cell)
{
    struct runtime_memory *m = memory_of(caller);
    if (!m)
        return NULL;
    uint32_t ptr = (uint32_t)ptr_cell;
    uint64_t size = atomic_load(&m->size);
    if (ptr >= size)
        return NULL;
    uint64_t avail = size - ptr < MAX_STRING ? size - ptr : MAX_STRING;
    const char *s = (const char *)m->base + ptr;
    return memchr(s, 0, avail) ? s : NULL;
}

static int host_read_input(struct runtime_exec *exec, struct runtime_instance *caller,
                           uint64_t *cells, void *data)
{
    struct faaslet *f = data;
    const struct faaslet_call *c = f->call;
    int32_t len;
    if ((int32_t)(uint32_t)cells[1] == 0) {
        cells[0] = (uint32_t)c->input_len;
        return RUNTIME_OK;
    }
    uint8_t *buf = guest_buf(caller, cells[0], cells[1], &len);
    if (!buf)
        return misuse(exec, "__faasm_read_input", "buffer outside memory or negative length");
    size_t n = c->input_len < (size_t)len ? c->input_len : (size_t)len;
    if (n)
        memcpy(buf, c->input, n);
    cells[0] = (uint32_t)n;
    return RUNTIME_OK;
}

static int host_write_output(struct runtime_exec *exec, struct runtime_instance *caller,
                             uint64_t *cells, void *data)
{
    struct faaslet *f = data;
    int32_t len;
    uint8_t *buf = guest_buf(caller, cells[0], cells[1], &len);
    if (!buf)
        return misuse(exec, "__faasm_write_output", "buffer outside memory or negative length");
    uint8_t *copy = malloc(len ? (size_t)len : 1);
    if (!copy)
        return misuse(exec, "__faasm_write_output", "out of host memory");
    memcpy(copy, buf, (size_t)len);
    free(f->call->output);
    f->call->output = copy;
    f->call->output_len = (size_t)len;
    return RUNTIME_OK;
}

static int chain(struct runtime_exec *exec, struct runtime_instance *caller, uint64_t *cells,
                 struct faaslet *f, const char *name, int32_t ptr, const char *import)
{
    int32_t len;
    uint8_t *input = guest_buf(caller, cells[1], cells[2], &len);
    if (!input)
        return misuse(exec, import, "input outside memory or negative length");
    const struct faaslet_host *h = f->call->host;
    uint32_t id = 0;
    if (h && h->chain && (!name || name[0]))
        id = h->chain(h->data, name, ptr, input, (uint32_t)len);
    cells[0] = id;
    return RUNTIME_OK;
}

static int host_chain_name(struct runtime_exec *exec, struct runtime_instance *caller,
                           uint64_t *cells, void *data)
{
    const char *name = guest_string(caller, cells[0]);
    if (!name)
        return misuse(exec, "__faasm_chain_name", "name is not a string in memory");
    return chain(exec, caller, cells, data, name, -1, "__faasm_chain_name");
}

static int host_chain_ptr(struct runtime_exec *exec, struct runtime_instance *caller,
                          uint64_t *cells, void *data)
{
    return chain(exec, caller, cells, data, NULL, (int32_t)(uint32_t)cells[0], "__faasm_chain_ptr");
}

/* Shared by both awaits; buf NULL: no output wanted. */
static int await_common(struct runtime_exec *exec, struct faaslet *f, uint32_t id, uint8_t *buf,
                        int32_t len, uint64_t *cells)
{
    const struct faaslet_host *h = f->call->host;
    if (id == 0 || !h || !h->await) {
        cells[0] = id == 0 ? 1u : (uint32_t)-1;
        return RUNTIME_OK;
    }
    int32_t ret = 1;
    uint8_t *out = NULL;
    size_t out_len = 0;
    int rc = h->await(h->data, exec, id, &ret, buf ? &out : NULL, buf ? &out_len : NULL);
    if (rc == RUNTIME_TRAP_INTERRUPTED) {
        free(out);
        return RUNTIME_TRAP_INTERRUPTED;
    }
    if (rc != 0) {
        cells[0] = (uint32_t)-1;
        free(out);
        return RUNTIME_OK;
    }
    if (buf && out) {
        size_t n = out_len < (size_t)len ? out_len : (size_t)len;
        if (n)
            memcpy(buf, out, n);
    }
    free(out);
    cells[0] = (uint32_t)ret;
    return RUNTIME_OK;
}

static int host_await_call(struct runtime_exec *exec, struct runtime_instance *caller,
                           uint64_t *cells, void *data)
{
    (void)caller;
    return await_common(exec, data, (uint32_t)cells[0], NULL, 0, cells);
}

static int host_await_call_output(struct runtime_exec *exec, struct runtime_instance *caller,
                                  uint64_t *cells, void *data)
{
    int32_t len;
    uint8_t *buf = guest_buf(caller, cells[1], cells[2], &len);
    if (!buf)
        return misuse(exec, "__faasm_await_call_output", "buffer outside memory or negative length");
    /* A zero-length buffer still needs a non-NULL marker to ask for output. */
    return await_common(exec, data, (uint32_t)cells[0], buf, len, cells);
}

static int host_conf_flag(struct runtime_exec *exec, struct runtime_instance *caller,
                          uint64_t *cells, void *data)
{
    struct faaslet *f = data;
    const char *key = guest_string(caller, cells[0]);
    if (!key)
        return misuse(exec, "__faasm_conf_flag", "key is not a string in memory");
    const struct faaslet_host *h = f->call->host;
    cells[0] = h && h->conf_flag && h->conf_flag(h->data, key) ? 1 : 0;
    return RUNTIME_OK;
}

static int host_backtrace(struct runtime_exec *exec, struct runtime_instance *caller,
                          uint64_t *cells, void *data)
{
    /* The interpreter keeps no walkable frame list yet; the contract lets
     * the host do nothing here. */
    (void)exec, (void)caller, (void)cells, (void)data;
    return RUNTIME_OK;
}

/* Stand-in for a state import when no state store is available: fails the
 * call loudly rather than pretending the state exists. */
static int host_no_state(struct runtime_exec *exec, struct runtime_instance *caller,
                         uint64_t *cells, void *data)
{
    (void)caller, (void)cells;
    snprintf(exec->trap_msg, sizeof exec->trap_msg,
             "%s: state is not available (no state store in this runtime)", (const char *)data);
    return RUNTIME_TRAP_HOST;
}

struct import_def {
    const char *name;
    const char *sig; /* params ':' results, 'i' = i32 */
    runtime_host_fn fn;
};

static const struct import_def core_imports[] = {
    {"__faasm_read_input", "ii:i", host_read_input},
    {"__faasm_write_output", "ii:", host_write_output},
    {"__faasm_chain_name", "iii:i", host_chain_name},
    {"__faasm_chain_ptr", "iii:i", host_chain_ptr},
    {"__faasm_await_call", "i:i", host_await_call},
    {"__faasm_await_call_output", "iii:i", host_await_call_output},
    {"__faasm_conf_flag", "i:i", host_conf_flag},
    {"__faasm_backtrace", "i:", host_backtrace},
};

static const struct import_def state_imports[] = {
    {"__faasm_read_state", "iii:i", NULL},
    {"__faasm_read_state_ptr", "ii:i", NULL},
    {"__faasm_write_state", "iii:", NULL},
    {"__faasm_write_state_from_file", "ii:i", NULL},
    {"__faasm_read_state_offset", "iiiii:", NULL},
    {"__faasm_read_state_offset_ptr", "iiii:i", NULL},
    {"__faasm_write_state_offset", "iiiii:", NULL},
    {"__faasm_flag_state_dirty", "ii:", NULL},
    {"__faasm_flag_state_offset_dirty", "iiii:", NULL},
    {"__faasm_append_state", "iii:", NULL},
    {"__faasm_read_appended_state", "iiii:", NULL},
    {"__faasm_clear_appended_state", "i:", NULL},
    {"__faasm_push_state", "i:", NULL},
    {"__faasm_push_state_partial", "i:", NULL},
    {"__faasm_push_state_partial_mask", "ii:", NULL},
    {"__faasm_pull_state", "ii:", NULL},
    {"__faasm_lock_state_read", "i:", NULL},
    {"__faasm_unlock_state_read", "i:", NULL},
    {"__faasm_lock_state_write", "i:", NULL},
    {"__faasm_unlock_state_write", "i:", NULL},
    {"__faasm_lock_state_global", "i:", NULL},
    {"__faasm_unlock_state_global", "i:", NULL},
};

static int define_one(struct faaslet *f, struct runtime_linker *linker,
                      const struct import_def *d, runtime_host_fn fn, void *data,
                      struct fl_error *err)
{
    uint8_t types[16];
    uint32_t params = 0, results = 0;
    const char *colon = strchr(d->sig, ':');
    for (const char *p = d->sig; *p; p++)
        if (*p == 'i') {
            types[params + results] = WASM_TYPE_I32;
            if (p < colon)
                params++;
            else
                results++;
        }
    struct wasm_functype type = {.param_count = params, .result_count = results, .types = types};
    struct runtime_func *func = runtime_host_func_create(f->store, &type, fn, data, d->name);
    if (!func)
        return fl_error_set(err, FL_ERR_NOMEM, "faaslet: out of memory defining %s", d->name);
    struct runtime_extern ext = {.kind = WASM_EXTERN_FUNC, .as.func = func};
    if (runtime_linker_define(linker, "env", d->name, &ext))
        return fl_error_set(err, FL_ERR_NOMEM, "faaslet: out of memory defining %s", d->name);
    return FL_OK;
}

int faaslet_host_define(struct faaslet *f, struct runtime_linker *linker, struct fl_error *err)
{
    for (size_t i = 0; i < sizeof core_imports / sizeof core_imports[0]; i++) {
        int rc = define_one(f, linker, &core_imports[i], core_imports[i].fn, f, err);
        if (rc)
            return rc;
    }
#ifdef FL_HAVE_HOST_STATE
    if (f->proto->config.state) {
        int rc = faaslet_state_ctx_init(&f->state, f->proto->config.state, f->wasi, err);
        if (rc)
            return rc;
        f->state_ready = true;
        return faaslet_host_state_define(linker, f->store, &f->state, err);
    }
#endif
    for (size_t i = 0; i < sizeof state_imports / sizeof state_imports[0]; i++) {
        int rc = define_one(f, linker, &state_imports[i], host_no_state,
                            (void *)state_imports[i].name, err);
        if (rc)
            return rc;
    }
    return FL_OK;
}
