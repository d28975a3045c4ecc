/* imports.c: host functions shared by every Faaslet of a function. The
 * template Faaslet's imports are bound to its own WASI context, Faaslet or
 * state context (their host data); each gets a stand-in, created once per
 * proto-faaslet, that finds the running Faaslet through the caller
 * instance's user_data and calls the original with that Faaslet's context.
 * WASI poll_oneoff with one clock subscription goes to the host's sleep, so
 * a sleeping guest gives its worker thread back. */
#define _GNU_SOURCE
#include "faaslet/faaslet_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SUBSCRIPTION_SIZE 48u /* WASI preview1 subscription_t */
#define EVENT_SIZE 32u        /* event_t */

static struct faaslet *faaslet_of(struct runtime_exec *exec, struct runtime_instance *caller,
                                  const struct runtime_func *orig)
{
    struct faaslet *f = caller ? caller->user_data : NULL;
    if (!f)
        snprintf(exec->trap_msg, sizeof exec->trap_msg, "%s: called from outside a Faaslet",
                 orig->name ? orig->name : "host function");
    return f;
}

static int via_wasi(struct runtime_exec *exec, struct runtime_instance *caller, uint64_t *cells,
                    void *data)
{
    const struct runtime_func *orig = data;
    struct faaslet *f = faaslet_of(exec, caller, orig);
    return f ? orig->host_fn(exec, caller, cells, f->wasi) : RUNTIME_TRAP_HOST;
}

static int via_faaslet(struct runtime_exec *exec, struct runtime_instance *caller, uint64_t *cells,
                       void *data)
{
    const struct runtime_func *orig = data;
    struct faaslet *f = faaslet_of(exec, caller, orig);
    return f ? orig->host_fn(exec, caller, cells, f) : RUNTIME_TRAP_HOST;
}

#ifdef FL_HAVE_HOST_STATE
static int via_state(struct runtime_exec *exec, struct runtime_instance *caller, uint64_t *cells,
                     void *data)
{
    const struct runtime_func *orig = data;
    struct faaslet *f = faaslet_of(exec, caller, orig);
    return f ? orig->host_fn(exec, caller, cells, &f->state) : RUNTIME_TRAP_HOST;
}
#endif

static uint64_t get_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    while (n--)
        v = v << 8 | p[n];
    return v;
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++, v >>= 8)
        p[i] = (uint8_t)v;
}

/* poll_oneoff(in, out, nsubscriptions, nevents_out): one clock subscription
 * (realtime or monotonic) sleeps through the host; anything else is WASI's. */
static int via_poll_oneoff(struct runtime_exec *exec, struct runtime_instance *caller,
                           uint64_t *cells, void *data)
{
    const struct runtime_func *orig = data;
    struct faaslet *f = faaslet_of(exec, caller, orig);
    if (!f)
        return RUNTIME_TRAP_HOST;
    const struct faaslet_host *h = f->call->host;
    struct runtime_memory *mem = caller->module->memory_count ? caller->memories[0] : NULL;
    if (!h || !h->sleep || !mem || (uint32_t)cells[2] != 1)
        return orig->host_fn(exec, caller, cells, f->wasi);
    uint8_t *in = runtime_memory_ptr(mem, (uint32_t)cells[0], SUBSCRIPTION_SIZE);
    uint8_t *out = runtime_memory_ptr(mem, (uint32_t)cells[1], EVENT_SIZE);
    uint8_t *nevents = runtime_memory_ptr(mem, (uint32_t)cells[3], 4);
    if (!in || !out || !nevents || in[8] != 0 || get_le(in + 16, 4) > 1)
        return orig->host_fn(exec, caller, cells, f->wasi);
    uint64_t userdata = get_le(in, 8);
    uint64_t ns = get_le(in + 24, 8);
    if (get_le(in + 40, 2) & 1) { /* absolute time on that clock */
        struct timespec now;
        clock_gettime(get_le(in + 16, 4) ? CLOCK_MONOTONIC : CLOCK_REALTIME, &now);
        uint64_t t = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
        ns = ns > t ? ns - t : 0;
    }
    int rc = h->sleep(h->data, exec, ns);
    if (rc)
        return rc;
    /* The memory never moves or shrinks, so the pointers still hold. */
    memset(out, 0, EVENT_SIZE);
    put_le(out, userdata, 8); /* error 0, type clock (0) */
    put_le(nevents, 1, 4);
    cells[0] = 0;
    return RUNTIME_OK;
}

int faaslet_share_imports(struct faaslet_proto *p, struct fl_error *err)
{
    const struct wasm_module *m = p->module;
    struct faaslet *t = p->tmpl;
    p->imports = calloc(m->import_func_count + 1, sizeof *p->imports);
    if (!p->imports)
        return fl_error_set(err, FL_ERR_NOMEM, "proto-faaslet: out of memory");
    for (uint32_t i = 0; i < m->import_count; i++) {
        const struct wasm_import *imp = &m->imports[i];
        if (imp->kind != WASM_EXTERN_FUNC)
            return fl_error_set(err, FL_ERR_UNLINKABLE, "%s/%s: import %s.%s is not a function",
                                p->user, p->function, imp->module_name, imp->name);
        struct runtime_func *orig = t->instance->funcs[imp->index];
        runtime_host_fn via = NULL;
        if (orig->host_fn && orig->host_data == t->wasi)
            via = !strcmp(imp->module_name, WASI_MODULE_NAME) && !strcmp(imp->name, "poll_oneoff")
                      ? via_poll_oneoff
                      : via_wasi;
        else if (orig->host_fn && orig->host_data == t)
            via = via_faaslet;
#ifdef FL_HAVE_HOST_STATE
        else if (orig->host_fn && orig->host_data == &t->state)
            via = via_state;
#endif
        if (!via) { /* no per-Faaslet data: share it as it is */
            p->imports[imp->index] = orig;
            continue;
        }
        struct runtime_func *fn =
            runtime_host_func_create(p->store, orig->type, via, orig, orig->name);
        if (!fn)
            return fl_error_set(err, FL_ERR_NOMEM, "proto-faaslet: out of memory");
        p->imports[imp->index] = fn;
    }
    return FL_OK;
}
