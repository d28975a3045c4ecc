/* test_engine.c: the embedding API (include/faaslet/embed.h) end to end
 * with the interpreter: host functions with memory access and traps, calls,
 * globals, load/link errors, interrupts. Run one test by name. */
#include "faaslet/embed.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef __has_feature
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#ifdef __SANITIZE_ADDRESS__
#define TEST_ASAN 1
#endif
#ifdef TEST_ASAN
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

/* wat2wasm of:
 * (module
 *   (import "env" "double" (func $d (param i32) (result i32)))
 *   (memory (export "memory") 1)
 *   (global (export "g") (mut i32) (i32.const 5))
 *   (global (export "c") i64 (i64.const 9))
 *   (func (export "run") (param i32) (result i32)
 *     local.get 0 call $d i32.const 1 i32.add)
 *   (func (export "oob") (result i32) i32.const 70000 i32.load)
 *   (func (export "fail") (result i32) i32.const 3 call $d)
 *   (func (export "spin") (loop br 0))) */
static const uint8_t module_bytes[] = {
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0d, 0x03, 0x60,
  0x01, 0x7f, 0x01, 0x7f, 0x60, 0x00, 0x01, 0x7f, 0x60, 0x00, 0x00, 0x02,
  0x0e, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x06, 0x64, 0x6f, 0x75, 0x62, 0x6c,
  0x65, 0x00, 0x00, 0x03, 0x05, 0x04, 0x00, 0x01, 0x01, 0x02, 0x05, 0x03,
  0x01, 0x00, 0x01, 0x06, 0x0b, 0x02, 0x7f, 0x01, 0x41, 0x05, 0x0b, 0x7e,
  0x00, 0x42, 0x09, 0x0b, 0x07, 0x2c, 0x07, 0x06, 0x6d, 0x65, 0x6d, 0x6f,
  0x72, 0x79, 0x02, 0x00, 0x01, 0x67, 0x03, 0x00, 0x01, 0x63, 0x03, 0x01,
  0x03, 0x72, 0x75, 0x6e, 0x00, 0x01, 0x03, 0x6f, 0x6f, 0x62, 0x00, 0x02,
  0x04, 0x66, 0x61, 0x69, 0x6c, 0x00, 0x03, 0x04, 0x73, 0x70, 0x69, 0x6e,
  0x00, 0x04, 0x0a, 0x24, 0x04, 0x09, 0x00, 0x20, 0x00, 0x10, 0x00, 0x41,
  0x01, 0x6a, 0x0b, 0x09, 0x00, 0x41, 0xf0, 0xa2, 0x04, 0x28, 0x02, 0x00,
  0x0b, 0x06, 0x00, 0x41, 0x03, 0x10, 0x00, 0x0b, 0x07, 0x00, 0x03, 0x40,
  0x0c, 0x00, 0x0b, 0x0b
};

/* env.double: stores its argument at address 0 and returns it doubled;
 * refuses 3. */
static int host_double(fl_caller_t *caller, const fl_value_t *args, fl_value_t *results,
                       void *data)
{
    int *calls = data;
    (*calls)++;
    if (args[0].of.i32 == 3)
        return fl_caller_trap(caller, "env.double: three is bad");
    size_t size;
    uint8_t *mem = fl_caller_memory(caller, &size);
    if (!mem || size < 4)
        return fl_caller_trap(caller, "env.double: no memory");
    memcpy(mem, &args[0].of.i32, 4);
    results[0] = FL_VALUE_I32(args[0].of.i32 * 2);
    return 0;
}

static fl_engine_t *engine_with_double(int *calls)
{
    struct fl_error err = {0};
    fl_engine_t *e = fl_engine_create(NULL, &err);
    CHECK(e != NULL);
    const uint8_t i32[] = {FL_I32};
    CHECK(fl_define_host_func(e, "env", "double", i32, 1, i32, 1, host_double, calls, &err) ==
          FL_OK);
    return e;
}

static void test_call_goes_through_host_function_and_memory(void)
{
    int calls = 0;
    struct fl_error err = {0};
    fl_engine_t *e = engine_with_double(&calls);
    fl_module_t *m;
    CHECK(fl_module_load(e, module_bytes, sizeof module_bytes, &m, &err) == FL_OK);
    fl_instance_t *in;
    CHECK(fl_instantiate(e, m, &in, &err) == FL_OK);
    fl_module_destroy(m); /* the engine keeps what the instance needs */
    fl_value_t arg = FL_VALUE_I32(20), res;
    CHECK(fl_call(in, "run", &arg, 1, &res, 1, &err) == FL_TRAP_NONE);
    CHECK(res.type == FL_I32 && res.of.i32 == 41 && calls == 1);
    size_t size;
    uint8_t *mem = fl_instance_memory(in, &size);
    int32_t stored;
    memcpy(&stored, mem, 4);
    CHECK(size == 65536 && stored == 20);
    fl_engine_destroy(e);
}

static void test_traps_come_back_with_their_message(void)
{
    int calls = 0;
    struct fl_error err = {0};
    fl_engine_t *e = engine_with_double(&calls);
    fl_module_t *m;
    fl_instance_t *in;
    CHECK(fl_module_load(e, module_bytes, sizeof module_bytes, &m, &err) == FL_OK);
    CHECK(fl_instantiate(e, m, &in, &err) == FL_OK);
    fl_value_t res;
    CHECK(fl_call(in, "oob", NULL, 0, &res, 1, &err) == FL_TRAP_MEMORY_OUT_OF_BOUNDS);
    CHECK(err.code == FL_ERR_TRAP && !strcmp(err.msg, "out of bounds memory access"));
    CHECK(fl_call(in, "fail", NULL, 0, &res, 1, &err) == FL_TRAP_HOST);
    CHECK(!strcmp(err.msg, "env.double: three is bad"));
    CHECK(!strcmp(fl_trap_message(FL_TRAP_INT_DIVIDE_BY_ZERO), "integer divide by zero"));
    /* The instance still works after traps. */
    fl_value_t arg = FL_VALUE_I32(1);
    CHECK(fl_call(in, "run", &arg, 1, &res, 1, &err) == FL_TRAP_NONE && res.of.i32 == 3);
    fl_module_destroy(m);
    fl_engine_destroy(e);
}

static void test_bad_calls_and_globals_are_errors(void)
{
    int calls = 0;
    struct fl_error err = {0};
    fl_engine_t *e = engine_with_double(&calls);
    fl_module_t *m;
    fl_instance_t *in;
    CHECK(fl_module_load(e, module_bytes, sizeof module_bytes, &m, &err) == FL_OK);
    CHECK(fl_instantiate(e, m, &in, &err) == FL_OK);
    fl_value_t res, arg = FL_VALUE_I64(1);
    CHECK(fl_call(in, "nope", NULL, 0, NULL, 0, &err) == FL_ERR_NOT_FOUND);
    CHECK(fl_call(in, "memory", NULL, 0, NULL, 0, &err) == FL_ERR_NOT_FOUND);
    CHECK(fl_call(in, "run", NULL, 0, &res, 1, &err) == FL_ERR_ARG);
    CHECK(fl_call(in, "run", &arg, 1, &res, 1, &err) == FL_ERR_ARG);
    CHECK(calls == 0);
    fl_value_t g;
    CHECK(fl_global_get(in, "g", &g, &err) == FL_OK && g.type == FL_I32 && g.of.i32 == 5);
    fl_value_t seven = FL_VALUE_I32(7);
    CHECK(fl_global_set(in, "g", &seven, &err) == FL_OK);
    CHECK(fl_global_get(in, "g", &g, &err) == FL_OK && g.of.i32 == 7);
    CHECK(fl_global_get(in, "c", &g, &err) == FL_OK && g.type == FL_I64 && g.of.i64 == 9);
    CHECK(fl_global_set(in, "c", &arg, &err) == FL_ERR_ARG); /* immutable */
    CHECK(fl_global_set(in, "g", &arg, &err) == FL_ERR_ARG); /* wrong type */
    CHECK(fl_global_get(in, "run", &g, &err) == FL_ERR_NOT_FOUND);
    fl_module_destroy(m);
    fl_engine_destroy(e);
}

static void test_load_and_link_errors_say_what_is_wrong(void)
{
    struct fl_error err = {0};
    fl_engine_t *e = fl_engine_create(NULL, &err);
    fl_module_t *m = (void *)1;
    const uint8_t junk[] = {0x00, 0x61, 0x73, 0x6d, 0x02, 0x00, 0x00, 0x00};
    CHECK(fl_module_load(e, junk, sizeof junk, &m, &err) == FL_ERR_MALFORMED && m == NULL);
    CHECK(fl_module_load(e, module_bytes, 20, &m, &err) == FL_ERR_MALFORMED);
    CHECK(fl_module_load(e, module_bytes, sizeof module_bytes, &m, &err) == FL_OK);
    fl_instance_t *in;
    CHECK(fl_instantiate(e, m, &in, &err) == FL_ERR_UNLINKABLE);
    CHECK(strstr(err.msg, "unknown import env.double") != NULL);
    const uint8_t i64[] = {FL_I64};
    int calls = 0;
    CHECK(fl_define_host_func(e, "env", "double", i64, 1, i64, 1, host_double, &calls, &err) ==
          FL_OK);
    CHECK(fl_instantiate(e, m, &in, &err) == FL_ERR_UNLINKABLE);
    CHECK(strstr(err.msg, "incompatible import type") != NULL);
    const uint8_t bad[] = {0x42};
    CHECK(fl_define_host_func(e, "env", "x", bad, 1, NULL, 0, host_double, &calls, &err) ==
          FL_ERR_ARG);
    struct fl_engine_config cfg = {.tier = "jit"};
    CHECK(fl_engine_create(&cfg, &err) == NULL && err.code == FL_ERR_ARG);
    fl_module_destroy(m);
    fl_engine_destroy(e);
}

static void *interrupt_later(void *arg)
{
    usleep(50 * 1000);
    fl_engine_interrupt(arg);
    return NULL;
}

static void test_interrupt_stops_an_endless_loop(void)
{
    int calls = 0;
    struct fl_error err = {0};
    fl_engine_t *e = engine_with_double(&calls);
    fl_module_t *m;
    fl_instance_t *in;
    CHECK(fl_module_load(e, module_bytes, sizeof module_bytes, &m, &err) == FL_OK);
    CHECK(fl_instantiate(e, m, &in, &err) == FL_OK);
    pthread_t t;
    pthread_create(&t, NULL, interrupt_later, e);
    CHECK(fl_call(in, "spin", NULL, 0, NULL, 0, &err) == FL_TRAP_INTERRUPTED);
    pthread_join(t, NULL);
    fl_module_destroy(m);
    fl_engine_destroy(e);
}

static const struct {
    const char *name;
    void (*fn)(void);
} tests[] = {
#define T(name) {#name, name}
    T(test_call_goes_through_host_function_and_memory),
    T(test_traps_come_back_with_their_message),
    T(test_bad_calls_and_globals_are_errors),
    T(test_load_and_link_errors_say_what_is_wrong),
    T(test_interrupt_stops_an_endless_loop),
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
