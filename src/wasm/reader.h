/* reader.h: a bounded cursor over WebAssembly binary bytes (LEB128, fixed
 * width floats, byte runs). The decoder uses it for every read; the
 * interpreter's compiler reuses it to re-walk bodies the validator accepted.
 * All functions are inline and never read past `end`. */
#ifndef FL_WASM_READER_H
#define FL_WASM_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Why the last read failed; the text is close to the spec's messages. */
enum wasm_read_status {
    WASM_READ_OK = 0,
    WASM_READ_END,       /* "unexpected end" */
    WASM_READ_TOO_LONG,  /* "integer representation too long" */
    WASM_READ_TOO_LARGE, /* "integer too large" (unused bits not sign/zero) */
};

/* A cursor: pos moves from its start toward end; base is where offsets in
 * messages count from (normally the first byte of the module). */
struct wasm_reader {
    const uint8_t *base;
    const uint8_t *pos;
    const uint8_t *end;
    int status; /* enum wasm_read_status of the first failed read */
};

/* Starts a reader over [pos, end); offsets are measured from base. */
static inline void wasm_reader_init(struct wasm_reader *r, const uint8_t *base,
                                    const uint8_t *pos, const uint8_t *end)
{
    r->base = base;
    r->pos = pos;
    r->end = end;
    r->status = WASM_READ_OK;
}

/* Offset of the cursor from base. */
static inline size_t wasm_reader_offset(const struct wasm_reader *r)
{
    return (size_t)(r->pos - r->base);
}

/* Bytes left before end. */
static inline size_t wasm_reader_remaining(const struct wasm_reader *r)
{
    return (size_t)(r->end - r->pos);
}

static inline bool wasm_reader_at_end(const struct wasm_reader *r)
{
    return r->pos >= r->end;
}

/* Records the first failure only, so the message names the root cause. */
static inline bool wasm_reader_fail(struct wasm_reader *r, int status)
{
    if (r->status == WASM_READ_OK)
        r->status = status;
    return false;
}

/* Spec-like text for a read status. Static string. */
static inline const char *wasm_read_status_text(int status)
{
    switch (status) {
    case WASM_READ_OK: return "ok";
    case WASM_READ_END: return "unexpected end";
    case WASM_READ_TOO_LONG: return "integer representation too long";
    case WASM_READ_TOO_LARGE: return "integer too large";
    default: return "read error";
    }
}

static inline bool wasm_read_u8(struct wasm_reader *r, uint8_t *out)
{
    if (r->pos >= r->end)
        return wasm_reader_fail(r, WASM_READ_END);
    *out = *r->pos++;
    return true;
}

/* Unsigned LEB128 of at most `bits` (<= 64) bits: at most ceil(bits/7) bytes,
 * and the unused high bits of the last byte must be zero. */
static inline bool wasm_read_uleb(struct wasm_reader *r, unsigned bits, uint64_t *out)
{
    uint64_t result = 0;
    unsigned shift = 0;
    const unsigned max_bytes = (bits + 6) / 7;
    for (unsigned i = 0;; i++) {
        if (r->pos >= r->end)
            return wasm_reader_fail(r, WASM_READ_END);
        uint8_t b = *r->pos++;
        if (i + 1 == max_bytes) {
            if (b & 0x80)
                return wasm_reader_fail(r, WASM_READ_TOO_LONG);
            unsigned used = bits - shift; /* payload bits this byte may carry */
            if (used < 7 && (b >> used) != 0)
                return wasm_reader_fail(r, WASM_READ_TOO_LARGE);
            result |= (uint64_t)b << shift;
            break;
        }
        result |= (uint64_t)(b & 0x7F) << shift;
        shift += 7;
        if (!(b & 0x80))
            break;
    }
    *out = result;
    return true;
}

/* Signed LEB128 of at most `bits` (<= 64) bits: the unused high bits of the
 * last possible byte must all equal the sign bit. */
static inline bool wasm_read_sleb(struct wasm_reader *r, unsigned bits, int64_t *out)
{
    uint64_t result = 0;
    unsigned shift = 0;
    const unsigned max_bytes = (bits + 6) / 7;
    uint8_t b = 0;
    for (unsigned i = 0;; i++) {
        if (r->pos >= r->end)
            return wasm_reader_fail(r, WASM_READ_END);
        b = *r->pos++;
        if (i + 1 == max_bytes) {
            if (b & 0x80)
                return wasm_reader_fail(r, WASM_READ_TOO_LONG);
            unsigned used = bits - shift; /* includes the sign bit */
            if (used < 7) {
                uint8_t rest = (uint8_t)((b & 0x7F) >> (used - 1)); /* sign + unused */
                uint8_t all = (uint8_t)(0x7F >> (used - 1));
                if (rest != 0 && rest != all)
                    return wasm_reader_fail(r, WASM_READ_TOO_LARGE);
            }
            result |= (uint64_t)(b & 0x7F) << shift;
            shift += 7;
            break;
        }
        result |= (uint64_t)(b & 0x7F) << shift;
        shift += 7;
        if (!(b & 0x80))
            break;
    }
    if (shift < 64 && (b & 0x40))
        result |= ~(uint64_t)0 << shift;
    *out = (int64_t)result;
    return true;
}

static inline bool wasm_read_u32(struct wasm_reader *r, uint32_t *out)
{
    uint64_t v;
    if (!wasm_read_uleb(r, 32, &v))
        return false;
    *out = (uint32_t)v;
    return true;
}

static inline bool wasm_read_u64(struct wasm_reader *r, uint64_t *out)
{
    return wasm_read_uleb(r, 64, out);
}

static inline bool wasm_read_i32(struct wasm_reader *r, int32_t *out)
{
    int64_t v;
    if (!wasm_read_sleb(r, 32, &v))
        return false;
    *out = (int32_t)v;
    return true;
}

/* Signed 33-bit LEB: a block type that is a type index. */
static inline bool wasm_read_s33(struct wasm_reader *r, int64_t *out)
{
    return wasm_read_sleb(r, 33, out);
}

static inline bool wasm_read_i64(struct wasm_reader *r, int64_t *out)
{
    return wasm_read_sleb(r, 64, out);
}

/* Raw little-endian 32 bits (f32.const payload). */
static inline bool wasm_read_f32_bits(struct wasm_reader *r, uint32_t *out)
{
    if (wasm_reader_remaining(r) < 4)
        return wasm_reader_fail(r, WASM_READ_END);
    const uint8_t *p = r->pos;
    *out = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    r->pos += 4;
    return true;
}

/* Raw little-endian 64 bits (f64.const payload). */
static inline bool wasm_read_f64_bits(struct wasm_reader *r, uint64_t *out)
{
    if (wasm_reader_remaining(r) < 8)
        return wasm_reader_fail(r, WASM_READ_END);
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | r->pos[i];
    r->pos += 8;
    *out = v;
    return true;
}

/* n raw bytes; *out points into the reader's buffer (not copied). */
static inline bool wasm_read_bytes(struct wasm_reader *r, size_t n, const uint8_t **out)
{
    if (wasm_reader_remaining(r) < n)
        return wasm_reader_fail(r, WASM_READ_END);
    *out = r->pos;
    r->pos += n;
    return true;
}

/* Skips n bytes. */
static inline bool wasm_reader_skip(struct wasm_reader *r, size_t n)
{
    const uint8_t *unused;
    return wasm_read_bytes(r, n, &unused);
}

#endif
