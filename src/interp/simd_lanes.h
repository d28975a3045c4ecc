/* simd_lanes.h: the interpreter's view of a v128 (a union of its lanes) and
 * the scalar helpers of lane operations (saturation, pmin/pmax). Used by the
 * SIMD handlers (simd_exec.h) in exec.c's dispatch loop. */
#ifndef FL_INTERP_SIMD_LANES_H
#define FL_INTERP_SIMD_LANES_H

#include <stdint.h>

/* A v128 value as its lanes; lane 0 is the lowest-addressed (little-endian). */
typedef union {
    uint8_t u8[16];
    int8_t i8[16];
    uint16_t u16[8];
    int16_t i16[8];
    uint32_t u32[4];
    int32_t i32[4];
    uint64_t u64[2];
    int64_t i64[2];
    float f32[4];
    double f64[2];
} interp_v128;

static inline int8_t simd_sat8(int v) { return (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v); }
static inline uint8_t simd_satu8(int v) { return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v); }
static inline int16_t simd_sat16(int32_t v)
{
    return (int16_t)(v < -32768 ? -32768 : v > 32767 ? 32767 : v);
}
static inline uint16_t simd_satu16(int32_t v) { return (uint16_t)(v < 0 ? 0 : v > 65535 ? 65535 : v); }
static inline float simd_f32_pmin(float a, float b) { return b < a ? b : a; }
static inline float simd_f32_pmax(float a, float b) { return a < b ? b : a; }
static inline double simd_f64_pmin(double a, double b) { return b < a ? b : a; }
static inline double simd_f64_pmax(double a, double b) { return a < b ? b : a; }

#endif
