/* wasm.h: a decoded and validated WebAssembly module, and how to get one.
 * The module is the engine's input: the interpreter compiles its function
 * bodies, the runtime instantiates it. It is immutable once loaded and may be
 * shared by any number of instances and threads. */
#ifndef FL_WASM_WASM_H
#define FL_WASM_WASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

/* Value types, by their binary encoding. */
enum wasm_valtype {
    WASM_TYPE_I32 = 0x7F,
    WASM_TYPE_I64 = 0x7E,
    WASM_TYPE_F32 = 0x7D,
    WASM_TYPE_F64 = 0x7C,
    WASM_TYPE_V128 = 0x7B,
    WASM_TYPE_FUNCREF = 0x70,
    WASM_TYPE_EXTERNREF = 0x6F,
};

enum wasm_extern_kind {
    WASM_EXTERN_FUNC = 0,
    WASM_EXTERN_TABLE = 1,
    WASM_EXTERN_MEMORY = 2,
    WASM_EXTERN_GLOBAL = 3,
};

#define WASM_PAGE_SIZE 65536u
#define WASM_MAX_PAGES 65536u     /* 4 GiB of 32-bit linear memory */
#define WASM_NO_INDEX UINT32_MAX  /* "none" for optional indices */

/* Decoder limits: every size read from a binary is checked against these
 * before anything is allocated from it. */
#define WASM_MAX_MODULE_SIZE (1u << 30)
#define WASM_MAX_TYPES 1000000u
#define WASM_MAX_FUNCS 1000000u
#define WASM_MAX_IMPORTS 100000u
#define WASM_MAX_EXPORTS 100000u
#define WASM_MAX_GLOBALS 1000000u
#define WASM_MAX_TABLES 100000u
#define WASM_MAX_MEMORIES 1u   /* WebAssembly 2.0: at most one memory */
#define WASM_MAX_PARAMS 1000u
#define WASM_MAX_RESULTS 1000u
#define WASM_MAX_LOCALS 50000u    /* params + declared locals per function */
#define WASM_MAX_SEGMENTS 100000u
#define WASM_MAX_TABLE_SIZE 10000000u
#define WASM_MAX_NAME 100000u

/* A function signature; types[] holds params then results. */
struct wasm_functype {
    uint32_t param_count;
    uint32_t result_count;
    uint8_t *types;
};

struct wasm_limits {
    uint64_t min;
    uint64_t max;   /* valid only when has_max */
    bool has_max;
    bool shared;    /* threads proposal: shared memory */
};

struct wasm_tabletype {
    uint8_t elem_type; /* WASM_TYPE_FUNCREF or WASM_TYPE_EXTERNREF */
    struct wasm_limits limits;
};

struct wasm_globaltype {
    uint8_t type;
    bool is_mutable;
};

/* A constant expression (global init, segment offset, element item).
 * 2.0 allows exactly one instruction before `end`. */
struct wasm_const_expr {
    uint16_t opcode;  /* WASM_OP_I32_CONST ... WASM_OP_GLOBAL_GET, WASM_OP_REF_NULL,
                         WASM_OP_REF_FUNC, or 0xFD0C for v128.const */
    uint8_t type;     /* the value type the expression produces */
    uint32_t index;   /* global.get / ref.func index */
    union {
        uint32_t i32;  /* also f32 bits */
        uint64_t i64;  /* also f64 bits */
        uint8_t v128[16];
    } value;
};

struct wasm_import {
    char *module_name;  /* NUL-terminated copy; names may hold NULs, so */
    uint32_t module_name_len; /* lengths are authoritative */
    char *name;
    uint32_t name_len;
    uint8_t kind;       /* enum wasm_extern_kind */
    uint32_t index;     /* index in that kind's index space */
};

struct wasm_export {
    char *name;
    uint32_t name_len;
    uint8_t kind;
    uint32_t index;
};

/* One entry of the function index space: imports first, then definitions. */
struct wasm_func {
    uint32_t type_index;
    uint32_t import_index;   /* into module->imports, or WASM_NO_INDEX if defined */
    uint32_t local_count;    /* declared locals, params excluded */
    uint8_t *local_types;    /* local_count entries, expanded */
    const uint8_t *body;     /* first instruction (after the locals), into module->bytes */
    uint32_t body_size;      /* bytes up to and including the final `end` */
    uint32_t body_offset;    /* offset of body in the binary, for messages */
    const char *name;        /* from the name section, or NULL */
};

struct wasm_table {
    struct wasm_tabletype type;
    uint32_t import_index;
};

struct wasm_memory {
    struct wasm_limits limits; /* in pages */
    uint32_t import_index;
};

struct wasm_global {
    struct wasm_globaltype type;
    struct wasm_const_expr init;  /* unused for imports */
    uint32_t import_index;
};

enum wasm_segment_mode {
    WASM_SEGMENT_ACTIVE,
    WASM_SEGMENT_PASSIVE,
    WASM_SEGMENT_DECLARATIVE,
};

struct wasm_elem {
    uint8_t mode;
    uint8_t elem_type;              /* funcref or externref */
    uint32_t table_index;           /* active only */
    struct wasm_const_expr offset;  /* active only */
    uint32_t item_count;
    struct wasm_const_expr *items;  /* ref.func i / ref.null t / global.get */
};

struct wasm_data {
    uint8_t mode;                   /* active or passive */
    uint32_t memory_index;
    struct wasm_const_expr offset;
    const uint8_t *bytes;           /* into module->bytes */
    uint32_t size;
};

struct wasm_module {
    uint8_t *bytes;   /* owned copy of the binary; bodies and data point into it */
    size_t size;

    struct wasm_functype *types;
    uint32_t type_count;

    struct wasm_import *imports;
    uint32_t import_count;

    struct wasm_func *funcs;        /* whole index space */
    uint32_t func_count;
    uint32_t import_func_count;

    struct wasm_table *tables;
    uint32_t table_count;
    uint32_t import_table_count;

    struct wasm_memory *memories;
    uint32_t memory_count;
    uint32_t import_memory_count;

    struct wasm_global *globals;
    uint32_t global_count;
    uint32_t import_global_count;

    struct wasm_export *exports;
    uint32_t export_count;

    uint32_t start_func;            /* WASM_NO_INDEX if none */

    struct wasm_elem *elems;
    uint32_t elem_count;

    struct wasm_data *datas;
    uint32_t data_count;
    bool has_data_count;            /* DataCount section present */

    char *name;                     /* module name from the name section, or NULL */
};

/* Decodes and validates a binary module; *out is owned by the caller
 * (free with wasm_module_destroy). bytes are copied. On failure returns
 * FL_ERR_MALFORMED or FL_ERR_INVALID (or FL_ERR_NOMEM/LIMIT) with a message
 * naming the section, function and offset. */
int wasm_module_load(const uint8_t *bytes, size_t size, struct wasm_module **out,
                     struct fl_error *err);

/* Proposals beyond WebAssembly 2.0 that a load may turn off, for running
 * scripts written against 2.0 alone (the core spec tests). */
enum wasm_feature {
    WASM_FEATURE_THREADS = 1u << 0, /* shared memories, atomics, wait/notify */
};
#define WASM_FEATURES_ALL 0xFFFFFFFFu

/* wasm_module_load with only the given features (enum wasm_feature bits);
 * wasm_module_load is this with WASM_FEATURES_ALL. Without threads, shared
 * limits flags and the 0xFE prefix are malformed, as in 2.0. */
int wasm_module_load_features(const uint8_t *bytes, size_t size, uint32_t features,
                              struct wasm_module **out, struct fl_error *err);

/* Frees a module and everything it owns. NULL is fine. */
void wasm_module_destroy(struct wasm_module *module);

/* Finds an export by name and kind; returns its index in the kind's space or
 * WASM_NO_INDEX. Never allocates. */
uint32_t wasm_module_export_get(const struct wasm_module *module, const char *name,
                                uint8_t kind);

/* The signature of function func_index (imports included). Never allocates. */
const struct wasm_functype *wasm_module_func_type(const struct wasm_module *module,
                                                  uint32_t func_index);

/* A printable name for function func_index: its name-section name or "func[N]".
 * Writes into buf (size n) and returns buf. */
const char *wasm_module_func_name(const struct wasm_module *module, uint32_t func_index,
                                  char *buf, size_t n);

/* True if two function types have the same params and results. */
bool wasm_functype_equal(const struct wasm_functype *a, const struct wasm_functype *b);

/* Printable name of a value type ("i32", "funcref", ...). Static string. */
const char *wasm_valtype_name(uint8_t type);

/* Number of 64-bit cells a value of this type takes (2 for v128, else 1). */
static inline uint32_t wasm_valtype_cells(uint8_t type)
{
    return type == WASM_TYPE_V128 ? 2 : 1;
}

#endif
