/* wasm_internal.h: shared state of the decoder, the module validator and the
 * function-body validator. Not part of the wasm part's public interface.
 * Loading runs in passes: decode (syntax only, raw indices stored), names,
 * module validation (indices, types, limits), then one pass per body. */
#ifndef FL_WASM_INTERNAL_H
#define FL_WASM_INTERNAL_H

#include <stdarg.h>

#include "wasm/reader.h"
#include "wasm/wasm.h"

/* Internal "type" of an operand whose type is unknown (polymorphic stack). */
#define WASM_TYPE_UNKNOWN 0x00
/* Internal opcode value for v128.const in struct wasm_const_expr. */
#define WASM_CONST_V128 0xFD0Cu

struct wasm_decoder {
    struct wasm_module *module;
    struct fl_error *err;
    uint32_t features;          /* enum wasm_feature bits enabled */
    const char *section;        /* name used in messages */
    uint32_t defined_func_count; /* from the function section */
    bool has_function_section;
    bool has_code_section;
    bool has_start;
    const uint8_t *name_section; /* contents of the first "name" custom section */
    size_t name_section_size;
    /* The first validation error found while decoding (e.g. a non-constant
     * instruction in a constant expression). Reported only if the whole
     * binary decodes, so that malformed wins over invalid as the spec wants. */
    struct fl_error deferred;
    bool has_deferred;
    /* C.refs: functions that ref.func may name in bodies (bitmap). */
    uint8_t *declared_funcs;
};

/* Offset argument meaning "no useful offset" (leaves it out of the message). */
#define WASM_NO_OFFSET SIZE_MAX

/* Formats "<section> section: <text> at offset 0x..." into d->err; returns code. */
int wasm_decoder_fail(struct wasm_decoder *d, int code, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Same, but only recorded (the first one) and reported after decoding ends. */
void wasm_decoder_defer(struct wasm_decoder *d, int code, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Turns a failed read into a malformed error at the reader's position. */
int wasm_decoder_read_fail(struct wasm_decoder *d, const struct wasm_reader *r);

/* Decodes the whole binary into d->module (no semantic checks). */
int wasm_decode_module(struct wasm_decoder *d);

/* Steps over a function body checking only its syntax (opcodes, immediates,
 * nesting, final end): finds malformed bodies in a module already found
 * invalid, since malformed must win. */
int wasm_scan_body(struct wasm_decoder *d, uint32_t func_index);

/* Reads the name section found by the decoder; malformed names are ignored. */
void wasm_names_read(struct wasm_decoder *d);

/* True if [s, s+n) is well-formed UTF-8. */
bool wasm_utf8_valid(const uint8_t *s, size_t n);

/* Module-level validation: indices, types, limits, constant expressions,
 * exports; computes d->declared_funcs. */
int wasm_validate_module(struct wasm_decoder *d);

/* Validates one defined function's body with the spec's stack algorithm. */
int wasm_validate_function(struct wasm_decoder *d, uint32_t func_index);

/* Decodes a value type byte; false if it is not one. */
bool wasm_valtype_decode(uint8_t byte);
static inline bool wasm_is_reftype(uint8_t t)
{
    return t == WASM_TYPE_FUNCREF || t == WASM_TYPE_EXTERNREF;
}

/* Immediate kind and fixed signature of each single-byte and 0xFC opcode;
 * valid is false for bytes that are no instruction. */
struct wasm_opinfo {
    bool valid;
    uint8_t imm; /* enum wasm_imm */
    const char *sig;
    const char *name;
};
extern const struct wasm_opinfo wasm_opinfo_main[256];
#define WASM_FC_COUNT 18u
extern const struct wasm_opinfo wasm_opinfo_fc[WASM_FC_COUNT];

/* SIMD (validate_simd.c): the 0xFD table, indexed by subop, and the
 * immediates of one SIMD instruction. */
#define WASM_FD_COUNT 256u
extern const struct wasm_opinfo wasm_opinfo_fd[WASM_FD_COUNT];
struct wasm_simd_imm {
    uint32_t align, offset;
    uint8_t lane;
    uint8_t bytes[16]; /* v128.const value or shuffle lanes */
};
/* wasm_simd_read's result when a read failed (r->status says why). */
#define WASM_SIMD_READ_FAIL 1
/* Reads a 0xFD subop (the prefix already read) and its immediates. Returns 0;
 * WASM_SIMD_READ_FAIL; FL_ERR_MALFORMED (unknown subop); or FL_ERR_INVALID
 * (lane index, alignment) with the reader past the instruction. why gets the
 * message text. */
int wasm_simd_read(struct wasm_reader *r, uint32_t *sub, struct wasm_simd_imm *imm, char *why,
                   size_t n);

/* Threads (validate_atomic.c): the 0xFE table, indexed by subop, and the
 * immediates of one atomic instruction. */
#define WASM_FE_COUNT 0x4Fu
extern const struct wasm_opinfo wasm_opinfo_fe[WASM_FE_COUNT];
/* wasm_atomic_read's result when a read failed (r->status says why). */
#define WASM_ATOMIC_READ_FAIL 1
/* Reads a 0xFE subop (the prefix already read) and its immediates. Returns 0;
 * WASM_ATOMIC_READ_FAIL; FL_ERR_MALFORMED (unknown subop, fence byte not 0);
 * or FL_ERR_INVALID (alignment not natural) with the reader past the
 * instruction. why gets the message text. */
int wasm_atomic_read(struct wasm_reader *r, uint32_t *sub, uint32_t *align, uint32_t *offset,
                     char *why, size_t n);

#endif
