/* test_runtime.c: unit tests of the runtime with host functions and a tiny
 * fake tier over hand-built modules (no decoder or interpreter needed):
 * memories (grow, max, guards), fault recovery in runtime_call, linking,
 * instantiation (segments, start), traps. Run one test by name:
 * test_runtime NAME (ctest registers each). */
#include "runtime/runtime.h"
#include "wasm/opcodes.h"

#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __has_feature
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#ifdef __SANITIZE_ADDRESS__
#define TEST_ASAN 1
#endif
#ifdef TEST_ASAN
/* Let the runtime own SIGSEGV (guard-page faults become traps). */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "allow_user_segv_handler=1:handle_segv=0:detect_leaks=1";
}
#endif

static int failures;

#define CHECK(cond)                                                                \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                            \
        }                                                                          \
    } while (0)

static const uint8_t sig_i32_i32[] = {WASM_TYPE_I32, WASM_TYPE_I32};
static const struct wasm_functype type_void = {0, 0, NULL};
static const struct wasm_functype type_i32_i32 = {1, 1, (uint8_t *)sig_i32_i32};
static const struct wasm_functype type_void_i32 = {0, 1, (uint8_t *)sig_i32_i32};

static struct wasm_limits pages(uint64_t min, uint64_t max)
{
    return (struct wasm_limits){.min = min, .max = max, .has_max = true};
}

/* ---- memories ---- */

static void test_memory_grow_honours_max(void)
{
    struct runtime_store *store = runtime_store_create();
    struct fl_error err;
    struct wasm_limits l = pages(1, 3);
    struct runtime_memory *m = runtime_memory_create(store, &l, &err);
    CHECK(m && m->guarded && m->has_max);
    CHECK(runtime_memory_grow(m, 0) == 1);
    CHECK(runtime_memory_grow(m, 3) == -1);
    CHECK(runtime_memory_grow(m, 1) == 1);
    m->base[2 * WASM_PAGE_SIZE - 1] = 7; /* the new page is writable */
    CHECK(runtime_memory_grow(m, 1) == 2);
    CHECK(runtime_memory_grow(m, 1) == -1);
    CHECK(atomic_load(&m->size) == 3ull * WASM_PAGE_SIZE);
    CHECK(runtime_memory_grow(m, UINT64_MAX) == -1);
    runtime_store_destroy(store);
}

static void test_memory_without_max_grows_to_4gib_limit_only(void)
{
    struct runtime_store *store = runtime_store_create();
    struct fl_error err;
    struct wasm_limits l = {.min = 0};
    struct runtime_memory *m = runtime_memory_create(store, &l, &err);
    CHECK(m && !m->has_max && m->max_pages == WASM_MAX_PAGES);
    CHECK(runtime_memory_grow(m, WASM_MAX_PAGES + 1) == -1);
    CHECK(runtime_memory_grow(m, 2) == 0);
    CHECK(runtime_memory_ptr(m, 0, 2 * WASM_PAGE_SIZE) == m->base);
    runtime_store_destroy(store);
}

static void test_memory_ptr_checks_bounds(void)
{
    struct runtime_store *store = runtime_store_create();
    struct fl_error err;
    struct wasm_limits l = pages(1, 1);
    struct runtime_memory *m = runtime_memory_create(store, &l, &err);
    CHECK(runtime_memory_ptr(m, WASM_PAGE_SIZE - 4, 4) == m->base + WASM_PAGE_SIZE - 4);
    CHECK(runtime_memory_ptr(m, WASM_PAGE_SIZE, 0) != NULL);
    CHECK(runtime_memory_ptr(m, WASM_PAGE_SIZE - 3, 4) == NULL);
    CHECK(runtime_memory_ptr(m, UINT64_MAX, 2) == NULL);
    CHECK(runtime_memory_ptr(m, 1, UINT64_MAX) == NULL);
    runtime_store_destroy(store);
}

static void test_shared_memory_requires_max(void)
{
    struct runtime_store *store = runtime_store_create();
    struct fl_error err = {0};
    struct wasm_limits l = {.min = 1, .shared = true};
    CHECK(runtime_memory_create(store, &l, &err) == NULL);
    CHECK(err.code == FL_ERR_INVALID && strstr(err.msg, "maximum"));
    l = pages(1, 2);
    l.shared = true;
    struct runtime_memory *m = runtime_memory_create(store, &l, &err);
    CHECK(m && m->shared);
    runtime_store_destroy(store);
}

static void test_bounds_checked_memory_reserves_only_max(void)
{
    struct runtime_store *store = runtime_store_create();
    runtime_store_set_guard_pages(store, false);
    struct fl_error err;
    struct wasm_limits l = pages(1, 2);
    struct runtime_memory *m = runtime_memory_create(store, &l, &err);
    CHECK(m && !m->guarded && m->reserved == 2ull * WASM_PAGE_SIZE);
    CHECK(runtime_memory_grow(m, 1) == 1);
    CHECK(runtime_memory_grow(m, 1) == -1);
    runtime_store_destroy(store);
}

static void test_memory_beyond_4gib_is_refused(void)
{
    struct runtime_store *store = runtime_store_create();
    struct fl_error err = {0};
    struct wasm_limits l = {.min = WASM_MAX_PAGES + 1};
    CHECK(runtime_memory_create(store, &l, &err) == NULL && err.code == FL_ERR_LIMIT);
    runtime_store_destroy(store);
}

/* ---- fault recovery ---- */

struct fault_ctx {
    struct runtime_memory *memory;
    uint64_t offset; /* where to write, from base */
    struct runtime_func *inner;
    int inner_trap;
    bool inner_recover_restored;
};

static int host_write_at(struct runtime_exec *exec, struct runtime_instance *caller,
                         uint64_t *cells, void *data)
{
    (void)exec, (void)caller, (void)cells;
    struct fault_ctx *c = data;
    volatile uint8_t *p = c->memory->base + c->offset;
    *p = 1; /* faults when offset is past the accessible size */
    return RUNTIME_OK;
}

static int host_nested(struct runtime_exec *exec, struct runtime_instance *caller,
                       uint64_t *cells, void *data)
{
    (void)caller;
    struct fault_ctx *c = data;
    sigjmp_buf *mine = exec->recover;
    c->inner_trap = runtime_call(exec, c->inner, cells);
    c->inner_recover_restored = exec->recover == mine;
    return host_write_at(exec, caller, cells, data); /* now fault out here too */
}

static void test_guard_page_fault_in_runtime_call_becomes_trap(void)
{
    struct runtime_store *store = runtime_store_create();
    struct runtime_exec exec;
    struct fl_error err;
    CHECK(runtime_exec_init(&exec, store, 1024, &err) == FL_OK);
    struct wasm_limits l = pages(1, 2);
    struct fault_ctx c = {.memory = runtime_memory_create(store, &l, &err)};
    struct runtime_func *f = runtime_host_func_create(store, &type_void, host_write_at, &c, "w");
    uint64_t cells[2] = {0};

    c.offset = 10;
    CHECK(runtime_call(&exec, f, cells) == RUNTIME_OK);
    c.offset = WASM_PAGE_SIZE + 5; /* reserved but not accessible */
    CHECK(runtime_call(&exec, f, cells) == RUNTIME_TRAP_MEMORY_OUT_OF_BOUNDS);
    CHECK(exec.recover == NULL && exec.fault_trap == RUNTIME_TRAP_MEMORY_OUT_OF_BOUNDS);
    /* Again, farthest a wasm32 access can reach: the handler still works. */
    c.offset = 0xFFFFFFFFull + 0xFFFFFFFFull + 8;
    CHECK(runtime_call(&exec, f, cells) == RUNTIME_TRAP_MEMORY_OUT_OF_BOUNDS);
    /* After growing, the same address is fine. */
    c.offset = WASM_PAGE_SIZE + 5;
    CHECK(runtime_memory_grow(c.memory, 1) == 1);
    CHECK(runtime_call(&exec, f, cells) == RUNTIME_OK);
    runtime_exec_fini(&exec);
    runtime_store_destroy(store);
}

static void test_nested_runtime_call_recovers_each_level(void)
{
    struct runtime_store *store = runtime_store_create();
    struct runtime_exec exec;
    struct fl_error err;
    CHECK(runtime_exec_init(&exec, store, 1024, &err) == FL_OK);
    struct wasm_limits l = pages(1, 1);
    struct fault_ctx c = {.memory = runtime_memory_create(store, &l, &err)};
    c.offset = 3 * WASM_PAGE_SIZE;
    c.inner = runtime_host_func_create(store, &type_void, host_write_at, &c, "inner");
    struct runtime_func *outer = runtime_host_func_create(store, &type_void, host_nested, &c, "o");
    uint64_t cells[2] = {0};
    CHECK(runtime_call(&exec, outer, cells) == RUNTIME_TRAP_MEMORY_OUT_OF_BOUNDS);
    CHECK(c.inner_trap == RUNTIME_TRAP_MEMORY_OUT_OF_BOUNDS);
    CHECK(c.inner_recover_restored);
    CHECK(exec.recover == NULL);
    runtime_exec_fini(&exec);
    runtime_store_destroy(store);
}

static int host_recurse(struct runtime_exec *exec, struct runtime_instance *caller,
                        uint64_t *cells, void *data)
{
    volatile char pad[512];
    pad[0] = (char)cells[0];
    if (++cells[0] > (1u << 30)) /* never: the stack runs out long before */
        return 0;
    return host_recurse(exec, caller, cells, data) + pad[0];
}

struct overflow_ctx {
    int trap;
};

static void *overflow_thread(void *arg)
{
    struct overflow_ctx *o = arg;
    struct runtime_store *store = runtime_store_create();
    struct runtime_exec exec;
    struct fl_error err;
    if (runtime_exec_init(&exec, store, 1024, &err) == FL_OK) {
        struct runtime_func *f =
            runtime_host_func_create(store, &type_void, host_recurse, NULL, "recurse");
        uint64_t cells[2] = {0};
        o->trap = runtime_call(&exec, f, cells);
        runtime_exec_fini(&exec);
    }
    runtime_store_destroy(store);
    return NULL;
}

static void test_native_stack_overflow_becomes_call_stack_exhausted(void)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 1 << 20);
    pthread_t t;
    struct overflow_ctx o = {0};
    CHECK(pthread_create(&t, &attr, overflow_thread, &o) == 0);
    pthread_join(t, NULL);
    pthread_attr_destroy(&attr);
    CHECK(o.trap == RUNTIME_TRAP_CALL_STACK_EXHAUSTED);
}

static int host_null_write(struct runtime_exec *exec, struct runtime_instance *caller,
                           uint64_t *cells, void *data)
{
    (void)exec, (void)caller, (void)cells;
    volatile uint8_t *p = data; /* NULL: not in any reservation */
    *p = 1;
    return RUNTIME_OK;
}

static void test_fault_outside_memories_stays_a_crash(void)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        struct runtime_store *store = runtime_store_create();
        struct runtime_exec exec;
        struct fl_error err;
        runtime_exec_init(&exec, store, 1024, &err);
        struct runtime_func *f =
            runtime_host_func_create(store, &type_void, host_null_write, NULL, "null");
        uint64_t cells[1];
        runtime_call(&exec, f, cells);
        _exit(0); /* reached only if the fault was swallowed */
    }
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
}

/* ---- a fake tier: a defined function returns the number in its code ---- */

static int fake_invoke(struct runtime_exec *exec, struct runtime_instance *caller,
                       struct runtime_func *func, uint64_t *cells)
{
    (void)exec, (void)caller;
    intptr_t v = (intptr_t)func->code;
    if (v < 0)
        return RUNTIME_TRAP_UNREACHABLE;
    cells[0] = (uint64_t)v;
    return RUNTIME_OK;
}

static void *fake_code(void *tier_module, uint32_t index)
{
    const intptr_t *values = tier_module;
    return (void *)values[index];
}

static const struct runtime_tier fake_tier = {
    .name = "fake", .invoke = fake_invoke, .func_code = fake_code};

static struct wasm_const_expr i32_const(uint32_t v)
{
    return (struct wasm_const_expr){.opcode = WASM_OP_I32_CONST, .type = WASM_TYPE_I32,
                                    .value.i32 = v};
}

/* A module importing env.f : (i32) -> i32 and nothing else. */
static void importing_module(struct wasm_module *m, struct wasm_functype *types,
                             struct wasm_import *imp, struct wasm_func *funcs)
{
    memset(m, 0, sizeof *m);
    types[0] = type_i32_i32;
    *imp = (struct wasm_import){.module_name = "env", .module_name_len = 3, .name = "f",
                                .name_len = 1, .kind = WASM_EXTERN_FUNC, .index = 0};
    funcs[0] = (struct wasm_func){.type_index = 0, .import_index = 0};
    m->types = types;
    m->type_count = 1;
    m->imports = imp;
    m->import_count = 1;
    m->funcs = funcs;
    m->func_count = 1;
    m->import_func_count = 1;
    m->start_func = WASM_NO_INDEX;
}

static int host_add_one(struct runtime_exec *exec, struct runtime_instance *caller,
                        uint64_t *cells, void *data)
{
    (void)exec, (void)caller, (void)data;
    cells[0] = (uint32_t)(cells[0] + 1);
    return RUNTIME_OK;
}

static void test_linker_reports_unknown_and_incompatible_imports(void)
{
    struct runtime_store *store = runtime_store_create();
    struct runtime_linker *linker = runtime_linker_create(store);
    struct runtime_exec exec;
    struct fl_error err = {0};
    CHECK(runtime_exec_init(&exec, store, 1024, &err) == FL_OK);
    struct wasm_module m;
    struct wasm_functype types[1];
    struct wasm_import imp;
    struct wasm_func funcs[1];
    importing_module(&m, types, &imp, funcs);
    struct runtime_instance *in = (void *)1;

    CHECK(runtime_linker_instantiate(linker, &m, &fake_tier, NULL, &exec, &in, &err) ==
          FL_ERR_UNLINKABLE);
    CHECK(in == NULL && strcmp(err.msg, "unknown import env.f") == 0);

    struct runtime_extern wrong = {.kind = WASM_EXTERN_FUNC};
    wrong.as.func = runtime_host_func_create(store, &type_void_i32, host_add_one, NULL, "f");
    CHECK(runtime_linker_define(linker, "env", "f", &wrong) == FL_OK);
    CHECK(runtime_linker_instantiate(linker, &m, &fake_tier, NULL, &exec, &in, &err) ==
          FL_ERR_UNLINKABLE);
    CHECK(strcmp(err.msg, "incompatible import type for env.f") == 0);

    struct runtime_extern global = {.kind = WASM_EXTERN_GLOBAL};
    struct wasm_globaltype gt = {WASM_TYPE_I32, false};
    global.as.global = runtime_global_create(store, &gt, NULL);
    CHECK(runtime_linker_define(linker, "env", "f", &global) == FL_OK);
    CHECK(runtime_linker_instantiate(linker, &m, &fake_tier, NULL, &exec, &in, &err) ==
          FL_ERR_UNLINKABLE);

    struct runtime_extern right = {.kind = WASM_EXTERN_FUNC};
    right.as.func = runtime_host_func_create(store, &type_i32_i32, host_add_one, NULL, "f");
    CHECK(runtime_linker_define(linker, "env", "f", &right) == FL_OK); /* replaces */
    CHECK(runtime_linker_instantiate(linker, &m, &fake_tier, NULL, &exec, &in, &err) == FL_OK);
    CHECK(in && in->funcs[0] == right.as.func);
    uint64_t cells[1] = {41};
    CHECK(runtime_call(&exec, in->funcs[0], cells) == RUNTIME_OK && cells[0] == 42);

    runtime_exec_fini(&exec);
    runtime_linker_destroy(linker);
    runtime_store_destroy(store);
}

static void test_import_limits_are_matched(void)
{
    struct runtime_store *store = runtime_store_create();
    struct fl_error err = {0};
    struct wasm_module m = {.start_func = WASM_NO_INDEX};
    struct wasm_memory mem = {.limits = pages(1, 2), .import_index = 0};
    struct wasm_import imp = {.module_name = "spectest", .module_name_len = 8, .name = "memory",
                              .name_len = 6, .kind = WASM_EXTERN_MEMORY, .index = 0};
    m.memories = &mem;
    m.memory_count = m.import_memory_count = 1;
    m.imports = &imp;
    m.import_count = 1;
    struct wasm_limits unbounded = {.min = 1};
    struct wasm_limits too_big = pages(1, 3), small = pages(2, 2);
    struct runtime_extern ext = {.kind = WASM_EXTERN_MEMORY};
    struct runtime_instance *in;

    ext.as.memory = runtime_memory_create(store, &unbounded, &err);
    CHECK(runtime_instantiate(store, &m, &ext, NULL, NULL, NULL, &in, &err) == FL_ERR_UNLINKABLE);
    ext.as.memory = runtime_memory_create(store, &too_big, &err);
    CHECK(runtime_instantiate(store, &m, &ext, NULL, NULL, NULL, &in, &err) == FL_ERR_UNLINKABLE);
    ext.as.memory = runtime_memory_create(store, &small, &err);
    CHECK(runtime_instantiate(store, &m, &ext, NULL, NULL, NULL, &in, &err) == FL_OK);
    /* The current size counts, not the declared minimum. */
    mem.limits = pages(2, 2);
    struct wasm_limits grown = pages(1, 2);
    ext.as.memory = runtime_memory_create(store, &grown, &err);
    CHECK(runtime_instantiate(store, &m, &ext, NULL, NULL, NULL, &in, &err) == FL_ERR_UNLINKABLE);
    runtime_memory_grow(ext.as.memory, 1);
    CHECK(runtime_instantiate(store, &m, &ext, NULL, NULL, NULL, &in, &err) == FL_OK);
    runtime_store_destroy(store);
}

/* A module with a memory (1 page), a table (2 funcrefs), one function
 * returning 7 exported as "seven", two data segments and one elem segment. */
struct segment_module {
    struct wasm_module m;
    struct wasm_functype types[1];
    struct wasm_func funcs[1];
    struct wasm_memory memory;
    struct wasm_table table;
    struct wasm_data datas[2];
    struct wasm_elem elems[1];
    struct wasm_const_expr items[1];
    struct wasm_export exports[1];
    intptr_t code[1];
};

static void segment_module(struct segment_module *s, uint32_t data2_offset)
{
    static const uint8_t hello[] = "hello", world[] = "world";
    memset(s, 0, sizeof *s);
    s->types[0] = type_void_i32;
    s->funcs[0] = (struct wasm_func){.type_index = 0, .import_index = WASM_NO_INDEX};
    s->memory.limits = pages(1, 1);
    s->memory.import_index = WASM_NO_INDEX;
    s->table = (struct wasm_table){{WASM_TYPE_FUNCREF, pages(2, 2)}, WASM_NO_INDEX};
    s->datas[0] = (struct wasm_data){WASM_SEGMENT_ACTIVE, 0, i32_const(16), hello, 5};
    s->datas[1] = (struct wasm_data){WASM_SEGMENT_ACTIVE, 0, i32_const(data2_offset), world, 5};
    s->items[0] = (struct wasm_const_expr){.opcode = WASM_OP_REF_FUNC, .index = 0};
    s->elems[0] = (struct wasm_elem){.mode = WASM_SEGMENT_ACTIVE, .elem_type = WASM_TYPE_FUNCREF,
                                     .offset = i32_const(1), .item_count = 1, .items = s->items};
    s->exports[0] = (struct wasm_export){"seven", 5, WASM_EXTERN_FUNC, 0};
    s->code[0] = 7;
    struct wasm_module *m = &s->m;
    m->types = s->types;
    m->type_count = 1;
    m->funcs = s->funcs;
    m->func_count = 1;
    m->memories = &s->memory;
    m->memory_count = 1;
    m->tables = &s->table;
    m->table_count = 1;
    m->datas = s->datas;
    m->data_count = 2;
    m->elems = s->elems;
    m->elem_count = 1;
    m->exports = s->exports;
    m->export_count = 1;
    m->start_func = WASM_NO_INDEX;
}

static void test_instantiate_applies_segments_and_exports(void)
{
    struct runtime_store *store = runtime_store_create();
    struct runtime_exec exec;
    struct fl_error err = {0};
    CHECK(runtime_exec_init(&exec, store, 1024, &err) == FL_OK);
    struct segment_module s;
    segment_module(&s, 100);
    struct runtime_instance *in;
    CHECK(runtime_instantiate(store, &s.m, NULL, &fake_tier, s.code, &exec, &in, &err) == FL_OK);
    CHECK(memcmp(in->memories[0]->base + 16, "hello", 5) == 0);
    CHECK(memcmp(in->memories[0]->base + 100, "world", 5) == 0);
    CHECK(in->tables[0]->elems[0] == 0 && in->tables[0]->elems[1] == (uintptr_t)in->funcs[0]);
    CHECK(in->elem_dropped[0] && in->data_dropped[0] && in->data_dropped[1]);
    struct runtime_extern ext;
    CHECK(runtime_instance_export(in, "seven", &ext) && ext.kind == WASM_EXTERN_FUNC);
    CHECK(!runtime_instance_export(in, "seve", &ext));
    uint64_t cells[1];
    CHECK(runtime_call(&exec, ext.as.func, cells) == RUNTIME_OK && cells[0] == 7);
    /* Dropped segments behave as empty. */
    CHECK(runtime_memory_init(in, 0, 0, 0, 0, 0) == RUNTIME_OK);
    CHECK(runtime_memory_init(in, 0, 0, 0, 0, 1) == RUNTIME_TRAP_MEMORY_OUT_OF_BOUNDS);
    CHECK(runtime_table_init(in, 0, 0, 0, 0, 1) == RUNTIME_TRAP_TABLE_OUT_OF_BOUNDS);
    runtime_exec_fini(&exec);
    runtime_store_destroy(store);
}

static void test_out_of_bounds_segment_keeps_earlier_writes(void)
{
    struct runtime_store *store = runtime_store_create();
    struct fl_error err = {0};
    struct segment_module s;
    segment_module(&s, WASM_PAGE_SIZE - 2); /* second data segment overruns */
    /* Share the memory through an import so we can look at it afterwards. */
    struct wasm_limits l = pages(1, 1);
    struct runtime_extern mem = {.kind = WASM_EXTERN_MEMORY};
    mem.as.memory = runtime_memory_create(store, &l, &err);
    struct wasm_import imp = {.module_name = "m", .module_name_len = 1, .name = "mem",
                              .name_len = 3, .kind = WASM_EXTERN_MEMORY, .index = 0};
    s.memory.import_index = 0;
    s.m.imports = &imp;
    s.m.import_count = 1;
    s.m.import_memory_count = 1;
    struct runtime_instance *in = (void *)1;
    CHECK(runtime_instantiate(store, &s.m, &mem, &fake_tier, s.code, NULL, &in, &err) ==
          FL_ERR_UNINSTANTIABLE);
    CHECK(in == NULL && strncmp(err.msg, "out of bounds memory access", 27) == 0);
    CHECK(memcmp(mem.as.memory->base + 16, "hello", 5) == 0);
    CHECK(mem.as.memory->base[WASM_PAGE_SIZE - 2] == 0); /* nothing partial */

    segment_module(&s, 0);
    s.elems[0].offset = i32_const(2); /* past the 2-entry table */
    CHECK(runtime_instantiate(store, &s.m, NULL, &fake_tier, s.code, NULL, &in, &err) ==
          FL_ERR_UNINSTANTIABLE);
    CHECK(strncmp(err.msg, "out of bounds table access", 26) == 0);
    runtime_store_destroy(store);
}

static void test_start_function_trap_fails_instantiation(void)
{
    struct runtime_store *store = runtime_store_create();
    struct fl_error err = {0};
    struct segment_module s;
    segment_module(&s, 0);
    s.code[0] = -1; /* the fake tier traps with "unreachable" */
    s.m.start_func = 0;
    struct runtime_instance *in;
    CHECK(runtime_instantiate(store, &s.m, NULL, &fake_tier, s.code, NULL, &in, &err) ==
          FL_ERR_TRAP);
    CHECK(strncmp(err.msg, "unreachable", 11) == 0);
    runtime_store_destroy(store);
}

/* ---- tables, globals, types, traps ---- */

static void test_table_grow_honours_max(void)
{
    struct runtime_store *store = runtime_store_create();
    struct fl_error err;
    struct wasm_tabletype tt = {WASM_TYPE_EXTERNREF, pages(1, 3)};
    struct runtime_table *t = runtime_table_create(store, &tt, &err);
    CHECK(t && t->size == 1 && t->elems[0] == 0);
    CHECK(runtime_table_grow(t, 2, 99) == 1);
    CHECK(t->elems[1] == 99 && t->elems[2] == 99);
    CHECK(runtime_table_grow(t, 1, 0) == -1);
    CHECK(runtime_table_grow(t, 0, 0) == 3);
    struct wasm_tabletype huge = {WASM_TYPE_FUNCREF, {.min = 0xFFFFFFFFu}};
    CHECK(runtime_table_create(store, &huge, &err) == NULL && err.code == FL_ERR_LIMIT);
    runtime_store_destroy(store);
}

static void test_equal_signatures_share_a_type_id(void)
{
    struct runtime_store *store = runtime_store_create();
    uint8_t copy[] = {WASM_TYPE_I32, WASM_TYPE_I32};
    struct wasm_functype same = {1, 1, copy};
    uint32_t a = runtime_store_type_id(store, &type_i32_i32);
    CHECK(runtime_store_type_id(store, &same) == a);
    CHECK(runtime_store_type_id(store, &type_void_i32) != a);
    CHECK(runtime_store_type_id(store, &type_void) != a);
    /* Many distinct signatures (forces the index to grow). */
    uint8_t params[200];
    memset(params, WASM_TYPE_I64, sizeof params);
    uint32_t ids[200];
    for (uint32_t n = 0; n < 200; n++) {
        struct wasm_functype t = {n, 0, params};
        ids[n] = runtime_store_type_id(store, &t);
    }
    for (uint32_t n = 0; n < 200; n++) {
        struct wasm_functype t = {n, 0, params};
        CHECK(runtime_store_type_id(store, &t) == ids[n]);
    }
    CHECK(runtime_store_type_id(store, &type_i32_i32) == a);
    runtime_store_destroy(store);
}

static void test_trap_messages_are_the_spec_texts(void)
{
    CHECK(!strcmp(runtime_trap_message(RUNTIME_TRAP_UNREACHABLE), "unreachable"));
    CHECK(!strcmp(runtime_trap_message(RUNTIME_TRAP_MEMORY_OUT_OF_BOUNDS),
                  "out of bounds memory access"));
    CHECK(!strcmp(runtime_trap_message(RUNTIME_TRAP_INT_DIVIDE_BY_ZERO), "integer divide by zero"));
    CHECK(!strcmp(runtime_trap_message(RUNTIME_TRAP_INT_OVERFLOW), "integer overflow"));
    CHECK(!strcmp(runtime_trap_message(RUNTIME_TRAP_INVALID_CONVERSION),
                  "invalid conversion to integer"));
    CHECK(!strcmp(runtime_trap_message(RUNTIME_TRAP_INDIRECT_CALL_TYPE_MISMATCH),
                  "indirect call type mismatch"));
    CHECK(!strcmp(runtime_trap_message(RUNTIME_TRAP_UNDEFINED_ELEMENT), "undefined element"));
    CHECK(!strcmp(runtime_trap_message(RUNTIME_TRAP_UNINITIALIZED_ELEMENT),
                  "uninitialized element"));
    CHECK(!strcmp(runtime_trap_message(RUNTIME_TRAP_TABLE_OUT_OF_BOUNDS),
                  "out of bounds table access"));
    CHECK(!strcmp(runtime_trap_message(RUNTIME_TRAP_CALL_STACK_EXHAUSTED), "call stack exhausted"));
    for (int t = 0; t <= RUNTIME_TRAP_COUNT; t++)
        CHECK(runtime_trap_message(t) != NULL);
}

static void test_host_trap_and_interrupt_reach_the_caller(void);

static int host_fail(struct runtime_exec *exec, struct runtime_instance *caller, uint64_t *cells,
                     void *data)
{
    (void)caller, (void)cells, (void)data;
    snprintf(exec->trap_msg, sizeof exec->trap_msg, "env.fail: bad pointer");
    return RUNTIME_TRAP_HOST;
}

static int host_check_interrupt(struct runtime_exec *exec, struct runtime_instance *caller,
                                uint64_t *cells, void *data)
{
    (void)caller, (void)cells, (void)data;
    return atomic_load(&exec->interrupt) ? RUNTIME_TRAP_INTERRUPTED : RUNTIME_OK;
}

static void test_host_trap_and_interrupt_reach_the_caller(void)
{
    struct runtime_store *store = runtime_store_create();
    struct runtime_exec exec;
    struct fl_error err;
    CHECK(runtime_exec_init(&exec, store, 0, &err) == FL_OK);
    CHECK(exec.max_depth == 10000 && exec.stack_end - exec.stack == (1 << 20));
    uint64_t cells[1] = {0};
    struct runtime_func *f = runtime_host_func_create(store, &type_void, host_fail, NULL, "fail");
    CHECK(runtime_call(&exec, f, cells) == RUNTIME_TRAP_HOST);
    CHECK(!strcmp(exec.trap_msg, "env.fail: bad pointer"));
    struct runtime_func *g =
        runtime_host_func_create(store, &type_void, host_check_interrupt, NULL, "poll");
    runtime_exec_interrupt(&exec);
    CHECK(runtime_call(&exec, g, cells) == RUNTIME_TRAP_INTERRUPTED);
    CHECK(runtime_call(&exec, g, cells) == RUNTIME_OK); /* cleared when the call ended */
    runtime_exec_fini(&exec);
    runtime_store_destroy(store);
}

static const struct {
    const char *name;
    void (*fn)(void);
} tests[] = {
#define T(name) {#name, name}
    T(test_memory_grow_honours_max),
    T(test_memory_without_max_grows_to_4gib_limit_only),
    T(test_memory_ptr_checks_bounds),
    T(test_shared_memory_requires_max),
    T(test_bounds_checked_memory_reserves_only_max),
    T(test_memory_beyond_4gib_is_refused),
    T(test_guard_page_fault_in_runtime_call_becomes_trap),
    T(test_nested_runtime_call_recovers_each_level),
    T(test_native_stack_overflow_becomes_call_stack_exhausted),
    T(test_fault_outside_memories_stays_a_crash),
    T(test_linker_reports_unknown_and_incompatible_imports),
    T(test_import_limits_are_matched),
    T(test_instantiate_applies_segments_and_exports),
    T(test_out_of_bounds_segment_keeps_earlier_writes),
    T(test_start_function_trap_fails_instantiation),
    T(test_table_grow_honours_max),
    T(test_equal_signatures_share_a_type_id),
    T(test_trap_messages_are_the_spec_texts),
    T(test_host_trap_and_interrupt_reach_the_caller),
#undef T
};

int main(int argc, char **argv)
{
    int ran = 0;
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        if (argc > 1 && strcmp(argv[1], tests[i].name) != 0)
            continue;
        int before = failures;
        tests[i].fn();
        printf("%s %s\n", failures == before ? "ok  " : "FAIL", tests[i].name);
        ran++;
    }
    if (!ran) {
        fprintf(stderr, "no test named %s\n", argc > 1 ? argv[1] : "?");
        return 2;
    }
    return failures ? 1 : 0;
}
