/* test_wasm_decode.c: unit tests of the wasm part on hand-built binaries:
 * LEB128 edge cases, truncation and mutation of a module that uses every
 * section, huge counts, the name section, and what the loaded module holds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/opcodes.h"
#include "wasm/reader.h"
#include "wasm/wasm.h"

static int failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);             \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

/* A growable byte buffer for building modules. */
struct buf {
    uint8_t data[4096];
    size_t len;
};

static void put(struct buf *b, const void *p, size_t n)
{
    if (b->len + n > sizeof b->data)
        abort(); /* test bug, not input */
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void put_u8(struct buf *b, uint8_t v)
{
    put(b, &v, 1);
}

static void put_leb(struct buf *b, uint64_t v)
{
    do {
        uint8_t byte = v & 0x7F;
        v >>= 7;
        put_u8(b, byte | (v ? 0x80 : 0));
    } while (v);
}

static void put_name(struct buf *b, const char *s)
{
    put_leb(b, strlen(s));
    put(b, s, strlen(s));
}

static void put_section(struct buf *b, uint8_t id, const struct buf *content)
{
    put_u8(b, id);
    put_leb(b, content->len);
    put(b, content->data, content->len);
}

static void put_header(struct buf *b)
{
    static const uint8_t h[8] = {0, 'a', 's', 'm', 1, 0, 0, 0};
    put(b, h, 8);
}

static int load(const struct buf *b, struct wasm_module **m, struct fl_error *err)
{
    return wasm_module_load(b->data, b->len, m, err);
}

/* A module using every section: imports of each kind, two functions with
 * locals, table, memory, global, exports, start, elements, data count, code,
 * data, and (optionally) a name section. Records section boundaries. */
static void build_full(struct buf *b, bool with_names, size_t *bounds, size_t *nbounds)
{
    struct buf s;
    *nbounds = 0;
    put_header(b);
    bounds[(*nbounds)++] = b->len;

    s.len = 0; /* types: 0 = [] -> [], 1 = [i32] -> [i32] */
    put_leb(&s, 2);
    put_u8(&s, 0x60), put_leb(&s, 0), put_leb(&s, 0);
    put_u8(&s, 0x60), put_leb(&s, 1), put_u8(&s, WASM_TYPE_I32), put_leb(&s, 1),
        put_u8(&s, WASM_TYPE_I32);
    put_section(b, 1, &s);
    bounds[(*nbounds)++] = b->len;

    s.len = 0; /* imports: func (type 1), global i32 const */
    put_leb(&s, 2);
    put_name(&s, "env"), put_name(&s, "f"), put_u8(&s, 0), put_leb(&s, 1);
    put_name(&s, "env"), put_name(&s, "g"), put_u8(&s, 3), put_u8(&s, WASM_TYPE_I32),
        put_u8(&s, 0);
    put_section(b, 2, &s);
    bounds[(*nbounds)++] = b->len;

    s.len = 0; /* functions: 1 (type 0, start), 2 (type 1) */
    put_leb(&s, 2), put_leb(&s, 0), put_leb(&s, 1);
    put_section(b, 3, &s);
    bounds[(*nbounds)++] = b->len;

    s.len = 0; /* table funcref min 2 max 10 */
    put_leb(&s, 1), put_u8(&s, WASM_TYPE_FUNCREF), put_u8(&s, 1), put_leb(&s, 2),
        put_leb(&s, 10);
    put_section(b, 4, &s);
    bounds[(*nbounds)++] = b->len;

    s.len = 0; /* memory min 1 */
    put_leb(&s, 1), put_u8(&s, 0), put_leb(&s, 1);
    put_section(b, 5, &s);
    bounds[(*nbounds)++] = b->len;

    s.len = 0; /* global mut i32 = global.get 0 (the import) */
    put_leb(&s, 1), put_u8(&s, WASM_TYPE_I32), put_u8(&s, 1);
    put_u8(&s, WASM_OP_GLOBAL_GET), put_leb(&s, 0), put_u8(&s, WASM_OP_END);
    put_section(b, 6, &s);
    bounds[(*nbounds)++] = b->len;

    s.len = 0; /* exports: "inc" func 2, "mem" memory 0 */
    put_leb(&s, 2);
    put_name(&s, "inc"), put_u8(&s, 0), put_leb(&s, 2);
    put_name(&s, "mem"), put_u8(&s, 2), put_leb(&s, 0);
    put_section(b, 7, &s);
    bounds[(*nbounds)++] = b->len;

    s.len = 0; /* start: func 1 */
    put_leb(&s, 1);
    put_section(b, 8, &s);
    bounds[(*nbounds)++] = b->len;

    s.len = 0; /* elems: active at 0 [1, 2]; declarative (flags 3) [2] */
    put_leb(&s, 2);
    put_leb(&s, 0), put_u8(&s, WASM_OP_I32_CONST), put_leb(&s, 0), put_u8(&s, WASM_OP_END);
    put_leb(&s, 2), put_leb(&s, 1), put_leb(&s, 2);
    put_leb(&s, 3), put_u8(&s, 0), put_leb(&s, 1), put_leb(&s, 2);
    put_section(b, 9, &s);
    bounds[(*nbounds)++] = b->len;

    s.len = 0; /* data count 2 */
    put_leb(&s, 2);
    put_section(b, 12, &s);
    bounds[(*nbounds)++] = b->len;

    s.len = 0; /* code */
    put_leb(&s, 2);
    {
        /* func 1: (local i64 i64 f32) data.drop 1; ref.func 2; drop */
        struct buf f = {.len = 0};
        put_leb(&f, 2), put_leb(&f, 2), put_u8(&f, WASM_TYPE_I64), put_leb(&f, 1),
            put_u8(&f, WASM_TYPE_F32);
        put_u8(&f, WASM_OP_PREFIX_FC), put_leb(&f, WASM_OP_FC_DATA_DROP), put_leb(&f, 1);
        put_u8(&f, WASM_OP_REF_FUNC), put_leb(&f, 2), put_u8(&f, WASM_OP_DROP);
        put_u8(&f, WASM_OP_END);
        put_leb(&s, f.len), put(&s, f.data, f.len);
    }
    {
        /* func 2: local.get 0; call 0; i32.const 1; i32.add; global.set 1 ... */
        struct buf f = {.len = 0};
        put_leb(&f, 0);
        put_u8(&f, WASM_OP_LOCAL_GET), put_leb(&f, 0);
        put_u8(&f, WASM_OP_CALL), put_leb(&f, 0);
        put_u8(&f, WASM_OP_I32_CONST), put_leb(&f, 1);
        put_u8(&f, WASM_OP_I32_ADD);
        put_u8(&f, WASM_OP_END);
        put_leb(&s, f.len), put(&s, f.data, f.len);
    }
    put_section(b, 10, &s);
    bounds[(*nbounds)++] = b->len;

    s.len = 0; /* data: active at 8 "hi"; passive "xyz" */
    put_leb(&s, 2);
    put_leb(&s, 0), put_u8(&s, WASM_OP_I32_CONST), put_leb(&s, 8), put_u8(&s, WASM_OP_END),
        put_name(&s, "hi");
    put_leb(&s, 1), put_name(&s, "xyz");
    put_section(b, 11, &s);
    bounds[(*nbounds)++] = b->len;

    if (with_names) {
        s.len = 0;
        put_name(&s, "name");
        struct buf sub = {.len = 0};
        put_name(&sub, "mymod");
        put_u8(&s, 0), put_leb(&s, sub.len), put(&s, sub.data, sub.len);
        sub.len = 0;
        put_leb(&sub, 2), put_leb(&sub, 0), put_name(&sub, "imported_f"), put_leb(&sub, 2),
            put_name(&sub, "inc");
        put_u8(&s, 1), put_leb(&s, sub.len), put(&s, sub.data, sub.len);
        put_section(b, 0, &s);
        bounds[(*nbounds)++] = b->len;
    }
}

static void test_leb128_limits(void)
{
    struct wasm_reader r;
    uint32_t u;
    int32_t i;
    int64_t l;
    static const uint8_t max_u32[] = {0xFF, 0xFF, 0xFF, 0xFF, 0x0F};
    wasm_reader_init(&r, max_u32, max_u32, max_u32 + 5);
    CHECK(wasm_read_u32(&r, &u) && u == 0xFFFFFFFFu && wasm_reader_at_end(&r));

    static const uint8_t too_large[] = {0xFF, 0xFF, 0xFF, 0xFF, 0x1F};
    wasm_reader_init(&r, too_large, too_large, too_large + 5);
    CHECK(!wasm_read_u32(&r, &u) && r.status == WASM_READ_TOO_LARGE);

    static const uint8_t too_long[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
    wasm_reader_init(&r, too_long, too_long, too_long + 6);
    CHECK(!wasm_read_u32(&r, &u) && r.status == WASM_READ_TOO_LONG);

    static const uint8_t overlong_zero[] = {0x80, 0x80, 0x80, 0x80, 0x00};
    wasm_reader_init(&r, overlong_zero, overlong_zero, overlong_zero + 5);
    CHECK(wasm_read_u32(&r, &u) && u == 0); /* padding within 5 bytes is allowed */

    static const uint8_t truncated[] = {0x80, 0x80};
    wasm_reader_init(&r, truncated, truncated, truncated + 2);
    CHECK(!wasm_read_u32(&r, &u) && r.status == WASM_READ_END);

    static const uint8_t min_i32[] = {0x80, 0x80, 0x80, 0x80, 0x78};
    wasm_reader_init(&r, min_i32, min_i32, min_i32 + 5);
    CHECK(wasm_read_i32(&r, &i) && i == INT32_MIN);

    static const uint8_t bad_sign_i32[] = {0x80, 0x80, 0x80, 0x80, 0x70};
    wasm_reader_init(&r, bad_sign_i32, bad_sign_i32, bad_sign_i32 + 5);
    CHECK(!wasm_read_i32(&r, &i) && r.status == WASM_READ_TOO_LARGE);

    static const uint8_t minus_one[] = {0x7F};
    wasm_reader_init(&r, minus_one, minus_one, minus_one + 1);
    CHECK(wasm_read_i32(&r, &i) && i == -1);

    static const uint8_t min_i64[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7F};
    wasm_reader_init(&r, min_i64, min_i64, min_i64 + 10);
    CHECK(wasm_read_i64(&r, &l) && l == INT64_MIN);

    static const uint8_t bad_i64[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x41};
    wasm_reader_init(&r, bad_i64, bad_i64, bad_i64 + 10);
    CHECK(!wasm_read_i64(&r, &l) && r.status == WASM_READ_TOO_LARGE);
}

static void test_full_module_contents(void)
{
    struct buf b = {.len = 0};
    size_t bounds[20], nb;
    build_full(&b, true, bounds, &nb);
    struct wasm_module *m = NULL;
    struct fl_error err;
    int rc = load(&b, &m, &err);
    CHECK(rc == 0);
    if (rc != 0) {
        fprintf(stderr, "  %s\n", err.msg);
        return;
    }
    CHECK(m->type_count == 2 && m->import_count == 2);
    CHECK(m->func_count == 3 && m->import_func_count == 1);
    CHECK(m->funcs[0].import_index == 0 && m->funcs[0].type_index == 1);
    CHECK(m->funcs[1].import_index == WASM_NO_INDEX && m->funcs[1].local_count == 3);
    CHECK(m->funcs[1].local_types[0] == WASM_TYPE_I64 && m->funcs[1].local_types[1] == WASM_TYPE_I64 &&
          m->funcs[1].local_types[2] == WASM_TYPE_F32);
    CHECK(m->funcs[1].body[0] == WASM_OP_PREFIX_FC); /* first instruction, after locals */
    CHECK(m->funcs[1].body[m->funcs[1].body_size - 1] == WASM_OP_END);
    CHECK(m->funcs[1].body == m->bytes + m->funcs[1].body_offset);
    CHECK(m->funcs[2].body[0] == WASM_OP_LOCAL_GET);
    CHECK(m->global_count == 2 && m->import_global_count == 1 && m->globals[1].type.is_mutable);
    CHECK(m->globals[1].init.opcode == WASM_OP_GLOBAL_GET && m->globals[1].init.index == 0 &&
          m->globals[1].init.type == WASM_TYPE_I32);
    CHECK(m->table_count == 1 && m->tables[0].type.limits.min == 2 &&
          m->tables[0].type.limits.has_max && m->tables[0].type.limits.max == 10);
    CHECK(m->memory_count == 1 && m->memories[0].limits.min == 1 && !m->memories[0].limits.has_max);
    CHECK(m->start_func == 1);
    CHECK(wasm_module_export_get(m, "inc", WASM_EXTERN_FUNC) == 2);
    CHECK(wasm_module_export_get(m, "mem", WASM_EXTERN_MEMORY) == 0);
    CHECK(wasm_module_export_get(m, "mem", WASM_EXTERN_FUNC) == WASM_NO_INDEX);
    CHECK(m->elem_count == 2 && m->elems[0].mode == WASM_SEGMENT_ACTIVE &&
          m->elems[0].item_count == 2 && m->elems[0].items[1].opcode == WASM_OP_REF_FUNC &&
          m->elems[0].items[1].index == 2 && m->elems[0].offset.value.i32 == 0);
    CHECK(m->elems[1].mode == WASM_SEGMENT_DECLARATIVE);
    CHECK(m->has_data_count && m->data_count == 2);
    CHECK(m->datas[0].mode == WASM_SEGMENT_ACTIVE && m->datas[0].size == 2 &&
          memcmp(m->datas[0].bytes, "hi", 2) == 0 && m->datas[0].offset.value.i32 == 8);
    CHECK(m->datas[1].mode == WASM_SEGMENT_PASSIVE && m->datas[1].size == 3);
    const struct wasm_functype *ft = wasm_module_func_type(m, 2);
    CHECK(ft && ft->param_count == 1 && ft->result_count == 1 && ft->types[1] == WASM_TYPE_I32);
    /* names */
    CHECK(m->name && strcmp(m->name, "mymod") == 0);
    char nb_[32];
    CHECK(strcmp(wasm_module_func_name(m, 0, nb_, sizeof nb_), "imported_f") == 0);
    CHECK(strcmp(wasm_module_func_name(m, 1, nb_, sizeof nb_), "func[1]") == 0);
    CHECK(strcmp(wasm_module_func_name(m, 2, nb_, sizeof nb_), "inc") == 0);
    wasm_module_destroy(m);
}

/* Every prefix of a valid module is either a valid module (cut at a section
 * boundary) or malformed; never a crash. */
static void test_truncation_at_every_offset(void)
{
    struct buf b = {.len = 0};
    size_t bounds[20], nb;
    build_full(&b, true, bounds, &nb);
    for (size_t n = 0; n < b.len; n++) {
        struct wasm_module *m = NULL;
        struct fl_error err;
        int rc = wasm_module_load(b.data, n, &m, &err);
        bool boundary = false;
        for (size_t k = 0; k < nb; k++)
            boundary |= bounds[k] == n;
        if (boundary) {
            /* a cut before the code section leaves functions without bodies */
            CHECK(rc == 0 || rc == FL_ERR_MALFORMED);
        } else {
            CHECK(rc == FL_ERR_MALFORMED);
            if (rc != FL_ERR_MALFORMED)
                fprintf(stderr, "  prefix %zu: rc %d %s\n", n, rc, rc ? err.msg : "ok");
        }
        CHECK((rc == 0) == (m != NULL));
        wasm_module_destroy(m);
    }
}

/* Changing any single byte must give ok or a clean error. */
static void test_byte_mutations_never_crash(void)
{
    struct buf b = {.len = 0};
    size_t bounds[20], nb;
    build_full(&b, true, bounds, &nb);
    static const uint8_t values[] = {0x00, 0x01, 0x0B, 0x40, 0x7F, 0x80, 0xFF};
    for (size_t i = 0; i < b.len; i++) {
        for (size_t k = 0; k < sizeof values; k++) {
            struct buf c = b;
            c.data[i] = values[k];
            struct wasm_module *m = NULL;
            struct fl_error err;
            int rc = load(&c, &m, &err);
            CHECK(rc == 0 || rc == FL_ERR_MALFORMED || rc == FL_ERR_INVALID ||
                  rc == FL_ERR_LIMIT);
            CHECK(rc == 0 || strlen(err.msg) > 0);
            wasm_module_destroy(m);
        }
    }
}

static void test_huge_counts_are_refused_without_allocating(void)
{
    struct buf b = {.len = 0}, s = {.len = 0};
    struct wasm_module *m = NULL;
    struct fl_error err;
    put_header(&b);
    put_leb(&s, 0xFFFFFFFFu); /* types */
    put_section(&b, 1, &s);
    CHECK(load(&b, &m, &err) == FL_ERR_LIMIT && m == NULL);

    b.len = 0, s.len = 0;
    put_header(&b);
    put_leb(&s, 900000); /* plausible count, but no bytes behind it */
    put_section(&b, 1, &s);
    CHECK(load(&b, &m, &err) == FL_ERR_MALFORMED && strstr(err.msg, "unexpected end"));

    /* a body claiming 2 x 0xFFFFFFFF locals: malformed, nothing allocated */
    b.len = 0;
    put_header(&b);
    s.len = 0, put_leb(&s, 1), put_u8(&s, 0x60), put_leb(&s, 0), put_leb(&s, 0);
    put_section(&b, 1, &s);
    s.len = 0, put_leb(&s, 1), put_leb(&s, 0);
    put_section(&b, 3, &s);
    struct buf f = {.len = 0};
    put_leb(&f, 2), put_leb(&f, 0xFFFFFFFFu), put_u8(&f, WASM_TYPE_I32), put_leb(&f, 0xFFFFFFFFu),
        put_u8(&f, WASM_TYPE_I32), put_u8(&f, WASM_OP_END);
    s.len = 0, put_leb(&s, 1), put_leb(&s, f.len), put(&s, f.data, f.len);
    size_t code_at = b.len;
    put_section(&b, 10, &s);
    CHECK(load(&b, &m, &err) == FL_ERR_MALFORMED && strstr(err.msg, "too many locals"));

    /* one million locals: over WASM_MAX_LOCALS, a limit error */
    b.len = code_at;
    f.len = 0;
    put_leb(&f, 1), put_leb(&f, 1000000), put_u8(&f, WASM_TYPE_I32), put_u8(&f, WASM_OP_END);
    s.len = 0, put_leb(&s, 1), put_leb(&s, f.len), put(&s, f.data, f.len);
    put_section(&b, 10, &s);
    CHECK(load(&b, &m, &err) == FL_ERR_LIMIT && strstr(err.msg, "too many locals"));

    /* an element segment claiming 2^31 items */
    b.len = 0;
    put_header(&b);
    s.len = 0, put_leb(&s, 1), put_leb(&s, 1), put_u8(&s, 0), put_leb(&s, 0x80000000u);
    put_section(&b, 9, &s);
    CHECK(load(&b, &m, &err) != 0 && m == NULL);
}

static void test_bad_name_section_is_ignored(void)
{
    struct buf b = {.len = 0};
    size_t bounds[20], nb;
    build_full(&b, false, bounds, &nb);
    struct buf s = {.len = 0};
    put_name(&s, "name");
    /* function names subsection with an out-of-range index and a bad length */
    put_u8(&s, 1), put_leb(&s, 5), put_leb(&s, 1), put_leb(&s, 77), put_leb(&s, 40), put_u8(&s, 'x'),
        put_u8(&s, 'y');
    put_section(&b, 0, &s);
    struct wasm_module *m = NULL;
    struct fl_error err;
    CHECK(load(&b, &m, &err) == 0);
    if (m) {
        CHECK(m->name == NULL);
        for (uint32_t i = 0; i < m->func_count; i++)
            CHECK(m->funcs[i].name == NULL);
        wasm_module_destroy(m);
    }

    /* valid module name, then a function map with invalid UTF-8: all dropped */
    b.len = 0;
    build_full(&b, false, bounds, &nb);
    b.len = bounds[nb - 1];
    s.len = 0;
    put_name(&s, "name");
    put_u8(&s, 0), put_leb(&s, 2), put_leb(&s, 1), put_u8(&s, 'm');
    put_u8(&s, 1), put_leb(&s, 4), put_leb(&s, 1), put_leb(&s, 2), put_leb(&s, 1), put_u8(&s, 0xC0);
    put_section(&b, 0, &s);
    CHECK(load(&b, &m, &err) == 0);
    if (m) {
        CHECK(m->name == NULL && m->funcs[2].name == NULL);
        wasm_module_destroy(m);
    }
}

/* Builds "type [] -> [] ; one function with the given body (no locals)". */
static void build_one_func(struct buf *b, const uint8_t *body, size_t n)
{
    struct buf s = {.len = 0};
    b->len = 0;
    put_header(b);
    put_leb(&s, 1), put_u8(&s, 0x60), put_leb(&s, 0), put_leb(&s, 0);
    put_section(b, 1, &s);
    s.len = 0, put_leb(&s, 1), put_leb(&s, 0);
    put_section(b, 3, &s);
    s.len = 0, put_leb(&s, 1), put_leb(&s, n + 1), put_leb(&s, 0), put(&s, body, n);
    put_section(b, 10, &s);
}

static void test_validation_errors_name_function_and_offset(void)
{
    struct buf b;
    struct wasm_module *m = NULL;
    struct fl_error err;
    /* i32.const 1; f64.neg -> type mismatch */
    static const uint8_t mismatch[] = {WASM_OP_I32_CONST, 1, WASM_OP_F64_NEG, WASM_OP_DROP,
                                       WASM_OP_END};
    build_one_func(&b, mismatch, sizeof mismatch);
    CHECK(load(&b, &m, &err) == FL_ERR_INVALID);
    CHECK(strstr(err.msg, "code section") && strstr(err.msg, "function 0") &&
          strstr(err.msg, "type mismatch") && strstr(err.msg, "offset 0x"));

    static const uint8_t bad_local[] = {WASM_OP_LOCAL_GET, 3, WASM_OP_DROP, WASM_OP_END};
    build_one_func(&b, bad_local, sizeof bad_local);
    CHECK(load(&b, &m, &err) == FL_ERR_INVALID && strstr(err.msg, "unknown local"));

    /* unreachable makes the stack polymorphic: i32.add on nothing is fine */
    static const uint8_t poly[] = {WASM_OP_UNREACHABLE, WASM_OP_I32_ADD, WASM_OP_DROP, WASM_OP_END};
    build_one_func(&b, poly, sizeof poly);
    CHECK(load(&b, &m, &err) == 0);
    wasm_module_destroy(m);

    static const uint8_t illegal[] = {0x06, WASM_OP_END};
    build_one_func(&b, illegal, sizeof illegal);
    CHECK(load(&b, &m, &err) == FL_ERR_MALFORMED && strstr(err.msg, "illegal opcode"));

    static const uint8_t no_end[] = {WASM_OP_NOP};
    build_one_func(&b, no_end, sizeof no_end);
    CHECK(load(&b, &m, &err) == FL_ERR_MALFORMED && strstr(err.msg, "unexpected end"));

    /* SIMD: v128.const takes 16 bytes; 0xfd 154 is a reserved subop */
    static const uint8_t simd_short[] = {WASM_OP_PREFIX_FD, 0x0C, WASM_OP_END};
    build_one_func(&b, simd_short, sizeof simd_short);
    CHECK(load(&b, &m, &err) == FL_ERR_MALFORMED && strstr(err.msg, "unexpected end"));
    static const uint8_t simd_reserved[] = {WASM_OP_PREFIX_FD, 0x9A, 0x01, WASM_OP_END};
    build_one_func(&b, simd_reserved, sizeof simd_reserved);
    CHECK(load(&b, &m, &err) == FL_ERR_MALFORMED && strstr(err.msg, "illegal opcode 0xfd 154"));
    static const uint8_t simd_ok[] = {WASM_OP_PREFIX_FD, 0x0C, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
                                      11, 12, 13, 14, 15, 16, WASM_OP_PREFIX_FD, 0x63,
                                      WASM_OP_DROP, WASM_OP_END};
    build_one_func(&b, simd_ok, sizeof simd_ok);
    CHECK(load(&b, &m, &err) == 0);
    wasm_module_destroy(m);
    static const uint8_t simd_lane[] = {WASM_OP_PREFIX_FD, 0x0C, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
                                        11, 12, 13, 14, 15, 16, WASM_OP_PREFIX_FD, 0x1D, 2,
                                        WASM_OP_DROP, WASM_OP_END};
    build_one_func(&b, simd_lane, sizeof simd_lane);
    CHECK(load(&b, &m, &err) == FL_ERR_INVALID && strstr(err.msg, "invalid lane index 2"));

    /* ref.func of a function nobody declared */
    static const uint8_t undeclared[] = {WASM_OP_REF_FUNC, 0, WASM_OP_DROP, WASM_OP_END};
    build_one_func(&b, undeclared, sizeof undeclared);
    CHECK(load(&b, &m, &err) == FL_ERR_INVALID && strstr(err.msg, "undeclared function reference"));

    /* invalid early, malformed later in the same body: malformed wins (the
     * spec decodes everything before validating) */
    static const uint8_t invalid_then_malformed[] = {WASM_OP_I32_ADD, WASM_OP_DROP, 0x06,
                                                     WASM_OP_END};
    build_one_func(&b, invalid_then_malformed, sizeof invalid_then_malformed);
    CHECK(load(&b, &m, &err) == FL_ERR_MALFORMED && strstr(err.msg, "illegal opcode"));
    static const uint8_t invalid_only[] = {WASM_OP_I32_ADD, WASM_OP_DROP, WASM_OP_END};
    build_one_func(&b, invalid_only, sizeof invalid_only);
    CHECK(load(&b, &m, &err) == FL_ERR_INVALID);
    CHECK(wasm_module_load(b.data, b.len, &m, NULL) == FL_ERR_INVALID); /* NULL err is fine */
}

/* Regression (found by fuzz_load): a decode-time validation error (SIMD in a
 * global initialiser) before the code section must not scan missing bodies. */
static void test_invalid_global_before_code_section(void)
{
    struct buf b = {.len = 0}, s = {.len = 0};
    put_header(&b);
    put_leb(&s, 1), put_u8(&s, 0x60), put_leb(&s, 0), put_leb(&s, 0);
    put_section(&b, 1, &s);
    s.len = 0, put_leb(&s, 1), put_leb(&s, 0);
    put_section(&b, 3, &s);
    s.len = 0, put_leb(&s, 1), put_u8(&s, WASM_TYPE_I32), put_u8(&s, 0);
    put_u8(&s, WASM_OP_PREFIX_FD), put_leb(&s, 0x0F), put_u8(&s, WASM_OP_END); /* i8x16.splat */
    put_section(&b, 6, &s);
    s.len = 0, put_leb(&s, 1), put_leb(&s, 2), put_leb(&s, 0), put_u8(&s, WASM_OP_END);
    put_section(&b, 10, &s);
    struct wasm_module *m = NULL;
    struct fl_error err;
    CHECK(load(&b, &m, &err) == FL_ERR_INVALID && m == NULL && strstr(err.msg, "global"));
}

static void test_header_errors(void)
{
    struct wasm_module *m = NULL;
    struct fl_error err;
    static const uint8_t bad_magic[] = {0, 'a', 's', 'n', 1, 0, 0, 0};
    CHECK(wasm_module_load(bad_magic, 8, &m, &err) == FL_ERR_MALFORMED &&
          strstr(err.msg, "magic header not detected"));
    static const uint8_t bad_version[] = {0, 'a', 's', 'm', 2, 0, 0, 0};
    CHECK(wasm_module_load(bad_version, 8, &m, &err) == FL_ERR_MALFORMED &&
          strstr(err.msg, "unknown binary version"));
    static const uint8_t empty_ok[] = {0, 'a', 's', 'm', 1, 0, 0, 0};
    CHECK(wasm_module_load(empty_ok, 8, &m, &err) == 0 && m && m->start_func == WASM_NO_INDEX);
    wasm_module_destroy(m);
    static const uint8_t bad_section[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 13, 0};
    CHECK(wasm_module_load(bad_section, sizeof bad_section, &m, &err) == FL_ERR_MALFORMED &&
          strstr(err.msg, "malformed section id"));
    static const uint8_t size_mismatch[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 1, 2, 0, 0};
    CHECK(wasm_module_load(size_mismatch, sizeof size_mismatch, &m, &err) == FL_ERR_MALFORMED &&
          strstr(err.msg, "section size mismatch"));
}

int main(void)
{
    test_leb128_limits();
    test_full_module_contents();
    test_truncation_at_every_offset();
    test_byte_mutations_never_crash();
    test_huge_counts_are_refused_without_allocating();
    test_bad_name_section_is_ignored();
    test_validation_errors_name_function_and_offset();
    test_header_errors();
    test_invalid_global_before_code_section();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("all wasm decode tests passed\n");
    return 0;
}
