/* test_interp.c: the interpreter tier end to end over interp_test.wat
 * (compiled by wat2wasm at build time): arithmetic, loops, fused branches,
 * lazy locals, memory, traps, multi-value, calls out to host functions and
 * back in. Usage: test_interp WASM_PATH TEST_NAME (ctest registers each). */
#include "interp/interp_internal.h"
#include "runtime/runtime.h"

#include <math.h>
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

/* One loaded, instantiated copy of interp_test.wasm. */
struct fixture {
    struct runtime_store *store;
    struct runtime_exec exec;
    struct wasm_module *module;
    struct interp_module *code;
    struct runtime_linker *linker;
    struct runtime_instance *instance;
};

static struct fixture fixture;
static struct fixture *const current = &fixture;

static int host_add3(struct runtime_exec *exec, struct runtime_instance *caller, uint64_t *cells,
                     void *data)
{
    (void)exec, (void)caller, (void)data;
    cells[0] = (uint32_t)((uint32_t)cells[0] + (uint32_t)cells[1] + (uint32_t)cells[2]);
    return RUNTIME_OK;
}

/* Calls back into the instance's "fib" with its own cells (a nested
 * interpreter activation while the outer one is suspended in a call). */
static int host_reenter(struct runtime_exec *exec, struct runtime_instance *caller,
                        uint64_t *cells, void *data)
{
    (void)data;
    struct runtime_extern ext;
    if (!runtime_instance_export(caller, "fib", &ext))
        return RUNTIME_TRAP_HOST;
    uint64_t inner[1] = {cells[0]};
    int rc = runtime_call(exec, ext.as.func, inner);
    if (rc)
        return rc;
    cells[0] = inner[0] * 2;
    return RUNTIME_OK;
}

static uint8_t *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = malloc(1 << 20);
    *size = buf ? fread(buf, 1, 1 << 20, f) : 0;
    fclose(f);
    return buf;
}

static int setup(struct fixture *fx, const char *path)
{
    struct fl_error err = {0};
    memset(fx, 0, sizeof *fx);
    size_t size;
    uint8_t *bytes = read_file(path, &size);
    if (!bytes) {
        fprintf(stderr, "cannot read %s\n", path);
        return -1;
    }
    int rc = wasm_module_load(bytes, size, &fx->module, &err);
    free(bytes);
    if (rc) {
        fprintf(stderr, "load: %s\n", err.msg);
        return -1;
    }
    fx->code = interp_module_compile(fx->module, &err);
    if (!fx->code) {
        fprintf(stderr, "compile: %s\n", err.msg);
        return -1;
    }
    for (uint32_t i = 0; i < fx->code->func_count; i++)
        if (interp_func_verify(&fx->code->funcs[i], &err)) {
            fprintf(stderr, "verify: %s\n", err.msg);
            interp_func_dump(&fx->code->funcs[i], stderr);
            return -1;
        }
    fx->store = runtime_store_create();
    if (!fx->store || runtime_exec_init(&fx->exec, fx->store, 1 << 16, &err))
        return -1;
    fx->exec.max_depth = 1000;
    fx->linker = runtime_linker_create(fx->store);
    static const uint8_t t3[] = {WASM_TYPE_I32, WASM_TYPE_I32, WASM_TYPE_I32, WASM_TYPE_I32};
    struct wasm_functype add3_type = {3, 1, (uint8_t *)t3};
    struct wasm_functype reenter_type = {1, 1, (uint8_t *)t3};
    struct runtime_extern e = {.kind = WASM_EXTERN_FUNC};
    e.as.func = runtime_host_func_create(fx->store, &add3_type, host_add3, NULL, "add3");
    runtime_linker_define(fx->linker, "host", "add3", &e);
    e.as.func = runtime_host_func_create(fx->store, &reenter_type, host_reenter, NULL, "reenter");
    runtime_linker_define(fx->linker, "host", "reenter", &e);
    rc = runtime_linker_instantiate(fx->linker, fx->module, &interp_tier, fx->code, &fx->exec,
                                    &fx->instance, &err);
    if (rc) {
        fprintf(stderr, "instantiate: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static void teardown(struct fixture *fx)
{
    runtime_linker_destroy(fx->linker);
    runtime_exec_fini(&fx->exec);
    runtime_store_destroy(fx->store);
    interp_module_destroy(fx->code);
    wasm_module_destroy(fx->module);
}

/* Calls export name with cells in/out; returns the trap code. */
static int call(const char *name, uint64_t *cells)
{
    struct runtime_extern ext;
    if (!runtime_instance_export(current->instance, name, &ext)) {
        fprintf(stderr, "no export %s\n", name);
        failures++;
        return -1;
    }
    return runtime_call(&current->exec, ext.as.func, cells);
}

static uint64_t call1(const char *name, uint64_t a)
{
    uint64_t cells[4] = {a};
    int rc = call(name, cells);
    CHECK(rc == RUNTIME_OK);
    return cells[0];
}

static uint64_t f64_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

static void test_recursion_and_loops_compute_factorials_and_fibonacci(void)
{
    CHECK(call1("fac_rec", 20) == 2432902008176640000ull);
    CHECK(call1("fac_iter", 10) == 3628800);
    CHECK(call1("fib", 20) == 6765);
    CHECK(call1("fib", 0) == 0);
}

static void test_compare_with_minus_one_constant_branches_correctly(void)
{
    CHECK(call1("count_to_minus_one", 5) == 6);
    CHECK(call1("count_to_minus_one", 0) == 1);
}

static void test_lazy_local_reads_see_values_before_later_sets(void)
{
    CHECK(call1("read_before_set", 5) == 11);
    CHECK((uint32_t)call1("lazy_get_then_tee", 30) == (uint32_t)(30 - 100));
    uint64_t cells[2] = {1, 2};
    CHECK(call("swap", cells) == RUNTIME_OK);
    CHECK(cells[0] == 2 && cells[1] == 1);
    uint64_t cells2[2] = {7, 9};
    CHECK(call("return_locals_reversed", cells2) == RUNTIME_OK);
    CHECK(cells2[0] == 9 && cells2[1] == 7);
}

static void test_memory_loads_stores_grow_and_bounds(void)
{
    CHECK(call1("sum_mem", 1000) == 999 * 1000 / 2);
    /* last valid i32 at offset 1: address 65531 + 1 + 4 = 65536 */
    uint64_t c[1] = {65531};
    CHECK(call("load_at", c) == RUNTIME_OK);
    c[0] = 65532;
    CHECK(call("load_at", c) == RUNTIME_TRAP_MEMORY_OUT_OF_BOUNDS);
    c[0] = 0xFFFFFFFFu;
    CHECK(call("load_at", c) == RUNTIME_TRAP_MEMORY_OUT_OF_BOUNDS);
    CHECK(call1("grow", 1) == 1);
    c[0] = 65532;
    CHECK(call("load_at", c) == RUNTIME_OK);
    CHECK((uint32_t)call1("grow", 10) == 0xFFFFFFFFu);
    uint64_t f[3] = {131072 - 4, 0xAB, 5};
    CHECK(call("fill", f) == RUNTIME_TRAP_MEMORY_OUT_OF_BOUNDS);
    uint64_t f2[3] = {131072 - 4, 0xAB, 4};
    CHECK(call("fill", f2) == RUNTIME_OK);
}

static void test_traps_report_the_right_kind(void)
{
    uint64_t c[2] = {1, 0};
    CHECK(call("div_s", c) == RUNTIME_TRAP_INT_DIVIDE_BY_ZERO);
    uint64_t c2[2] = {0x80000000u, 0xFFFFFFFFu};
    CHECK(call("div_s", c2) == RUNTIME_TRAP_INT_OVERFLOW);
    uint64_t c3[2] = {0x80000000u, 0xFFFFFFFFu};
    CHECK(call("rem_s", c3) == RUNTIME_OK && (uint32_t)c3[0] == 0);
    uint64_t t[1] = {f64_bits(NAN)};
    CHECK(call("trunc", t) == RUNTIME_TRAP_INVALID_CONVERSION);
    t[0] = f64_bits(2147483648.0);
    CHECK(call("trunc", t) == RUNTIME_TRAP_INT_OVERFLOW);
    t[0] = f64_bits(-2147483648.9);
    CHECK(call("trunc", t) == RUNTIME_OK && (uint32_t)t[0] == 0x80000000u);
    uint64_t none[1] = {0};
    CHECK(call("trap_unreachable", none) == RUNTIME_TRAP_UNREACHABLE);
    CHECK(current->exec.trap_module == current->module);
    uint64_t d[1] = {0};
    CHECK(call("deep", d) == RUNTIME_TRAP_CALL_STACK_EXHAUSTED);
    CHECK(current->exec.depth == 0);
    /* the interpreter still works after every trap */
    CHECK(call1("fib", 10) == 55);
}

static void test_call_indirect_checks_index_null_and_type(void)
{
    uint64_t c[2] = {10, 0};
    CHECK(call("call_indirect", c) == RUNTIME_OK && c[0] == 55);
    uint64_t c2[2] = {5, 1};
    CHECK(call("call_indirect", c2) == RUNTIME_OK && c2[0] == 120);
    uint64_t c3[2] = {5, 2};
    CHECK(call("call_indirect", c3) == RUNTIME_TRAP_UNINITIALIZED_ELEMENT);
    uint64_t c4[2] = {5, 4};
    CHECK(call("call_indirect", c4) == RUNTIME_TRAP_UNDEFINED_ELEMENT);
    uint64_t c5[1] = {0};
    CHECK(call("call_indirect_void", c5) == RUNTIME_TRAP_INDIRECT_CALL_TYPE_MISMATCH);
}

static void test_multi_value_blocks_and_branches(void)
{
    uint64_t c[2] = {5};
    CHECK(call("block_params", c) == RUNTIME_OK && c[0] == 15 && c[1] == 3);
    CHECK(call1("br_out", 0) == 11);
    CHECK(call1("br_out", 1) == 13);
    CHECK(call1("br_table", 0) == 100);
    CHECK(call1("br_table", 1) == 110);
    CHECK(call1("br_table", 2) == 111);
    CHECK(call1("br_table", 99) == 111);
    uint64_t s[3] = {1, 2, 0};
    CHECK(call("select", s) == RUNTIME_OK && s[0] == 2);
    uint64_t s2[3] = {1, 2, 7};
    CHECK(call("select", s2) == RUNTIME_OK && s2[0] == 1);
    uint64_t none[1] = {0};
    CHECK(call("global_bump", none) == RUNTIME_OK && none[0] == 8);
}

static void test_host_calls_and_reentry(void)
{
    CHECK(call1("call_host", 4) == 1324);
    CHECK(call1("call_reenter", 10) == 111);
    /* a trap inside the nested activation reaches the outer caller */
    CHECK(current->exec.depth == 0);
}

static void test_interrupt_stops_an_endless_loop(void)
{
    atomic_store(&current->exec.interrupt, 1);
    uint64_t none[1] = {0};
    CHECK(call("spin", none) == RUNTIME_TRAP_INTERRUPTED);
    atomic_store(&current->exec.interrupt, 0);
    CHECK(call1("fib", 5) == 5);
}

static void test_float_min_and_nearest_edge_cases(void)
{
    float nz = -0.0f, pz = 0.0f;
    uint32_t a, b;
    memcpy(&a, &pz, 4);
    memcpy(&b, &nz, 4);
    uint64_t c[2] = {a, b};
    CHECK(call("f32_min", c) == RUNTIME_OK && (uint32_t)c[0] == 0x80000000u);
    CHECK(call1("f64_nearest", f64_bits(2.5)) == f64_bits(2.0));
    CHECK(call1("f64_nearest", f64_bits(-3.5)) == f64_bits(-4.0));
}

/* The name the last trap reports (as `faaslet run` prints it). */
static const char *trap_func_name(char *buf, size_t n)
{
    if (!current->exec.trap_module)
        return "?";
    return wasm_module_func_name(current->exec.trap_module, current->exec.trap_func, buf, n);
}

static void test_guard_page_faults_name_the_faulting_function(void)
{
    char name[64];
    CHECK(current->instance->memories[0]->guarded);
    uint64_t c[1] = {0xFFFFFFF0u};
    CHECK(call("oob_in_callee", c) == RUNTIME_TRAP_MEMORY_OUT_OF_BOUNDS);
    CHECK(strcmp(trap_func_name(name, sizeof name), "oob_load") == 0);
    c[0] = 0xFFFFFFF0u;
    CHECK(call("oob_after_call", c) == RUNTIME_TRAP_MEMORY_OUT_OF_BOUNDS);
    CHECK(strcmp(trap_func_name(name, sizeof name), "oob_after_call") == 0);
    c[0] = 0xFFFFFFF0u;
    CHECK(call("oob_load", c) == RUNTIME_TRAP_MEMORY_OUT_OF_BOUNDS);
    CHECK(strcmp(trap_func_name(name, sizeof name), "oob_load") == 0);
    CHECK(current->exec.depth == 0);
    CHECK(call1("fib", 10) == 55);
}

static void test_superinstructions_keep_wasm_semantics(void)
{
    /* (p1 + 2.5) * 4 / 4 - 0.25 + (2.5 - p1) */
    uint64_t c[2] = {(uint32_t)-8, f64_bits(1.0)};
    CHECK(call("f64_mem_ops", c) == RUNTIME_OK && c[0] == f64_bits(3.25 + 1.5));
    uint64_t st[2] = {0, f64_bits(3.0)};
    CHECK(call("f64_store_ops", st) == RUNTIME_OK && st[0] == f64_bits(9.5));
    uint64_t st2[2] = {0xFFFFFFF0u, f64_bits(3.0)};
    CHECK(call("f64_store_ops", st2) == RUNTIME_TRAP_MEMORY_OUT_OF_BOUNDS);
    /* the address wraps to 0 before the offset: a load at 4, not a trap */
    CHECK((uint32_t)call1("i32_load_wrap", 0xFFFFFFF0u) == 0x12345678u);
    uint64_t t[1] = {0xFFFFFF00u};
    CHECK(call("i32_load_wrap", t) == RUNTIME_TRAP_MEMORY_OUT_OF_BOUNDS);
    uint32_t x = 0x80000001u;
    CHECK((uint32_t)call1("rot_imm", x) == (((x << 7) | (x >> 25)) ^ ((x >> 3) | (x << 29))));
    x = 0x9ABCDEF1u;
    CHECK((uint32_t)call1("sigma", x) ==
          ((((x << 25) | (x >> 7)) ^ ((x << 14) | (x >> 18))) ^ (x >> 3)));
    uint64_t y = 0x8000000000000003ull;
    CHECK(call1("rot64_imm", y) == (((y << 13) | (y >> 51)) ^ ((y >> 6) | (y << 58))));
}

static const struct {
    const char *name;
    void (*fn)(void);
} tests[] = {
#define T(name) {#name, name}
    T(test_recursion_and_loops_compute_factorials_and_fibonacci),
    T(test_compare_with_minus_one_constant_branches_correctly),
    T(test_lazy_local_reads_see_values_before_later_sets),
    T(test_memory_loads_stores_grow_and_bounds),
    T(test_traps_report_the_right_kind),
    T(test_call_indirect_checks_index_null_and_type),
    T(test_multi_value_blocks_and_branches),
    T(test_host_calls_and_reentry),
    T(test_interrupt_stops_an_endless_loop),
    T(test_float_min_and_nearest_edge_cases),
    T(test_guard_page_faults_name_the_faulting_function),
    T(test_superinstructions_keep_wasm_semantics),
#undef T
};

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_interp WASM [TEST]\n");
        return 2;
    }
    int ran = 0;
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        if (argc > 2 && strcmp(argv[2], tests[i].name) != 0)
            continue;
        if (setup(&fixture, argv[1]) != 0)
            return 1;
        tests[i].fn();
        teardown(&fixture);
        ran++;
    }
    if (!ran) {
        fprintf(stderr, "no test named %s\n", argv[2]);
        return 2;
    }
    if (failures)
        fprintf(stderr, "%d check(s) failed\n", failures);
    return failures ? 1 : 0;
}
