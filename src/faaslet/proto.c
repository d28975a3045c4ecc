/* proto.c: proto-faaslets. A function's module is loaded once (with its
 * memory maximum capped by the configured limit), compiled for the
 * interpreter, instantiated as a template in the proto's own store,
 * initialised (_faasm_init, _faasm_zygote) and snapshotted: the memory image
 * goes into a memfd (only up to the current size) and, when small, a list of
 * its non-zero pages; defined globals and tables into arrays. Faaslets are
 * clones of the template in pooled memory slots: a small image (the usual
 * case) has its few non-zero pages copied in, so restores and resets change
 * no kernel mapping; a large one is mapped from the memfd MAP_PRIVATE, so its
 * untouched pages stay shared between all Faaslets. */
#define _GNU_SOURCE
#include "faaslet/faaslet_internal.h"
#include "runtime/snapshot.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Largest image copied into each Faaslet instead of mapped copy-on-write. */
#define COPY_RESTORE_LIMIT (256u << 10)

void faaslet_proto_destroy(struct faaslet_proto *p)
{
    if (!p)
        return;
    faaslet_destroy(p->tmpl);
    free(p->imports);
    runtime_memory_pool_destroy(p->pool);
    runtime_store_destroy(p->store);
    free(p->page_offsets);
    free(p->page_data);
    if (p->memfd >= 0)
        close(p->memfd);
    if (p->module) {
        uint32_t nt = p->module->table_count - p->module->import_table_count;
        for (uint32_t t = 0; p->tables && t < nt; t++)
            free(p->tables[t].funcs);
    }
    free(p->tables);
    free(p->globals);
    free(p->elem_dropped);
    free(p->data_dropped);
    interp_module_destroy(p->code);
    aot_module_destroy(p->aot);
    wasm_module_destroy(p->module);
    free(p->root_dir_copy);
    free(p);
}

const char *faaslet_proto_tier_name(const struct faaslet_proto *p)
{
    return p->aot ? "aot" : "interp";
}

/* Loads compiled code for p->module (from config.aot_dir, generating it
 * there when missing, stale or tampered: aot's cache verifies the object
 * against its sidecar before loading). AUTO falls back to the interpreter
 * (p->aot stays NULL) with a log line; AOT fails. */
static int choose_tier(struct faaslet_proto *p, struct fl_error *err)
{
    enum faaslet_tier tier = faaslet_tier_resolve(p->config.tier);
    if (tier == FAASLET_TIER_INTERP)
        return FL_OK;
    struct aot_options opts;
    aot_options_default(&opts);
    opts.bounds_checks = p->config.bounds_checked;
    opts.cache_dir = p->config.aot_dir;
    struct fl_error aerr;
    fl_error_clear(&aerr);
    if (aot_module_load(p->module, &opts, &p->aot, &aerr) != FL_OK) {
        p->aot = NULL;
        if (tier == FAASLET_TIER_AOT) {
            *err = aerr;
            return fl_error_prefix(err, "%s/%s: no compiled code", p->user, p->function);
        }
        fprintf(stderr, "faaslet: %s/%s: running on the interpreter: %s\n", p->user, p->function,
                aerr.msg);
        return FL_OK;
    }
    if (opts.cache_dir && !aot_module_from_cache(p->aot))
        fprintf(stderr, "faaslet: %s/%s: compiled object in %s was missing, stale or invalid: "
                "generated again\n", p->user, p->function, opts.cache_dir);
    return FL_OK;
}

uint64_t faaslet_proto_memory_size(const struct faaslet_proto *p)
{
    return p->memory_bytes;
}

/* Index of func in instance's function space, or -1 (null / foreign). */
static int64_t func_index(struct runtime_instance *in, uintptr_t ref)
{
    if (!ref)
        return -1;
    struct runtime_func *fn = (struct runtime_func *)ref;
    if (fn->instance == in && fn->index < in->module->func_count && in->funcs[fn->index] == fn)
        return fn->index;
    for (uint32_t i = 0; i < in->module->import_func_count; i++)
        if (in->funcs[i] == fn)
            return i;
    return -2;
}

static int take_snapshot(struct faaslet_proto *p, struct faaslet *f, struct fl_error *err)
{
    const struct wasm_module *m = p->module;
    struct runtime_instance *in = f->instance;
    uint32_t ng = m->global_count - m->import_global_count;
    uint32_t nt = m->table_count - m->import_table_count;
    p->globals = calloc(ng + 1, sizeof *p->globals);
    p->tables = calloc(nt + 1, sizeof *p->tables);
    p->elem_dropped = calloc(m->elem_count + 1, 1);
    p->data_dropped = calloc(m->data_count + 1, 1);
    if (!p->globals || !p->tables || !p->elem_dropped || !p->data_dropped)
        return fl_error_set(err, FL_ERR_NOMEM, "snapshot: out of memory");
    for (uint32_t i = 0; i < ng; i++)
        memcpy(p->globals[i], in->globals[m->import_global_count + i]->cells, sizeof p->globals[i]);
    for (uint32_t t = 0; t < nt; t++) {
        struct runtime_table *table = in->tables[m->import_table_count + t];
        p->tables[t].size = table->size;
        p->tables[t].funcs = calloc(table->size + 1, sizeof *p->tables[t].funcs);
        if (!p->tables[t].funcs)
            return fl_error_set(err, FL_ERR_NOMEM, "snapshot: out of memory");
        for (uint32_t j = 0; j < table->size; j++) {
            int64_t idx = table->elem_type == WASM_TYPE_FUNCREF ? func_index(in, table->elems[j])
                                                                 : (table->elems[j] ? -2 : -1);
            if (idx == -2)
                return fl_error_set(err, FL_ERR_ARG,
                                    "snapshot: table %u entry %u holds a reference that cannot "
                                    "be snapshotted", m->import_table_count + t, j);
            p->tables[t].funcs[j] = idx;
        }
    }
    memcpy(p->elem_dropped, in->elem_dropped, m->elem_count);
    memcpy(p->data_dropped, in->data_dropped, m->data_count);

    if (m->memory_count == 0)
        return FL_OK;
    struct runtime_memory *mem = in->memories[0];
    uint64_t size = atomic_load(&mem->size);
    char name[160];
    snprintf(name, sizeof name, "faaslet:%s/%s", p->user, p->function);
    p->memfd = memfd_create(name, MFD_CLOEXEC);
    if (p->memfd < 0)
        return fl_error_set(err, FL_ERR_NOMEM, "snapshot: memfd_create: %s", strerror(errno));
    if (ftruncate(p->memfd, (off_t)size) != 0)
        return fl_error_set(err, FL_ERR_NOMEM, "snapshot: %llu bytes: %s",
                            (unsigned long long)size, strerror(errno));
    /* Zero pages need no write: the memfd is sparse, so they stay holes
     * that cost nothing to map. Small images are also kept as a page list
     * for copying restores. */
    p->copy_restore = !mem->shared;
    uint32_t cap = 0;
    for (uint64_t off = 0; off < size; off += 4096) {
        const uint8_t *page = mem->base + off;
        bool zero = true;
        for (size_t k = 0; k < 4096 / sizeof(uint64_t) && zero; k++) {
            uint64_t v;
            memcpy(&v, page + k * sizeof v, sizeof v);
            zero = v == 0;
        }
        if (zero)
            continue;
        if (pwrite(p->memfd, page, 4096, (off_t)off) != 4096)
            return fl_error_set(err, FL_ERR_IO, "snapshot: write: %s", strerror(errno));
        if (p->copy_restore && (uint64_t)(p->page_count + 1) * 4096 > COPY_RESTORE_LIMIT)
            p->copy_restore = false;
        if (!p->copy_restore)
            continue;
        if (p->page_count == cap) {
            cap = cap ? cap * 2 : 8;
            uint64_t *o = realloc(p->page_offsets, cap * sizeof *o);
            if (o)
                p->page_offsets = o;
            uint8_t *d = o ? realloc(p->page_data, (size_t)cap * 4096) : NULL;
            if (!d)
                return fl_error_set(err, FL_ERR_NOMEM, "snapshot: out of memory");
            p->page_data = d;
        }
        p->page_offsets[p->page_count] = off;
        memcpy(p->page_data + (size_t)p->page_count * 4096, page, 4096);
        p->page_count++;
    }
    if (!p->copy_restore) {
        free(p->page_offsets);
        free(p->page_data);
        p->page_offsets = NULL;
        p->page_data = NULL;
        p->page_count = 0;
    }
    p->memory_bytes = size;
    /* The template never runs again: its pages would only cost memory. */
    madvise(mem->base, size, MADV_DONTNEED);
    return FL_OK;
}

/* Index of fn in the template's function space, -1 for NULL. */
static int64_t func_index_of(struct faaslet *t, struct runtime_func *fn)
{
    for (uint32_t i = 0; fn && i < t->instance->module->func_count; i++)
        if (t->instance->funcs[i] == fn)
            return i;
    return -1;
}

/* Applies config->max_memory to the module's (defined) memory: its maximum
 * becomes the limit, so memory.grow past it fails with -1 in the guest. */
static int cap_memory(struct faaslet_proto *p, struct fl_error *err)
{
    struct wasm_module *m = p->module;
    if (!p->config.max_memory || m->memory_count == 0)
        return FL_OK;
    uint64_t pages = p->config.max_memory / WASM_PAGE_SIZE;
    struct wasm_limits *lim = &m->memories[0].limits;
    if (m->import_memory_count)
        return FL_OK; /* an imported memory is the importer's to limit */
    if (lim->min > pages)
        return fl_error_set(err, FL_ERR_LIMIT,
                            "%s/%s: needs %llu KiB of memory at start, more than the limit of "
                            "%llu KiB", p->user, p->function,
                            (unsigned long long)(lim->min * 64),
                            (unsigned long long)(p->config.max_memory >> 10));
    if (!lim->has_max || lim->max > pages) {
        lim->max = pages;
        lim->has_max = true;
    }
    return FL_OK;
}

struct faaslet_proto *faaslet_proto_create(const char *user, const char *function,
                                           const uint8_t *wasm, size_t len,
                                           const struct faaslet_config *config,
                                           struct fl_error *err)
{
    if (!faaslet_name_valid(user) || !faaslet_name_valid(function)) {
        fl_error_set(err, FL_ERR_ARG, "proto-faaslet: bad user or function name");
        return NULL;
    }
    struct faaslet_proto *p = calloc(1, sizeof *p);
    if (!p) {
        fl_error_set(err, FL_ERR_NOMEM, "proto-faaslet: out of memory");
        return NULL;
    }
    p->memfd = -1;
    snprintf(p->user, sizeof p->user, "%s", user);
    snprintf(p->function, sizeof p->function, "%s", function);
    if (config)
        p->config = *config;
    if (p->config.root_dir) {
        p->root_dir_copy = strdup(p->config.root_dir);
        p->config.root_dir = p->root_dir_copy;
        if (!p->root_dir_copy) {
            fl_error_set(err, FL_ERR_NOMEM, "proto-faaslet: out of memory");
            goto fail;
        }
    }
    p->store = runtime_store_create();
    if (!p->store) {
        fl_error_set(err, FL_ERR_NOMEM, "proto-faaslet: out of memory");
        goto fail;
    }
    runtime_store_set_guard_pages(p->store, !p->config.bounds_checked);
    int rc = wasm_module_load(wasm, len, &p->module, err);
    if (rc) {
        fl_error_prefix(err, "%s/%s: invalid module", user, function);
        goto fail;
    }
    if (cap_memory(p, err))
        goto fail;
    if (choose_tier(p, err))
        goto fail;
    if (!p->aot)
        p->code = interp_module_compile(p->module, err);
    if (!p->aot && !p->code) {
        fl_error_prefix(err, "%s/%s", user, function);
        goto fail;
    }
    /* Initialisation runs wasm on this thread: make sure faults in it
     * become traps (the call is refcounted, so nesting is fine). */
    if (runtime_thread_attach(err))
        goto fail;
    struct faaslet *f = p->tmpl = faaslet_instantiate(p, err);
    rc = f ? FL_OK : err->code;
    /* Compiled code recurses natively: bound _faasm_init and _faasm_zygote
     * by this thread's stack (the interpreter needs no native bound). */
    pthread_attr_t attr;
    if (!rc && p->aot && pthread_getattr_np(pthread_self(), &attr) == 0) {
        void *lo = NULL;
        size_t size = 0;
        if (pthread_attr_getstack(&attr, &lo, &size) == 0) {
            f->exec.native_stack_lo = (uintptr_t)lo;
            f->exec.native_stack_hi = (uintptr_t)lo + size;
        }
        pthread_attr_destroy(&attr);
    }
    uint64_t cells[2] = {0, 0};
    if (!rc && f->init) {
        p->has_init = true;
        rc = faaslet_invoke_raw(f, f->init, cells, err);
        if (rc)
            fl_error_prefix(err, "_faasm_init");
    }
    if (!rc && f->init && f->zygote) {
        /* Zygotes belong to faaslet-cc modules (they have _faasm_init); a
         * plain command's constructors run inside _start instead. */
        p->has_zygote = true;
        cells[0] = 0;
        rc = faaslet_invoke_raw(f, f->zygote, cells, err);
        if (rc)
            fl_error_prefix(err, "_faasm_zygote");
        else if ((uint32_t)cells[0] != 0)
            rc = fl_error_set(err, FL_ERR_TRAP, "%s/%s: _faasm_zygote returned %d", user,
                              function, (int32_t)(uint32_t)cells[0]);
    }
    if (!rc)
        rc = take_snapshot(p, f, err);
    if (!rc)
        rc = faaslet_share_imports(p, err);
    if (!rc && p->module->memory_count) {
        p->pool = runtime_memory_pool_create(p->store, &p->module->memories[0].limits,
                                             !p->config.bounds_checked, err);
        rc = p->pool ? FL_OK : err->code;
    }
    if (!rc) {
        p->start_index = func_index_of(f, f->start);
        p->call_ptr_index = func_index_of(f, f->call_ptr);
        p->init_index = func_index_of(f, f->init);
        p->zygote_index = func_index_of(f, f->zygote);
        /* Faaslets bring their own value stacks. */
        free(f->own_stack);
        f->own_stack = NULL;
        f->exec.stack = f->exec.stack_end = NULL;
        f->exec.native_stack_lo = f->exec.native_stack_hi = 0;
    }
    runtime_thread_detach();
    if (rc)
        goto fail;
    return p;
fail:
    faaslet_proto_destroy(p);
    return NULL;
}
