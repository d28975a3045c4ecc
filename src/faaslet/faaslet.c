/* faaslet.c: a Faaslet's life: restored from a proto-faaslet (a clone of
 * its template instance in the proto's store + a WASI context + the
 * snapshot's memory, globals and tables), one call at a time, and a reset to
 * the snapshot after each call so nothing of a call (memory, globals, tables,
 * open files, state mappings) reaches the next. The template itself is built
 * here too, by a full instantiation through a linker. */
#define _GNU_SOURCE
#include "faaslet/faaslet_internal.h"
#include "runtime/snapshot.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct runtime_func *export_func(struct runtime_instance *in, const char *name,
                                        uint32_t params, uint32_t results)
{
    struct runtime_extern ext;
    if (!runtime_instance_export(in, name, &ext) || ext.kind != WASM_EXTERN_FUNC)
        return NULL;
    const struct wasm_functype *t = ext.as.func->type;
    if (t->param_count != params || t->result_count != results)
        return NULL;
    for (uint32_t i = 0; i < params + results; i++)
        if (t->types[i] != WASM_TYPE_I32)
            return NULL;
    return ext.as.func;
}

/* Fresh WASI context: argv = [function], stdio inherited, root preopened. */
static struct wasi_ctx *new_wasi(struct faaslet_proto *proto, uint32_t argc,
                                 const char *const *argv, struct fl_error *err)
{
    const char *def[1] = {proto->function};
    struct wasi_ctx *w = wasi_ctx_create(argc ? argc : 1, argc ? argv : def, 0, NULL, err);
    if (w && proto->config.root_dir &&
        wasi_ctx_add_preopen(w, proto->config.root_dir, "/", err) != FL_OK) {
        wasi_ctx_destroy(w);
        return NULL;
    }
    return w;
}

static void remember_fds(struct faaslet *f)
{
    f->pristine_fd_count = f->wasi->fd_count < 8 ? f->wasi->fd_count : 8;
    for (uint32_t i = 0; i < f->pristine_fd_count; i++)
        f->pristine_fds[i] = f->wasi->fds[i].host_fd;
}

/* An execution context in proto's store; its value stack comes per call. */
static void exec_setup(struct faaslet *f)
{
    memset(&f->exec, 0, sizeof f->exec);
    f->exec.store = f->proto->store;
    f->exec.max_depth = 10000;
}

int faaslet_own_stack(struct faaslet *f, struct fl_error *err)
{
    uint32_t cells = f->proto->config.stack_cells ? f->proto->config.stack_cells : 1u << 20;
    if (!f->own_stack) {
        f->own_stack = calloc(cells, sizeof *f->own_stack);
        if (!f->own_stack)
            return fl_error_set(err, FL_ERR_NOMEM,
                                "faaslet: cannot allocate a value stack of %u cells", cells);
    }
    f->exec.stack = f->own_stack;
    f->exec.stack_end = f->own_stack + cells;
    return FL_OK;
}

struct faaslet *faaslet_instantiate(struct faaslet_proto *proto, struct fl_error *err)
{
    struct faaslet *f = calloc(1, sizeof *f);
    if (!f) {
        fl_error_set(err, FL_ERR_NOMEM, "faaslet: out of memory");
        return NULL;
    }
    f->proto = proto;
    f->idle_call.func_ptr = -1;
    f->call = &f->idle_call;
    f->store = proto->store;
    exec_setup(f);
    struct runtime_linker *linker = NULL;
    if (faaslet_own_stack(f, err))
        goto fail;
    f->wasi = new_wasi(proto, 0, NULL, err);
    if (!f->wasi)
        goto fail;
    remember_fds(f);
    linker = runtime_linker_create(f->store);
    if (!linker) {
        fl_error_set(err, FL_ERR_NOMEM, "faaslet: out of memory");
        goto fail;
    }
    if (wasi_define_imports(linker, f->store, f->wasi, err) || faaslet_host_define(f, linker, err))
        goto fail;
    int rc = proto->aot ? runtime_linker_instantiate(linker, proto->module, &aot_tier, proto->aot,
                                                     &f->exec, &f->instance, err)
                        : runtime_linker_instantiate(linker, proto->module, &interp_tier,
                                                     proto->code, &f->exec, &f->instance, err);
    if (rc) {
        fl_error_prefix(err, "%s/%s", proto->user, proto->function);
        goto fail;
    }
    runtime_linker_destroy(linker);
    f->instance->user_data = f;
    f->start = export_func(f->instance, "_start", 0, 0);
    f->call_ptr = export_func(f->instance, "_faasm_call_ptr", 1, 1);
    f->init = export_func(f->instance, "_faasm_init", 0, 0);
    f->zygote = export_func(f->instance, "_faasm_zygote", 0, 1);
    return f;
fail:
    runtime_linker_destroy(linker);
    faaslet_destroy(f);
    return NULL;
}

void faaslet_destroy(struct faaslet *f)
{
    if (!f)
        return;
#ifdef FL_HAVE_HOST_STATE
    if (f->state_ready) {
        /* Detach shared state pages from the memory before its slot is
         * reused (a call abandoned mid-way may still have some mapped). */
        faaslet_state_call_end(&f->state, f->memory);
        faaslet_state_ctx_fini(&f->state);
    }
#endif
    if (f->cloned) {
        runtime_instance_replica_free(f->instance);
        runtime_memory_pool_give(f->proto->pool, f->memory, f->pristine);
    }
    free(f->own_stack);
    wasi_ctx_destroy(f->wasi);
    free(f);
}

/* Puts the WASI context back to how the snapshot saw it: argv as given,
 * files the call opened closed (the context is rebuilt if its table moved). */
static int reset_wasi(struct faaslet *f, uint32_t argc, const char *const *argv,
                      struct fl_error *err)
{
    struct wasi_ctx *w = f->wasi;
    bool clean = w->fd_count == f->pristine_fd_count;
    for (uint32_t i = 0; clean && i < w->fd_count; i++)
        clean = w->fds[i].host_fd == f->pristine_fds[i] && !w->fds[i].dir;
    if (clean && argc == 0 && w->arg_count == 1 && !strcmp(w->args[0], f->proto->function)) {
        w->exited = false;
        w->exit_code = 0;
        return FL_OK;
    }
    struct wasi_ctx *fresh = new_wasi(f->proto, argc, argv, err);
    if (!fresh)
        return FL_ERR_NOMEM;
    /* The imports hold w as their host data: keep the pointer, swap the
     * contents, and free the old contents through the fresh shell. */
    struct wasi_ctx tmp = *w;
    *w = *fresh;
    *fresh = tmp;
    wasi_ctx_destroy(fresh);
    remember_fds(f);
    return FL_OK;
}

static void apply_snapshot_objects(struct faaslet *f)
{
    struct faaslet_proto *p = f->proto;
    const struct wasm_module *m = p->module;
    struct runtime_instance *in = f->instance;
    for (uint32_t i = m->import_global_count; i < m->global_count; i++)
        memcpy(in->globals[i]->cells, p->globals[i - m->import_global_count],
               sizeof in->globals[i]->cells);
    for (uint32_t t = m->import_table_count; t < m->table_count; t++) {
        const struct faaslet_table_snapshot *s = &p->tables[t - m->import_table_count];
        struct runtime_table *table = in->tables[t];
        /* Tables only grow, so the array holds at least the snapshot's size. */
        table->size = s->size;
        for (uint32_t j = 0; j < s->size; j++)
            table->elems[j] = s->funcs[j] < 0 ? 0 : (uintptr_t)in->funcs[s->funcs[j]];
    }
    if (m->elem_count)
        memcpy(in->elem_dropped, p->elem_dropped, m->elem_count);
    if (m->data_count)
        memcpy(in->data_dropped, p->data_dropped, m->data_count);
}

int faaslet_reset(struct faaslet *f, struct fl_error *err)
{
    struct faaslet_proto *p = f->proto;
    f->pristine = false;
    if (f->instance->module->memory_count && !f->fresh_memory) {
        struct runtime_memory *mem = f->instance->memories[0];
        int rc = p->copy_restore
                     ? runtime_memory_restore_pages(mem, p->memory_bytes, p->page_offsets,
                                                    p->page_data, p->page_count, err)
                     : runtime_memory_map_cow(mem, p->memfd, p->memory_bytes, err);
        if (rc)
            return rc;
    }
    f->fresh_memory = false;
    apply_snapshot_objects(f);
    int rc = reset_wasi(f, 0, NULL, err);
    /* Only the copying restore leaves memory the same for every Faaslet
     * (copy-on-write maps carry private pages of their own). */
    f->pristine = rc == FL_OK && p->copy_restore;
    return rc;
}

static struct runtime_func *func_at(struct runtime_instance *in, int64_t index)
{
    return index < 0 ? NULL : in->funcs[index];
}

struct faaslet *faaslet_create(struct faaslet_proto *proto, struct fl_error *err)
{
    struct faaslet *f = calloc(1, sizeof *f);
    if (!f) {
        fl_error_set(err, FL_ERR_NOMEM, "faaslet: out of memory");
        return NULL;
    }
    f->proto = proto;
    f->idle_call.func_ptr = -1;
    f->call = &f->idle_call;
    f->store = proto->store;
    exec_setup(f);
    f->wasi = new_wasi(proto, 0, NULL, err);
    if (!f->wasi)
        goto fail;
    remember_fds(f);
    if (proto->module->memory_count) {
        f->memory = runtime_memory_pool_take(proto->pool, &f->fresh_memory, err);
        if (!f->memory)
            goto fail;
        f->fresh_memory = f->fresh_memory && proto->copy_restore;
    }
    f->instance = runtime_instance_replica(proto->tmpl->instance, proto->imports, f->memory, err);
    if (!f->instance) {
        runtime_memory_pool_give(proto->pool, f->memory, f->fresh_memory);
        goto fail;
    }
    f->cloned = true;
    f->instance->user_data = f;
    /* Compiled code reaches globals, memory and tables through a context
     * of the instance's own: the template's would run on its memory. */
    if (proto->aot && runtime_instance_replica_tier_init(f->instance, err))
        goto fail;
    f->start = func_at(f->instance, proto->start_index);
    f->call_ptr = func_at(f->instance, proto->call_ptr_index);
    f->init = func_at(f->instance, proto->init_index);
    f->zygote = func_at(f->instance, proto->zygote_index);
#ifdef FL_HAVE_HOST_STATE
    if (proto->config.state) {
        if (faaslet_state_ctx_init(&f->state, proto->config.state, f->wasi, err))
            goto fail;
        f->state_ready = true;
    }
#endif
    if (faaslet_reset(f, err))
        goto fail;
    return f;
fail:
    faaslet_destroy(f);
    return NULL;
}

void faaslet_describe_trap(struct faaslet *f, int trap, char *buf, size_t n)
{
    char name[128] = "?";
    if (f->exec.trap_module)
        wasm_module_func_name(f->exec.trap_module, f->exec.trap_func, name, sizeof name);
    const char *msg = trap == RUNTIME_TRAP_HOST && f->exec.trap_msg[0] ? f->exec.trap_msg
                                                                        : runtime_trap_message(trap);
    int len = snprintf(buf, n, "%s/%s: trap in %s: %s", f->proto->user, f->proto->function, name,
                       msg);
    struct runtime_memory *mem =
        f->instance->module->memory_count ? f->instance->memories[0] : NULL;
    if (mem && len > 0 && (size_t)len < n &&
        atomic_load(&mem->size) / WASM_PAGE_SIZE >= mem->max_pages)
        snprintf(buf + len, n - (size_t)len, " (memory is at its limit of %llu MiB)",
                 (unsigned long long)(mem->max_pages * WASM_PAGE_SIZE >> 20));
}

int faaslet_invoke_raw(struct faaslet *f, struct runtime_func *func, uint64_t *cells,
                       struct fl_error *err)
{
    f->exec.trap_msg[0] = '\0';
    int trap = runtime_call(&f->exec, func, cells);
    if (trap == RUNTIME_OK)
        return FL_OK;
    char msg[FAASLET_MAX_ERROR];
    faaslet_describe_trap(f, trap, msg, sizeof msg);
    return fl_error_set(err, FL_ERR_TRAP, "%s", msg);
}

/* Splits cmdline on spaces into argv[1..]; argv[0] is the function name.
 * Returns argc, or 0 if there are more than max words. */
static uint32_t split_cmdline(const char *function, char *line, const char **argv, uint32_t max)
{
    uint32_t argc = 0;
    argv[argc++] = function;
    for (char *save = NULL, *w = line ? strtok_r(line, " ", &save) : NULL; w;
         w = strtok_r(NULL, " ", &save)) {
        if (argc == max)
            return 0;
        argv[argc++] = w;
    }
    return argc;
}

static void fail_call(struct faaslet_call *c, int trap, const char *msg)
{
    c->failed = true;
    c->trap = trap;
    c->return_value = 1;
    snprintf(c->error, sizeof c->error, "%s", msg);
    size_t n = strlen(c->error);
    uint8_t *out = malloc(n ? n : 1);
    free(c->output);
    c->output = out;
    c->output_len = out ? n : 0;
    if (out)
        memcpy(out, c->error, n);
}

int faaslet_run(struct faaslet *f, struct faaslet_call *c, struct fl_error *err)
{
    c->output = NULL;
    c->output_len = 0;
    c->return_value = 0;
    c->failed = false;
    c->trap = 0;
    c->error[0] = '\0';
    enum { MAX_ARGS = 1024 };
    const char *argv[MAX_ARGS];
    char *line = c->cmdline && c->cmdline[0] ? strdup(c->cmdline) : NULL;
    uint32_t argc = split_cmdline(f->proto->function, line, argv, MAX_ARGS);
    if (c->cmdline && c->cmdline[0] && (!line || argc == 0)) {
        free(line);
        fail_call(c, 0, "cmdline has too many words (or out of memory)");
        return FL_OK;
    }
    int rc = argc > 1 ? reset_wasi(f, argc, argv, err) : FL_OK;
    free(line);
    if (rc) {
        fail_call(c, 0, err->msg);
        return faaslet_reset(f, err);
    }
    if (c->value_stack && c->value_stack_cells) {
        f->exec.stack = c->value_stack;
        f->exec.stack_end = c->value_stack + c->value_stack_cells;
    } else if (faaslet_own_stack(f, err)) {
        fail_call(c, 0, err->msg);
        return faaslet_reset(f, err);
    }
    f->call = c;
    f->pristine = false;
    f->exec.native_stack_lo = c->stack_lo;
    f->exec.native_stack_hi = c->stack_hi;
#ifdef FL_HAVE_HOST_STATE
    if (f->state_ready)
        faaslet_state_call_begin(&f->state, c->user ? c->user : f->proto->user);
#endif
    uint64_t cells[2] = {0, 0};
    struct runtime_func *entry = f->start;
    if (c->func_ptr >= 0) {
        entry = f->call_ptr;
        cells[0] = (uint32_t)c->func_ptr;
    }
    f->exec.trap_msg[0] = '\0';
    if (!entry) {
        fail_call(c, 0, c->func_ptr >= 0 ? "function has no _faasm_call_ptr export (not built "
                                           "by faaslet-cc): cannot call by pointer"
                                         : "function has no _start export (not a WASI command)");
    } else {
        int trap = runtime_call(&f->exec, entry, cells);
        if (trap == RUNTIME_OK) {
            c->return_value = c->func_ptr >= 0 ? (int32_t)(uint32_t)cells[0] : 0;
        } else if (trap == RUNTIME_TRAP_EXIT) {
            c->return_value = f->exec.exit_code;
        } else {
            char msg[FAASLET_MAX_ERROR];
            if (trap == RUNTIME_TRAP_INTERRUPTED)
                snprintf(msg, sizeof msg, "%s/%s: interrupted", f->proto->user,
                         f->proto->function);
            else
                faaslet_describe_trap(f, trap, msg, sizeof msg);
            fail_call(c, trap, msg);
        }
    }
#ifdef FL_HAVE_HOST_STATE
    if (f->state_ready)
        faaslet_state_call_end(&f->state, f->instance->module->memory_count
                                              ? f->instance->memories[0]
                                              : NULL);
#endif
    f->call = &f->idle_call;
    f->exec.native_stack_lo = f->exec.native_stack_hi = 0;
    /* Never keep a pointer into the caller's stack between calls. */
    f->exec.stack = f->exec.stack_end = NULL;
    return faaslet_reset(f, err);
}

void faaslet_call_fini(struct faaslet_call *c)
{
    free(c->output);
    c->output = NULL;
    c->output_len = 0;
}

void faaslet_interrupt(struct faaslet *f)
{
    runtime_exec_interrupt(&f->exec);
}

struct runtime_exec *faaslet_exec(struct faaslet *f)
{
    return &f->exec;
}

struct runtime_memory *faaslet_memory(struct faaslet *f)
{
    return f->instance->module->memory_count ? f->instance->memories[0] : NULL;
}

struct faaslet_proto *faaslet_proto(struct faaslet *f)
{
    return f->proto;
}
