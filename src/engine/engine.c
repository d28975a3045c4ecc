/* engine.c: the embedding API (include/faaslet/embed.h) over the runtime
 * and a tier. An engine is a store, a linker and one exec; modules are
 * reference-counted so engines keep what their instances point into. */
#include "faaslet/embed.h"

#include "aot/aot.h"
#include "interp/interp.h"
#include "runtime/runtime.h"
#include "wasm/wasm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert((int)FL_TRAP_HOST == (int)RUNTIME_TRAP_HOST, "fl_trap mirrors runtime_trap");
_Static_assert((int)FL_TRAP_EXIT == (int)RUNTIME_TRAP_EXIT, "fl_trap mirrors runtime_trap");
_Static_assert((int)FL_TRAP_CALL_STACK_EXHAUSTED == (int)RUNTIME_TRAP_CALL_STACK_EXHAUSTED,
               "fl_trap mirrors runtime_trap");

struct fl_module {
    _Atomic int refs;
    struct wasm_module *module;
    struct interp_module *code;
    struct aot_module *aot;    /* tier "aot" */
};

struct fl_instance {
    fl_engine_t *engine;
    struct runtime_instance *instance;
};

/* A host function's signature and callback (the runtime_func's host_data). */
struct host_binding {
    fl_engine_t *engine;
    fl_host_fn fn;
    void *data;
    struct wasm_functype type;
    uint8_t types[]; /* params then results */
};

struct fl_caller {
    struct runtime_exec *exec;
    struct runtime_instance *instance;
};

struct ptr_list {
    void **items;
    size_t count, cap;
};

struct fl_engine {
    struct fl_engine_config config;
    struct runtime_store *store;
    struct runtime_linker *linker;
    struct runtime_exec exec;
    struct ptr_list modules;   /* fl_module references held for instances */
    struct ptr_list instances; /* struct fl_instance */
    struct ptr_list bindings;  /* struct host_binding */
};

static bool list_push(struct ptr_list *l, void *p)
{
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        void **items = realloc(l->items, cap * sizeof *items);
        if (!items)
            return false;
        l->items = items;
        l->cap = cap;
    }
    l->items[l->count++] = p;
    return true;
}

fl_engine_t *fl_engine_create(const struct fl_engine_config *config, struct fl_error *err)
{
    fl_engine_t *e = calloc(1, sizeof *e);
    if (!e) {
        fl_error_set(err, FL_ERR_NOMEM, "engine: out of memory");
        return NULL;
    }
    if (config)
        e->config = *config;
    if (e->config.tier && strcmp(e->config.tier, "interp") != 0 && strcmp(e->config.tier, "aot") != 0) {
        fl_error_set(err, FL_ERR_ARG, "engine: unknown tier '%s' (available: interp, aot)",
                     e->config.tier);
        free(e);
        return NULL;
    }
    e->store = runtime_store_create();
    e->linker = e->store ? runtime_linker_create(e->store) : NULL;
    if (!e->linker) {
        runtime_store_destroy(e->store);
        free(e);
        fl_error_set(err, FL_ERR_NOMEM, "engine: out of memory");
        return NULL;
    }
    runtime_store_set_guard_pages(e->store, !e->config.bounds_checks);
    if (runtime_exec_init(&e->exec, e->store, e->config.stack_cells, err) != FL_OK) {
        runtime_linker_destroy(e->linker);
        runtime_store_destroy(e->store);
        free(e);
        return NULL;
    }
    if (e->config.max_depth)
        e->exec.max_depth = e->config.max_depth;
    return e;
}

void fl_engine_destroy(fl_engine_t *engine)
{
    if (!engine)
        return;
    runtime_exec_fini(&engine->exec);
    runtime_linker_destroy(engine->linker);
    runtime_store_destroy(engine->store);
    for (size_t i = 0; i < engine->instances.count; i++)
        free(engine->instances.items[i]);
    for (size_t i = 0; i < engine->bindings.count; i++)
        free(engine->bindings.items[i]);
    for (size_t i = 0; i < engine->modules.count; i++)
        fl_module_destroy(engine->modules.items[i]);
    free(engine->instances.items);
    free(engine->bindings.items);
    free(engine->modules.items);
    free(engine);
}

void fl_engine_interrupt(fl_engine_t *engine)
{
    runtime_exec_interrupt(&engine->exec);
}

int fl_module_load(fl_engine_t *engine, const uint8_t *bytes, size_t size, fl_module_t **out,
                   struct fl_error *err)
{
    *out = NULL;
    fl_module_t *m = calloc(1, sizeof *m);
    if (!m)
        return fl_error_set(err, FL_ERR_NOMEM, "module: out of memory");
    int rc = wasm_module_load(bytes, size, &m->module, err);
    if (rc) {
        free(m);
        return rc;
    }
    if (engine->config.tier && !strcmp(engine->config.tier, "aot")) {
        struct aot_options opts;
        aot_options_default(&opts);
        opts.bounds_checks = engine->config.bounds_checks;
        opts.cache_dir = engine->config.cache_dir;
        rc = aot_module_load(m->module, &opts, &m->aot, err);
    } else {
        m->code = interp_module_compile(m->module, err);
        rc = m->code ? FL_OK : FL_ERR_INTERNAL;
    }
    if (rc) {
        wasm_module_destroy(m->module);
        free(m);
        return err && err->code ? err->code : FL_ERR_INTERNAL;
    }
    atomic_init(&m->refs, 1);
    *out = m;
    return FL_OK;
}

void fl_module_destroy(fl_module_t *module)
{
    if (!module || atomic_fetch_sub(&module->refs, 1) != 1)
        return;
    interp_module_destroy(module->code);
    aot_module_destroy(module->aot);
    wasm_module_destroy(module->module);
    free(module);
}

/* cells <-> values, per the runtime's calling convention. */
static void value_to_cells(const fl_value_t *v, uint64_t *cells)
{
    switch (v->type) {
    case FL_I32: cells[0] = (uint32_t)v->of.i32; break;
    case FL_I64: cells[0] = (uint64_t)v->of.i64; break;
    case FL_F32: {
        uint32_t bits;
        memcpy(&bits, &v->of.f32, 4);
        cells[0] = bits;
        break;
    }
    case FL_F64: memcpy(cells, &v->of.f64, 8); break;
    case FL_V128: memcpy(cells, v->of.v128, 16); break;
    default: cells[0] = (uintptr_t)v->of.ref; break;
    }
}

static void cells_to_value(uint8_t type, const uint64_t *cells, fl_value_t *v)
{
    memset(v, 0, sizeof *v);
    v->type = type;
    switch (type) {
    case FL_I32: v->of.i32 = (int32_t)(uint32_t)cells[0]; break;
    case FL_I64: v->of.i64 = (int64_t)cells[0]; break;
    case FL_F32: {
        uint32_t bits = (uint32_t)cells[0];
        memcpy(&v->of.f32, &bits, 4);
        break;
    }
    case FL_F64: memcpy(&v->of.f64, cells, 8); break;
    case FL_V128: memcpy(v->of.v128, cells, 16); break;
    default: v->of.ref = (void *)(uintptr_t)cells[0]; break;
    }
}

#define SMALL 16

static int host_trampoline(struct runtime_exec *exec, struct runtime_instance *caller,
                           uint64_t *cells, void *host_data)
{
    struct host_binding *b = host_data;
    const struct wasm_functype *t = &b->type;
    fl_value_t small[2 * SMALL], *vals = small;
    if (t->param_count > SMALL || t->result_count > SMALL) {
        vals = calloc((size_t)t->param_count + t->result_count, sizeof *vals);
        if (!vals) {
            strcpy(exec->trap_msg, "host function: out of memory");
            return RUNTIME_TRAP_HOST;
        }
    }
    fl_value_t *args = vals, *results = vals + t->param_count;
    const uint64_t *c = cells;
    for (uint32_t i = 0; i < t->param_count; i++) {
        cells_to_value(t->types[i], c, &args[i]);
        c += wasm_valtype_cells(t->types[i]);
    }
    for (uint32_t i = 0; i < t->result_count; i++) {
        memset(&results[i], 0, sizeof results[i]);
        results[i].type = t->types[t->param_count + i];
    }
    struct fl_caller fc = {exec, caller};
    int rc = b->fn(&fc, args, results, b->data);
    if (rc == 0) {
        uint64_t *out = cells;
        for (uint32_t i = 0; i < t->result_count; i++) {
            uint8_t type = t->types[t->param_count + i];
            results[i].type = type; /* the callback may not change the type */
            value_to_cells(&results[i], out);
            out += wasm_valtype_cells(type);
        }
    } else if (rc < 0 || rc >= RUNTIME_TRAP_COUNT) {
        rc = RUNTIME_TRAP_HOST;
    }
    if (vals != small)
        free(vals);
    return rc;
}

int fl_define_host_func(fl_engine_t *engine, const char *module_name, const char *name,
                        const uint8_t *params, uint32_t param_count, const uint8_t *results,
                        uint32_t result_count, fl_host_fn fn, void *data, struct fl_error *err)
{
    if (param_count > WASM_MAX_PARAMS || result_count > WASM_MAX_RESULTS || !fn)
        return fl_error_set(err, FL_ERR_ARG, "host function %s.%s: bad signature or callback",
                            module_name, name);
    for (uint32_t i = 0; i < param_count + result_count; i++) {
        uint8_t t = i < param_count ? params[i] : results[i - param_count];
        if (!wasm_valtype_name(t) || (t != FL_I32 && t != FL_I64 && t != FL_F32 && t != FL_F64 &&
                                      t != FL_V128 && t != FL_FUNCREF && t != FL_EXTERNREF))
            return fl_error_set(err, FL_ERR_ARG, "host function %s.%s: bad value type 0x%02x",
                                module_name, name, t);
    }
    struct host_binding *b = calloc(1, sizeof *b + param_count + result_count + 1);
    if (!b || !list_push(&engine->bindings, b)) {
        free(b);
        return fl_error_set(err, FL_ERR_NOMEM, "host function: out of memory");
    }
    b->engine = engine;
    b->fn = fn;
    b->data = data;
    if (param_count)
        memcpy(b->types, params, param_count);
    if (result_count)
        memcpy(b->types + param_count, results, result_count);
    b->type = (struct wasm_functype){param_count, result_count, b->types};
    struct runtime_extern ext = {.kind = WASM_EXTERN_FUNC};
    ext.as.func = runtime_host_func_create(engine->store, &b->type, host_trampoline, b, name);
    if (!ext.as.func || runtime_linker_define(engine->linker, module_name, name, &ext) != FL_OK)
        return fl_error_set(err, FL_ERR_NOMEM, "host function: out of memory");
    return FL_OK;
}

uint8_t *fl_caller_memory(fl_caller_t *caller, size_t *size)
{
    struct runtime_instance *in = caller->instance;
    *size = 0;
    if (!in || in->module->memory_count == 0)
        return NULL;
    *size = (size_t)atomic_load(&in->memories[0]->size);
    return in->memories[0]->base;
}

int fl_caller_trap(fl_caller_t *caller, const char *message)
{
    snprintf(caller->exec->trap_msg, sizeof caller->exec->trap_msg, "%s", message);
    return FL_TRAP_HOST;
}

int fl_instantiate(fl_engine_t *engine, fl_module_t *module, fl_instance_t **out,
                   struct fl_error *err)
{
    *out = NULL;
    fl_instance_t *fi = calloc(1, sizeof *fi);
    if (!fi || !list_push(&engine->instances, fi)) {
        free(fi);
        return fl_error_set(err, FL_ERR_NOMEM, "instantiate: out of memory");
    }
    /* The store may keep pointers into the module even if this fails (a
     * start function that trapped can leave refs in imported tables). */
    if (!list_push(&engine->modules, module))
        return fl_error_set(err, FL_ERR_NOMEM, "instantiate: out of memory");
    atomic_fetch_add(&module->refs, 1);
    fi->engine = engine;
    int rc = runtime_linker_instantiate(engine->linker, module->module,
                                        module->aot ? &aot_tier : &interp_tier,
                                        module->aot ? (void *)module->aot : (void *)module->code,
                                        &engine->exec, &fi->instance, err);
    if (rc)
        return rc;
    *out = fi;
    return FL_OK;
}

int fl_register(fl_engine_t *engine, const char *as, fl_instance_t *instance,
                struct fl_error *err)
{
    if (runtime_linker_define_instance(engine->linker, as, instance->instance) != FL_OK)
        return fl_error_set(err, FL_ERR_NOMEM, "register %s: out of memory", as);
    return FL_OK;
}

int fl_call(fl_instance_t *instance, const char *export_name, const fl_value_t *args,
            size_t nargs, fl_value_t *results, size_t nresults, struct fl_error *err)
{
    struct runtime_extern ext;
    if (!runtime_instance_export(instance->instance, export_name, &ext) ||
        ext.kind != WASM_EXTERN_FUNC)
        return fl_error_set(err, FL_ERR_NOT_FOUND, "call: no exported function '%s'",
                            export_name);
    struct runtime_func *f = ext.as.func;
    const struct wasm_functype *t = f->type;
    if (nargs != t->param_count || nresults != t->result_count)
        return fl_error_set(err, FL_ERR_ARG, "call %s: expects %u args and %u results, got %zu and %zu",
                            export_name, t->param_count, t->result_count, nargs, nresults);
    for (size_t i = 0; i < nargs; i++)
        if (args[i].type != t->types[i])
            return fl_error_set(err, FL_ERR_ARG, "call %s: argument %zu is %s, expected %s",
                                export_name, i, wasm_valtype_name(args[i].type),
                                wasm_valtype_name(t->types[i]));
    size_t ncells = f->param_cells > f->result_cells ? f->param_cells : f->result_cells;
    uint64_t small[2 * SMALL], *cells = small;
    if (ncells > 2 * SMALL && !(cells = calloc(ncells, sizeof *cells)))
        return fl_error_set(err, FL_ERR_NOMEM, "call: out of memory");
    uint64_t *c = cells;
    for (size_t i = 0; i < nargs; i++) {
        value_to_cells(&args[i], c);
        c += wasm_valtype_cells(args[i].type);
    }
    struct runtime_exec *exec = &instance->engine->exec;
    exec->trap_msg[0] = '\0';
    int trap = runtime_call(exec, f, cells);
    if (trap) {
        if (trap == RUNTIME_TRAP_HOST && exec->trap_msg[0])
            fl_error_set(err, FL_ERR_TRAP, "%s", exec->trap_msg);
        else
            fl_error_set(err, FL_ERR_TRAP, "%s", runtime_trap_message(trap));
    } else {
        c = cells;
        for (size_t i = 0; i < nresults; i++) {
            uint8_t type = t->types[t->param_count + i];
            cells_to_value(type, c, &results[i]);
            c += wasm_valtype_cells(type);
        }
    }
    if (cells != small)
        free(cells);
    return trap;
}

int fl_instance_exit_code(fl_instance_t *instance)
{
    return instance->engine->exec.exit_code;
}

const char *fl_trap_message(int trap)
{
    return runtime_trap_message(trap);
}

uint8_t *fl_instance_memory(fl_instance_t *instance, size_t *size)
{
    struct runtime_instance *in = instance->instance;
    *size = 0;
    if (in->module->memory_count == 0)
        return NULL;
    *size = (size_t)atomic_load(&in->memories[0]->size);
    return in->memories[0]->base;
}

static struct runtime_global *find_global(fl_instance_t *instance, const char *name,
                                          struct fl_error *err)
{
    struct runtime_extern ext;
    if (!runtime_instance_export(instance->instance, name, &ext) ||
        ext.kind != WASM_EXTERN_GLOBAL) {
        fl_error_set(err, FL_ERR_NOT_FOUND, "no exported global '%s'", name);
        return NULL;
    }
    return ext.as.global;
}

int fl_global_get(fl_instance_t *instance, const char *name, fl_value_t *out,
                  struct fl_error *err)
{
    struct runtime_global *g = find_global(instance, name, err);
    if (!g)
        return FL_ERR_NOT_FOUND;
    cells_to_value(g->type, g->cells, out);
    return FL_OK;
}

int fl_global_set(fl_instance_t *instance, const char *name, const fl_value_t *value,
                  struct fl_error *err)
{
    struct runtime_global *g = find_global(instance, name, err);
    if (!g)
        return FL_ERR_NOT_FOUND;
    if (!g->is_mutable || g->type != value->type)
        return fl_error_set(err, FL_ERR_ARG, "global '%s' is immutable or not a %s", name,
                            wasm_valtype_name(value->type));
    value_to_cells(value, g->cells);
    return FL_OK;
}
