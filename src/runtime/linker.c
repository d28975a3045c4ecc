/* linker.c: a table of named externs ("module"."name" -> object) used to
 * resolve a module's imports by name before instantiating it. */
#include "runtime/runtime_internal.h"

#include <stdlib.h>
#include <string.h>

struct linker_entry {
    char *module;
    char *name;
    struct runtime_extern ext;
};

struct runtime_linker {
    struct runtime_store *store;
    struct linker_entry *entries;
    size_t count, cap;
};

struct runtime_linker *runtime_linker_create(struct runtime_store *store)
{
    struct runtime_linker *l = calloc(1, sizeof *l);
    if (l)
        l->store = store;
    return l;
}

void runtime_linker_destroy(struct runtime_linker *linker)
{
    if (!linker)
        return;
    for (size_t i = 0; i < linker->count; i++) {
        free(linker->entries[i].module);
        free(linker->entries[i].name);
    }
    free(linker->entries);
    free(linker);
}

static struct linker_entry *find(struct runtime_linker *l, const char *module, size_t mlen,
                                 const char *name, size_t nlen)
{
    for (size_t i = 0; i < l->count; i++) {
        struct linker_entry *e = &l->entries[i];
        if (strlen(e->module) == mlen && strlen(e->name) == nlen &&
            memcmp(e->module, module, mlen) == 0 && memcmp(e->name, name, nlen) == 0)
            return e;
    }
    return NULL;
}

int runtime_linker_define(struct runtime_linker *linker, const char *module, const char *name,
                          const struct runtime_extern *ext)
{
    struct linker_entry *e = find(linker, module, strlen(module), name, strlen(name));
    if (e) {
        e->ext = *ext;
        return FL_OK;
    }
    if (linker->count == linker->cap) {
        size_t cap = linker->cap ? linker->cap * 2 : 32;
        struct linker_entry *entries = realloc(linker->entries, cap * sizeof *entries);
        if (!entries)
            return FL_ERR_NOMEM;
        linker->entries = entries;
        linker->cap = cap;
    }
    char *m = strdup(module), *n = strdup(name);
    if (!m || !n) {
        free(m);
        free(n);
        return FL_ERR_NOMEM;
    }
    linker->entries[linker->count++] = (struct linker_entry){m, n, *ext};
    return FL_OK;
}

int runtime_linker_define_instance(struct runtime_linker *linker, const char *as,
                                   struct runtime_instance *instance)
{
    const struct wasm_module *m = instance->module;
    for (uint32_t i = 0; i < m->export_count; i++) {
        /* Export names holding NUL cannot be named through this API; skip them. */
        if (strlen(m->exports[i].name) != m->exports[i].name_len)
            continue;
        struct runtime_extern ext;
        if (!runtime_instance_export(instance, m->exports[i].name, &ext))
            continue;
        int rc = runtime_linker_define(linker, as, m->exports[i].name, &ext);
        if (rc)
            return rc;
    }
    return FL_OK;
}

int runtime_linker_instantiate(struct runtime_linker *linker, const struct wasm_module *module,
                               const struct runtime_tier *tier, void *tier_module,
                               struct runtime_exec *exec, struct runtime_instance **out,
                               struct fl_error *err)
{
    *out = NULL;
    struct runtime_extern *imports = calloc(module->import_count + 1, sizeof *imports);
    if (!imports)
        return fl_error_set(err, FL_ERR_NOMEM, "link: out of memory");
    int rc = FL_OK;
    for (uint32_t i = 0; i < module->import_count; i++) {
        const struct wasm_import *imp = &module->imports[i];
        struct linker_entry *e =
            find(linker, imp->module_name, imp->module_name_len, imp->name, imp->name_len);
        if (!e) {
            rc = fl_error_set(err, FL_ERR_UNLINKABLE, "unknown import %s.%s", imp->module_name,
                              imp->name);
            goto out;
        }
        imports[i] = e->ext;
    }
    rc = runtime_instantiate(linker->store, module, imports, tier, tier_module, exec, out, err);
out:
    free(imports);
    return rc;
}
