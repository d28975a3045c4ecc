/* thread.c: running one instance's code on several host threads. A clone
 * is a per-thread view of an instance: same memories, tables, imports,
 * segment state and code, its own defined globals (so each thread has its
 * own __stack_pointer) and its own entry functions. runtime_thread_* wraps a
 * clone, a pthread and a runtime_exec into spawn/join. See runtime.h and
 * docs/ARCHITECTURE.md ("Threads"). */
#include "runtime/runtime_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct clone {
    struct runtime_instance pub;
    const struct runtime_tier *tier;
    struct runtime_func *entries;       /* one per defined function; instance = the clone */
    struct runtime_global *own_globals; /* one per defined global */
    bool tier_initialised;
};

static void clone_free(struct clone *c)
{
    if (c->tier_initialised && c->tier->instance_fini)
        c->tier->instance_fini(&c->pub);
    free(c->pub.funcs);
    free(c->pub.globals);
    free(c->entries);
    free(c->own_globals);
    free(c);
}

int runtime_instance_clone(struct runtime_instance *origin, struct runtime_instance **out,
                           struct fl_error *err)
{
    *out = NULL;
    if (origin->origin)
        return fl_error_set(err, FL_ERR_ARG, "clone: cannot clone a clone (clone its origin)");
    const struct runtime_tier *tier = ((struct runtime_instance_impl *)origin)->tier;
    const struct wasm_module *m = origin->module;
    /* Tiers must run the origin's funcrefs as the clone's own (see
     * runtime_instance.origin); the interpreter and compiled code do. */
    if (m->func_count > m->import_func_count &&
        (!tier || (strcmp(tier->name, "interp") != 0 && strcmp(tier->name, "aot") != 0)))
        return fl_error_set(err, FL_ERR_ARG, "clone: tier %s cannot run per-thread clones yet",
                            tier ? tier->name : "(none)");
    uint32_t defined_funcs = m->func_count - m->import_func_count;
    uint32_t defined_globals = m->global_count - m->import_global_count;
    struct clone *c = calloc(1, sizeof *c);
    if (!c)
        return fl_error_set(err, FL_ERR_NOMEM, "clone: out of memory");
    c->tier = tier;
    struct runtime_instance *in = &c->pub;
    in->funcs = calloc(m->func_count + 1, sizeof *in->funcs);
    in->globals = calloc(m->global_count + 1, sizeof *in->globals);
    c->entries = calloc(defined_funcs + 1, sizeof *c->entries);
    c->own_globals = calloc(defined_globals + 1, sizeof *c->own_globals);
    if (!in->funcs || !in->globals || !c->entries || !c->own_globals) {
        clone_free(c);
        return fl_error_set(err, FL_ERR_NOMEM, "clone: out of memory");
    }
    in->store = origin->store;
    in->module = m;
    in->tables = origin->tables;
    in->memories = origin->memories;
    in->elem_dropped = origin->elem_dropped;
    in->data_dropped = origin->data_dropped;
    in->tier_module = origin->tier_module;
    in->user_data = origin->user_data;
    in->origin = origin;
    /* Funcrefs the code can see (ref.func, exports) stay the origin's, so
     * nothing of the clone escapes into tables shared with other threads. */
    memcpy(in->funcs, origin->funcs, m->func_count * sizeof *in->funcs);
    for (uint32_t i = 0; i < defined_funcs; i++) {
        c->entries[i] = *origin->funcs[m->import_func_count + i];
        c->entries[i].instance = in;
    }
    for (uint32_t i = 0; i < m->global_count; i++) {
        if (i < m->import_global_count) {
            in->globals[i] = origin->globals[i]; /* another instance's: shared */
        } else {
            struct runtime_global *g = &c->own_globals[i - m->import_global_count];
            *g = *origin->globals[i];
            in->globals[i] = g;
        }
    }
    if (tier && tier->instance_init) {
        int rc = tier->instance_init(in, err);
        if (rc) {
            clone_free(c);
            return rc;
        }
        c->tier_initialised = true;
    }
    *out = in;
    return FL_OK;
}

void runtime_instance_clone_destroy(struct runtime_instance *clone)
{
    if (clone && clone->origin)
        clone_free((struct clone *)clone);
}

int runtime_clone_set_global(struct runtime_instance *clone, uint32_t global_index,
                             uint64_t value, struct fl_error *err)
{
    const struct wasm_module *m = clone->module;
    if (!clone->origin || global_index >= m->global_count ||
        global_index < m->import_global_count || !clone->globals[global_index]->is_mutable)
        return fl_error_set(err, FL_ERR_ARG,
                            "clone: global %u is not a defined mutable global of a clone",
                            global_index);
    clone->globals[global_index]->cells[0] = value;
    return FL_OK;
}

uint32_t runtime_module_stack_pointer(const struct wasm_module *module)
{
    uint32_t g = wasm_module_export_get(module, "__stack_pointer", WASM_EXTERN_GLOBAL);
    if (g != WASM_NO_INDEX)
        return g;
    if (module->global_count > 0 && module->import_global_count == 0 &&
        module->globals[0].type.is_mutable && module->globals[0].type.type == WASM_TYPE_I32)
        return 0;
    return WASM_NO_INDEX;
}

int runtime_call_in_clone(struct runtime_exec *exec, struct runtime_instance *clone,
                          uint32_t func_index, uint64_t *cells)
{
    const struct wasm_module *m = clone->module;
    if (!clone->origin || func_index >= m->func_count) {
        snprintf(exec->trap_msg, sizeof exec->trap_msg, "clone: no function %u to call",
                 func_index);
        return RUNTIME_TRAP_HOST;
    }
    struct runtime_func *f = func_index < m->import_func_count
                                 ? clone->funcs[func_index]
                                 : &((struct clone *)clone)->entries[func_index -
                                                                     m->import_func_count];
    return runtime_call(exec, f, cells);
}

/* ---- threads ---- */

struct runtime_thread {
    pthread_t tid;
    struct runtime_instance *clone;
    uint32_t func_index;
    uint32_t stack_cells;
    uint64_t *cells;           /* args in, results out */
    int trap;
    char trap_msg[256];
    struct runtime_exec exec;  /* lives on in the struct so interrupt can reach it */
    pthread_mutex_t lock;      /* guards exec_ready and interrupt_requested */
    bool exec_ready;
    bool interrupt_requested;
};

static void *thread_main(void *arg)
{
    struct runtime_thread *t = arg;
    struct fl_error err = {0};
    if (runtime_exec_init(&t->exec, t->clone->store, t->stack_cells, &err) != FL_OK) {
        t->trap = RUNTIME_TRAP_HOST;
        snprintf(t->trap_msg, sizeof t->trap_msg, "thread: %.240s", err.msg);
        return NULL;
    }
    pthread_mutex_lock(&t->lock);
    t->exec_ready = true;
    if (t->interrupt_requested)
        runtime_exec_interrupt(&t->exec);
    pthread_mutex_unlock(&t->lock);

    t->trap = runtime_call_in_clone(&t->exec, t->clone, t->func_index, t->cells);
    if (t->trap != RUNTIME_OK)
        snprintf(t->trap_msg, sizeof t->trap_msg, "%s",
                 t->exec.trap_msg[0] ? t->exec.trap_msg : runtime_trap_message(t->trap));

    pthread_mutex_lock(&t->lock);
    t->exec_ready = false;
    pthread_mutex_unlock(&t->lock);
    runtime_exec_fini(&t->exec);
    return NULL;
}

static void thread_free(struct runtime_thread *t)
{
    runtime_instance_clone_destroy(t->clone);
    pthread_mutex_destroy(&t->lock);
    free(t->cells);
    free(t);
}

int runtime_thread_spawn(const struct runtime_thread_start *start, struct runtime_thread **out,
                         struct fl_error *err)
{
    *out = NULL;
    const struct wasm_module *m = start->instance->module;
    if (start->func_index >= m->func_count)
        return fl_error_set(err, FL_ERR_ARG, "thread: no function %u", start->func_index);
    const struct runtime_func *f = start->instance->funcs[start->func_index];
    struct runtime_thread *t = calloc(1, sizeof *t);
    uint32_t ncells = f->param_cells > f->result_cells ? f->param_cells : f->result_cells;
    if (!t || !(t->cells = calloc(ncells + 1, sizeof *t->cells))) {
        free(t);
        return fl_error_set(err, FL_ERR_NOMEM, "thread: out of memory");
    }
    pthread_mutex_init(&t->lock, NULL);
    if (f->param_cells && start->args)
        memcpy(t->cells, start->args, f->param_cells * sizeof *t->cells);
    t->func_index = start->func_index;
    t->stack_cells = start->stack_cells;
    int rc = runtime_instance_clone(start->instance, &t->clone, err);
    if (rc == FL_OK && start->stack_pointer_global != WASM_NO_INDEX)
        rc = runtime_clone_set_global(t->clone, start->stack_pointer_global,
                                      start->stack_pointer, err);
    if (rc != FL_OK) {
        thread_free(t);
        return rc;
    }
    int e = pthread_create(&t->tid, NULL, thread_main, t);
    if (e != 0) {
        thread_free(t);
        return fl_error_set(err, FL_ERR_NOMEM, "thread: cannot start a thread (%s)", strerror(e));
    }
    *out = t;
    return FL_OK;
}

int runtime_thread_join(struct runtime_thread *thread, uint64_t *results, char *trap_msg,
                        size_t n)
{
    pthread_join(thread->tid, NULL);
    int trap = thread->trap;
    if (results && trap == RUNTIME_OK) {
        const struct runtime_func *f = thread->clone->funcs[thread->func_index];
        memcpy(results, thread->cells, f->result_cells * sizeof *results);
    }
    if (trap_msg && n)
        snprintf(trap_msg, n, "%s", trap == RUNTIME_OK ? "" : thread->trap_msg);
    thread_free(thread);
    return trap;
}

void runtime_thread_interrupt(struct runtime_thread *thread)
{
    pthread_mutex_lock(&thread->lock);
    thread->interrupt_requested = true;
    if (thread->exec_ready)
        runtime_exec_interrupt(&thread->exec);
    pthread_mutex_unlock(&thread->lock);
}
