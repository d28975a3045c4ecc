/* numeric.h: WebAssembly numeric semantics that C does not give directly:
 * float min/max/nearest/copysign with NaN and signed zeros, checked and
 * saturating float->int truncation, integer ops free of undefined behaviour.
 * Used by the dispatch loop (exec.c); everything is static inline. */
#ifndef FL_INTERP_NUMERIC_H
#define FL_INTERP_NUMERIC_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static inline float num_f32(uint64_t cell)
{
    uint32_t u = (uint32_t)cell;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline double num_f64(uint64_t cell)
{
    double d;
    memcpy(&d, &cell, 8);
    return d;
}

static inline uint64_t num_from_f32(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static inline uint64_t num_from_f64(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

/* min/max: NaN in -> NaN out (a + b quiets and propagates it); -0 < +0. */
static inline float num_f32_min(float a, float b)
{
    if (isnan(a) || isnan(b))
        return a + b;
    if (a == b) /* equal, possibly zeros of different sign: OR the sign in */
        return num_f32(num_from_f32(a) | num_from_f32(b));
    return a < b ? a : b;
}

static inline float num_f32_max(float a, float b)
{
    if (isnan(a) || isnan(b))
        return a + b;
    if (a == b)
        return num_f32(num_from_f32(a) & num_from_f32(b));
    return a > b ? a : b;
}

static inline double num_f64_min(double a, double b)
{
    if (isnan(a) || isnan(b))
        return a + b;
    if (a == b)
        return num_f64(num_from_f64(a) | num_from_f64(b));
    return a < b ? a : b;
}

static inline double num_f64_max(double a, double b)
{
    if (isnan(a) || isnan(b))
        return a + b;
    if (a == b)
        return num_f64(num_from_f64(a) & num_from_f64(b));
    return a > b ? a : b;
}

/* Sign-bit operations work on the bits so NaN payloads pass untouched. */
static inline uint64_t num_f32_abs_bits(uint64_t c) { return (uint32_t)c & 0x7FFFFFFFu; }
static inline uint64_t num_f32_neg_bits(uint64_t c) { return (uint32_t)c ^ 0x80000000u; }
static inline uint64_t num_f32_copysign_bits(uint64_t a, uint64_t b)
{
    return ((uint32_t)a & 0x7FFFFFFFu) | ((uint32_t)b & 0x80000000u);
}
static inline uint64_t num_f64_abs_bits(uint64_t c) { return c & 0x7FFFFFFFFFFFFFFFull; }
static inline uint64_t num_f64_neg_bits(uint64_t c) { return c ^ 0x8000000000000000ull; }
static inline uint64_t num_f64_copysign_bits(uint64_t a, uint64_t b)
{
    return (a & 0x7FFFFFFFFFFFFFFFull) | (b & 0x8000000000000000ull);
}

/* Rounding: libm may return a signalling NaN unchanged, but wasm wants an
 * arithmetic (quiet) NaN, so NaNs go through an add. nearest rounds half to
 * even, as the default FP environment does. */
#define NUM_ROUNDING(name, T, fn)                                             \
    static inline T name(T a) { return isnan(a) ? a + a : fn(a); }
NUM_ROUNDING(num_f32_ceil, float, ceilf)
NUM_ROUNDING(num_f32_floor, float, floorf)
NUM_ROUNDING(num_f32_trunc, float, truncf)
NUM_ROUNDING(num_f32_nearest, float, nearbyintf)
NUM_ROUNDING(num_f64_ceil, double, ceil)
NUM_ROUNDING(num_f64_floor, double, floor)
NUM_ROUNDING(num_f64_trunc, double, trunc)
NUM_ROUNDING(num_f64_nearest, double, nearbyint)
#undef NUM_ROUNDING

/* Checked truncation. Returns 0 = ok, 1 = NaN (invalid conversion),
 * 2 = out of range (integer overflow). The range tests compare against
 * exactly representable bounds before converting, so no UB. */
static inline int num_trunc_f64_i32(double x, int32_t *out)
{
    if (isnan(x))
        return 1;
    if (!(x > -2147483649.0 && x < 2147483648.0))
        return 2;
    *out = (int32_t)x;
    return 0;
}

static inline int num_trunc_f64_u32(double x, uint32_t *out)
{
    if (isnan(x))
        return 1;
    if (!(x > -1.0 && x < 4294967296.0))
        return 2;
    *out = (uint32_t)x;
    return 0;
}

static inline int num_trunc_f64_i64(double x, int64_t *out)
{
    if (isnan(x))
        return 1;
    if (!(x >= -9223372036854775808.0 && x < 9223372036854775808.0))
        return 2;
    *out = (int64_t)x;
    return 0;
}

static inline int num_trunc_f64_u64(double x, uint64_t *out)
{
    if (isnan(x))
        return 1;
    if (!(x > -1.0 && x < 18446744073709551616.0))
        return 2;
    *out = (uint64_t)x;
    return 0;
}

/* Saturating truncation: NaN -> 0, clamps to the range. f32 inputs widen to
 * f64 exactly, so one set of bounds serves both. */
static inline int32_t num_sat_i32(double x)
{
    if (isnan(x))
        return 0;
    if (x <= -2147483648.0)
        return INT32_MIN;
    if (x >= 2147483647.0)
        return INT32_MAX;
    return (int32_t)x;
}

static inline uint32_t num_sat_u32(double x)
{
    if (isnan(x) || x <= 0.0)
        return 0;
    if (x >= 4294967295.0)
        return UINT32_MAX;
    return (uint32_t)x;
}

static inline int64_t num_sat_i64(double x)
{
    if (isnan(x))
        return 0;
    if (x <= -9223372036854775808.0)
        return INT64_MIN;
    if (x >= 9223372036854775808.0)
        return INT64_MAX;
    return (int64_t)x;
}

static inline uint64_t num_sat_u64(double x)
{
    if (isnan(x) || x <= 0.0)
        return 0;
    if (x >= 18446744073709551616.0)
        return UINT64_MAX;
    return (uint64_t)x;
}

static inline uint32_t num_rotl32(uint32_t x, uint32_t n)
{
    n &= 31;
    return (x << n) | (x >> ((32 - n) & 31));
}

static inline uint32_t num_rotr32(uint32_t x, uint32_t n)
{
    n &= 31;
    return (x >> n) | (x << ((32 - n) & 31));
}

static inline uint64_t num_rotl64(uint64_t x, uint64_t n)
{
    n &= 63;
    return (x << n) | (x >> ((64 - n) & 63));
}

static inline uint64_t num_rotr64(uint64_t x, uint64_t n)
{
    n &= 63;
    return (x >> n) | (x << ((64 - n) & 63));
}

/* Arithmetic right shift: GCC and clang define >> of a negative signed value
 * as arithmetic (implementation-defined, not undefined). */
static inline uint32_t num_shr_s32(uint32_t x, uint32_t n)
{
    return (uint32_t)((int32_t)x >> (n & 31));
}

static inline uint64_t num_shr_s64(uint64_t x, uint64_t n)
{
    return (uint64_t)((int64_t)x >> (n & 63));
}

#endif
