/* simd_exec.h: handlers of the interpreter's SIMD ops (simd_ops.h), as lane
 * loops in portable C with the exact wasm semantics (saturation, NaN rules of
 * min/max/pmin/pmax, trunc_sat). Included once, inside the dispatch loop of
 * exec.c (it uses that function's ip, fp, mb and macros); the lane type and
 * helpers are in simd_lanes.h. Integer lanes compute in unsigned types so
 * nothing overflows a signed type. */

#define VGET(i) ({ interp_v128 v_; memcpy(&v_, &fp[OP(i)], 16); v_; })
#define VPUT(i, v) memcpy(&fp[OP(i)], &(v), 16)
/* Effective address of a size-byte access with the offset in operand k. */
#define VEA(addr_op, k, size)                                                     \
    ({                                                                            \
        uint64_t ea_ = (uint64_t)(uint32_t)SL(addr_op) + OP(k);                   \
        if (UNLIKELY(ea_ + (size) > mlimit)) {                                    \
            mlimit = mem_limit(inst);                                             \
            if (ea_ + (size) > mlimit)                                            \
                TRAP(RUNTIME_TRAP_MEMORY_OUT_OF_BOUNDS);                          \
        }                                                                         \
        mb + ea_;                                                                 \
    })

/* Shapes: r = f(a), r = f(a, b), r = f(a, b, c); each BODY fills r. */
#define V_UN(NAME, BODY)                                                          \
    L_V_##NAME: {                                                                 \
        interp_v128 a = VGET(1), r;                                               \
        BODY;                                                                     \
        VPUT(0, r);                                                               \
        NEXT(2);                                                                  \
    }
#define V_BIN(NAME, BODY)                                                         \
    L_V_##NAME: {                                                                 \
        interp_v128 a = VGET(1), b = VGET(2), r;                                  \
        BODY;                                                                     \
        VPUT(0, r);                                                               \
        NEXT(3);                                                                  \
    }
/* r.L[i] = EXPR for every lane i. */
#define LANES(L, N, EXPR)                                                         \
    for (int i = 0; i < (N); i++)                                                 \
        r.L[i] = (EXPR)

    /* ---- memory ---- */
L_V_V128_LOAD: {
    interp_v128 r;
    memcpy(&r, VEA(1, 2, 16), 16);
    VPUT(0, r);
    NEXT(3);
}
#define V_LOAD_EXT(NAME, S, D, N)                                                 \
    L_V_##NAME: {                                                                 \
        interp_v128 r;                                                            \
        S src_[N];                                                                \
        memcpy(src_, VEA(1, 2, 8), 8);                                            \
        for (int i = 0; i < (N); i++)                                             \
            r.D[i] = src_[i];                                                     \
        VPUT(0, r);                                                               \
        NEXT(3);                                                                  \
    }
V_LOAD_EXT(V128_LOAD8X8_S, int8_t, i16, 8)
V_LOAD_EXT(V128_LOAD8X8_U, uint8_t, u16, 8)
V_LOAD_EXT(V128_LOAD16X4_S, int16_t, i32, 4)
V_LOAD_EXT(V128_LOAD16X4_U, uint16_t, u32, 4)
V_LOAD_EXT(V128_LOAD32X2_S, int32_t, i64, 2)
V_LOAD_EXT(V128_LOAD32X2_U, uint32_t, u64, 2)
#define V_LOAD_SPLAT(NAME, T, L, N)                                               \
    L_V_##NAME: {                                                                 \
        interp_v128 r;                                                            \
        T x_;                                                                     \
        memcpy(&x_, VEA(1, 2, sizeof(T)), sizeof(T));                             \
        LANES(L, N, x_);                                                          \
        VPUT(0, r);                                                               \
        NEXT(3);                                                                  \
    }
V_LOAD_SPLAT(V128_LOAD8_SPLAT, uint8_t, u8, 16)
V_LOAD_SPLAT(V128_LOAD16_SPLAT, uint16_t, u16, 8)
V_LOAD_SPLAT(V128_LOAD32_SPLAT, uint32_t, u32, 4)
V_LOAD_SPLAT(V128_LOAD64_SPLAT, uint64_t, u64, 2)
#define V_LOAD_ZERO(NAME, T)                                                      \
    L_V_##NAME: {                                                                 \
        interp_v128 r;                                                            \
        memset(&r, 0, sizeof r);                                                  \
        memcpy(&r, VEA(1, 2, sizeof(T)), sizeof(T));                              \
        VPUT(0, r);                                                               \
        NEXT(3);                                                                  \
    }
V_LOAD_ZERO(V128_LOAD32_ZERO, uint32_t)
V_LOAD_ZERO(V128_LOAD64_ZERO, uint64_t)
L_V_V128_STORE: {
    interp_v128 v = VGET(1);
    memcpy(VEA(0, 2, 16), &v, 16);
    NEXT(3);
}
/* Lane loads: dst addr vec offset lane; lane stores: addr vec offset lane. */
#define V_LOAD_LANE(NAME, T, L)                                                   \
    L_V_##NAME: {                                                                 \
        interp_v128 r = VGET(2);                                                  \
        T x_;                                                                     \
        memcpy(&x_, VEA(1, 3, sizeof(T)), sizeof(T));                             \
        r.L[OP(4) % (16 / sizeof(T))] = x_;                                       \
        VPUT(0, r);                                                               \
        NEXT(5);                                                                  \
    }
V_LOAD_LANE(V128_LOAD8_LANE, uint8_t, u8)
V_LOAD_LANE(V128_LOAD16_LANE, uint16_t, u16)
V_LOAD_LANE(V128_LOAD32_LANE, uint32_t, u32)
V_LOAD_LANE(V128_LOAD64_LANE, uint64_t, u64)
#define V_STORE_LANE(NAME, T, L)                                                  \
    L_V_##NAME: {                                                                 \
        interp_v128 v = VGET(1);                                                  \
        T x_ = v.L[OP(3) % (16 / sizeof(T))];                                     \
        memcpy(VEA(0, 2, sizeof(T)), &x_, sizeof(T));                             \
        NEXT(4);                                                                  \
    }
V_STORE_LANE(V128_STORE8_LANE, uint8_t, u8)
V_STORE_LANE(V128_STORE16_LANE, uint16_t, u16)
V_STORE_LANE(V128_STORE32_LANE, uint32_t, u32)
V_STORE_LANE(V128_STORE64_LANE, uint64_t, u64)

    /* ---- constants, globals, select ---- */
L_V_V128_CONST:
    memcpy(&fp[OP(0)], &OP(1), 16);
    NEXT(5);
L_V_GLOBAL_GET:
    memcpy(&fp[OP(0)], inst->globals[OP(1)]->cells, 16);
    NEXT(2);
L_V_GLOBAL_SET:
    memcpy(inst->globals[OP(0)]->cells, &fp[OP(1)], 16);
    NEXT(2);
L_V_SELECT: {
    interp_v128 r = (uint32_t)SL(3) ? VGET(1) : VGET(2);
    VPUT(0, r);
    NEXT(4);
}

    /* ---- lanes: shuffle, swizzle, splat, extract, replace ---- */
L_V_I8X16_SHUFFLE: {
    interp_v128 a = VGET(1), b = VGET(2), r;
    uint8_t lanes[16];
    memcpy(lanes, &OP(3), 16);
    for (int i = 0; i < 16; i++)
        r.u8[i] = lanes[i] < 16 ? a.u8[lanes[i] & 15] : b.u8[lanes[i] & 15];
    VPUT(0, r);
    NEXT(7);
}
V_BIN(I8X16_SWIZZLE, LANES(u8, 16, b.u8[i] < 16 ? a.u8[b.u8[i]] : 0))
#define V_SPLAT(NAME, L, N, EXPR)                                                 \
    L_V_##NAME: {                                                                 \
        interp_v128 r;                                                            \
        uint64_t x_ = SL(1);                                                      \
        LANES(L, N, EXPR);                                                        \
        VPUT(0, r);                                                               \
        NEXT(2);                                                                  \
    }
V_SPLAT(I8X16_SPLAT, u8, 16, (uint8_t)x_)
V_SPLAT(I16X8_SPLAT, u16, 8, (uint16_t)x_)
V_SPLAT(I32X4_SPLAT, u32, 4, (uint32_t)x_)
V_SPLAT(I64X2_SPLAT, u64, 2, x_)
V_SPLAT(F32X4_SPLAT, u32, 4, (uint32_t)x_)
V_SPLAT(F64X2_SPLAT, u64, 2, x_)
/* extract: dst vec lane; replace: dst vec scalar lane. */
#define V_EXTRACT(NAME, L, N, CONV)                                               \
    L_V_##NAME: {                                                                 \
        interp_v128 a = VGET(1);                                                  \
        SL(0) = CONV(a.L[OP(2) % (N)]);                                           \
        NEXT(3);                                                                  \
    }
#define CV_S32(v) ((uint64_t)(uint32_t)(int32_t)(v))
#define CV_ID(v) ((uint64_t)(v))
V_EXTRACT(I8X16_EXTRACT_LANE_S, i8, 16, CV_S32)
V_EXTRACT(I8X16_EXTRACT_LANE_U, u8, 16, CV_ID)
V_EXTRACT(I16X8_EXTRACT_LANE_S, i16, 8, CV_S32)
V_EXTRACT(I16X8_EXTRACT_LANE_U, u16, 8, CV_ID)
V_EXTRACT(I32X4_EXTRACT_LANE, u32, 4, CV_ID)
V_EXTRACT(I64X2_EXTRACT_LANE, u64, 2, CV_ID)
V_EXTRACT(F32X4_EXTRACT_LANE, u32, 4, CV_ID)
V_EXTRACT(F64X2_EXTRACT_LANE, u64, 2, CV_ID)
#define V_REPLACE(NAME, L, N, T)                                                  \
    L_V_##NAME: {                                                                 \
        interp_v128 r = VGET(1);                                                  \
        r.L[OP(3) % (N)] = (T)SL(2);                                              \
        VPUT(0, r);                                                               \
        NEXT(4);                                                                  \
    }
V_REPLACE(I8X16_REPLACE_LANE, u8, 16, uint8_t)
V_REPLACE(I16X8_REPLACE_LANE, u16, 8, uint16_t)
V_REPLACE(I32X4_REPLACE_LANE, u32, 4, uint32_t)
V_REPLACE(I64X2_REPLACE_LANE, u64, 2, uint64_t)
V_REPLACE(F32X4_REPLACE_LANE, u32, 4, uint32_t)
V_REPLACE(F64X2_REPLACE_LANE, u64, 2, uint64_t)

    /* ---- comparisons: all-ones lanes where true ---- */
#define V_CMP(NAME, L, N, OPR)                                                    \
    V_BIN(NAME, for (int i = 0; i < (N); i++)                                     \
                    memset(&r.L[i], (a.L[i] OPR b.L[i]) ? 0xFF : 0, sizeof r.L[i]))
V_CMP(I8X16_EQ, u8, 16, ==) V_CMP(I8X16_NE, u8, 16, !=)
V_CMP(I8X16_LT_S, i8, 16, <) V_CMP(I8X16_LT_U, u8, 16, <)
V_CMP(I8X16_GT_S, i8, 16, >) V_CMP(I8X16_GT_U, u8, 16, >)
V_CMP(I8X16_LE_S, i8, 16, <=) V_CMP(I8X16_LE_U, u8, 16, <=)
V_CMP(I8X16_GE_S, i8, 16, >=) V_CMP(I8X16_GE_U, u8, 16, >=)
V_CMP(I16X8_EQ, u16, 8, ==) V_CMP(I16X8_NE, u16, 8, !=)
V_CMP(I16X8_LT_S, i16, 8, <) V_CMP(I16X8_LT_U, u16, 8, <)
V_CMP(I16X8_GT_S, i16, 8, >) V_CMP(I16X8_GT_U, u16, 8, >)
V_CMP(I16X8_LE_S, i16, 8, <=) V_CMP(I16X8_LE_U, u16, 8, <=)
V_CMP(I16X8_GE_S, i16, 8, >=) V_CMP(I16X8_GE_U, u16, 8, >=)
V_CMP(I32X4_EQ, u32, 4, ==) V_CMP(I32X4_NE, u32, 4, !=)
V_CMP(I32X4_LT_S, i32, 4, <) V_CMP(I32X4_LT_U, u32, 4, <)
V_CMP(I32X4_GT_S, i32, 4, >) V_CMP(I32X4_GT_U, u32, 4, >)
V_CMP(I32X4_LE_S, i32, 4, <=) V_CMP(I32X4_LE_U, u32, 4, <=)
V_CMP(I32X4_GE_S, i32, 4, >=) V_CMP(I32X4_GE_U, u32, 4, >=)
V_CMP(I64X2_EQ, u64, 2, ==) V_CMP(I64X2_NE, u64, 2, !=)
V_CMP(I64X2_LT_S, i64, 2, <) V_CMP(I64X2_GT_S, i64, 2, >)
V_CMP(I64X2_LE_S, i64, 2, <=) V_CMP(I64X2_GE_S, i64, 2, >=)
V_CMP(F32X4_EQ, f32, 4, ==) V_CMP(F32X4_NE, f32, 4, !=)
V_CMP(F32X4_LT, f32, 4, <) V_CMP(F32X4_GT, f32, 4, >)
V_CMP(F32X4_LE, f32, 4, <=) V_CMP(F32X4_GE, f32, 4, >=)
V_CMP(F64X2_EQ, f64, 2, ==) V_CMP(F64X2_NE, f64, 2, !=)
V_CMP(F64X2_LT, f64, 2, <) V_CMP(F64X2_GT, f64, 2, >)
V_CMP(F64X2_LE, f64, 2, <=) V_CMP(F64X2_GE, f64, 2, >=)

    /* ---- bitwise ---- */
V_UN(V128_NOT, LANES(u64, 2, ~a.u64[i]))
V_BIN(V128_AND, LANES(u64, 2, a.u64[i] & b.u64[i]))
V_BIN(V128_ANDNOT, LANES(u64, 2, a.u64[i] & ~b.u64[i]))
V_BIN(V128_OR, LANES(u64, 2, a.u64[i] | b.u64[i]))
V_BIN(V128_XOR, LANES(u64, 2, a.u64[i] ^ b.u64[i]))
L_V_V128_BITSELECT: {
    interp_v128 a = VGET(1), b = VGET(2), m = VGET(3), r;
    LANES(u64, 2, (a.u64[i] & m.u64[i]) | (b.u64[i] & ~m.u64[i]));
    VPUT(0, r);
    NEXT(4);
}
L_V_V128_ANY_TRUE: {
    interp_v128 a = VGET(1);
    SL(0) = (a.u64[0] | a.u64[1]) != 0;
    NEXT(2);
}
#define V_ALL_TRUE(NAME, L, N)                                                    \
    L_V_##NAME: {                                                                 \
        interp_v128 a = VGET(1);                                                  \
        uint64_t all_ = 1;                                                        \
        for (int i = 0; i < (N); i++)                                             \
            all_ &= a.L[i] != 0;                                                  \
        SL(0) = all_;                                                             \
        NEXT(2);                                                                  \
    }
V_ALL_TRUE(I8X16_ALL_TRUE, u8, 16)
V_ALL_TRUE(I16X8_ALL_TRUE, u16, 8)
V_ALL_TRUE(I32X4_ALL_TRUE, u32, 4)
V_ALL_TRUE(I64X2_ALL_TRUE, u64, 2)
#define V_BITMASK(NAME, L, N)                                                     \
    L_V_##NAME: {                                                                 \
        interp_v128 a = VGET(1);                                                  \
        uint64_t m_ = 0;                                                          \
        for (int i = 0; i < (N); i++)                                             \
            m_ |= (uint64_t)(a.L[i] < 0) << i;                                    \
        SL(0) = m_;                                                               \
        NEXT(2);                                                                  \
    }
V_BITMASK(I8X16_BITMASK, i8, 16)
V_BITMASK(I16X8_BITMASK, i16, 8)
V_BITMASK(I32X4_BITMASK, i32, 4)
V_BITMASK(I64X2_BITMASK, i64, 2)

    /* ---- integer arithmetic ---- */
V_UN(I8X16_ABS, LANES(u8, 16, a.i8[i] < 0 ? (uint8_t)(0u - a.u8[i]) : a.u8[i]))
V_UN(I16X8_ABS, LANES(u16, 8, a.i16[i] < 0 ? (uint16_t)(0u - a.u16[i]) : a.u16[i]))
V_UN(I32X4_ABS, LANES(u32, 4, a.i32[i] < 0 ? 0u - a.u32[i] : a.u32[i]))
V_UN(I64X2_ABS, LANES(u64, 2, a.i64[i] < 0 ? 0ull - a.u64[i] : a.u64[i]))
V_UN(I8X16_NEG, LANES(u8, 16, (uint8_t)(0u - a.u8[i])))
V_UN(I16X8_NEG, LANES(u16, 8, (uint16_t)(0u - a.u16[i])))
V_UN(I32X4_NEG, LANES(u32, 4, 0u - a.u32[i]))
V_UN(I64X2_NEG, LANES(u64, 2, 0ull - a.u64[i]))
V_UN(I8X16_POPCNT, LANES(u8, 16, (uint8_t)__builtin_popcount(a.u8[i])))
V_BIN(I8X16_ADD, LANES(u8, 16, (uint8_t)(a.u8[i] + b.u8[i])))
V_BIN(I16X8_ADD, LANES(u16, 8, (uint16_t)(a.u16[i] + b.u16[i])))
V_BIN(I32X4_ADD, LANES(u32, 4, a.u32[i] + b.u32[i]))
V_BIN(I64X2_ADD, LANES(u64, 2, a.u64[i] + b.u64[i]))
V_BIN(I8X16_SUB, LANES(u8, 16, (uint8_t)(a.u8[i] - b.u8[i])))
V_BIN(I16X8_SUB, LANES(u16, 8, (uint16_t)(a.u16[i] - b.u16[i])))
V_BIN(I32X4_SUB, LANES(u32, 4, a.u32[i] - b.u32[i]))
V_BIN(I64X2_SUB, LANES(u64, 2, a.u64[i] - b.u64[i]))
V_BIN(I16X8_MUL, LANES(u16, 8, (uint16_t)((uint32_t)a.u16[i] * b.u16[i])))
V_BIN(I32X4_MUL, LANES(u32, 4, a.u32[i] * b.u32[i]))
V_BIN(I64X2_MUL, LANES(u64, 2, a.u64[i] * b.u64[i]))
V_BIN(I8X16_ADD_SAT_S, LANES(i8, 16, simd_sat8(a.i8[i] + b.i8[i])))
V_BIN(I8X16_ADD_SAT_U, LANES(u8, 16, simd_satu8(a.u8[i] + b.u8[i])))
V_BIN(I8X16_SUB_SAT_S, LANES(i8, 16, simd_sat8(a.i8[i] - b.i8[i])))
V_BIN(I8X16_SUB_SAT_U, LANES(u8, 16, simd_satu8(a.u8[i] - b.u8[i])))
V_BIN(I16X8_ADD_SAT_S, LANES(i16, 8, simd_sat16(a.i16[i] + b.i16[i])))
V_BIN(I16X8_ADD_SAT_U, LANES(u16, 8, simd_satu16(a.u16[i] + b.u16[i])))
V_BIN(I16X8_SUB_SAT_S, LANES(i16, 8, simd_sat16(a.i16[i] - b.i16[i])))
V_BIN(I16X8_SUB_SAT_U, LANES(u16, 8, simd_satu16(a.u16[i] - b.u16[i])))
#define MIN(x, y) ((x) < (y) ? (x) : (y))
#define MAX(x, y) ((x) > (y) ? (x) : (y))
V_BIN(I8X16_MIN_S, LANES(i8, 16, MIN(a.i8[i], b.i8[i])))
V_BIN(I8X16_MIN_U, LANES(u8, 16, MIN(a.u8[i], b.u8[i])))
V_BIN(I8X16_MAX_S, LANES(i8, 16, MAX(a.i8[i], b.i8[i])))
V_BIN(I8X16_MAX_U, LANES(u8, 16, MAX(a.u8[i], b.u8[i])))
V_BIN(I16X8_MIN_S, LANES(i16, 8, MIN(a.i16[i], b.i16[i])))
V_BIN(I16X8_MIN_U, LANES(u16, 8, MIN(a.u16[i], b.u16[i])))
V_BIN(I16X8_MAX_S, LANES(i16, 8, MAX(a.i16[i], b.i16[i])))
V_BIN(I16X8_MAX_U, LANES(u16, 8, MAX(a.u16[i], b.u16[i])))
V_BIN(I32X4_MIN_S, LANES(i32, 4, MIN(a.i32[i], b.i32[i])))
V_BIN(I32X4_MIN_U, LANES(u32, 4, MIN(a.u32[i], b.u32[i])))
V_BIN(I32X4_MAX_S, LANES(i32, 4, MAX(a.i32[i], b.i32[i])))
V_BIN(I32X4_MAX_U, LANES(u32, 4, MAX(a.u32[i], b.u32[i])))
#undef MIN
#undef MAX
V_BIN(I8X16_AVGR_U, LANES(u8, 16, (uint8_t)((a.u8[i] + b.u8[i] + 1u) >> 1)))
V_BIN(I16X8_AVGR_U, LANES(u16, 8, (uint16_t)((a.u16[i] + b.u16[i] + 1u) >> 1)))
V_BIN(I16X8_Q15MULR_SAT_S,
      LANES(i16, 8, simd_sat16(((int32_t)a.i16[i] * b.i16[i] + 0x4000) >> 15)))
V_BIN(I32X4_DOT_I16X8_S,
      LANES(u32, 4, (uint32_t)((int32_t)a.i16[2 * i] * b.i16[2 * i]) +
                        (uint32_t)((int32_t)a.i16[2 * i + 1] * b.i16[2 * i + 1])))
/* Shifts take the count modulo the lane width. */
#define V_SHIFT(NAME, L, N, W, EXPR)                                              \
    L_V_##NAME: {                                                                 \
        interp_v128 a = VGET(1), r;                                               \
        uint32_t s = (uint32_t)SL(2) & ((W) - 1);                                 \
        LANES(L, N, EXPR);                                                        \
        VPUT(0, r);                                                               \
        NEXT(3);                                                                  \
    }
V_SHIFT(I8X16_SHL, u8, 16, 8, (uint8_t)(a.u8[i] << s))
V_SHIFT(I8X16_SHR_S, i8, 16, 8, (int8_t)(a.i8[i] >> s))
V_SHIFT(I8X16_SHR_U, u8, 16, 8, (uint8_t)(a.u8[i] >> s))
V_SHIFT(I16X8_SHL, u16, 8, 16, (uint16_t)(a.u16[i] << s))
V_SHIFT(I16X8_SHR_S, i16, 8, 16, (int16_t)(a.i16[i] >> s))
V_SHIFT(I16X8_SHR_U, u16, 8, 16, (uint16_t)(a.u16[i] >> s))
V_SHIFT(I32X4_SHL, u32, 4, 32, a.u32[i] << s)
V_SHIFT(I32X4_SHR_S, u32, 4, 32, (uint32_t)num_shr_s32(a.u32[i], s))
V_SHIFT(I32X4_SHR_U, u32, 4, 32, a.u32[i] >> s)
V_SHIFT(I64X2_SHL, u64, 2, 64, a.u64[i] << s)
V_SHIFT(I64X2_SHR_S, u64, 2, 64, num_shr_s64(a.u64[i], s))
V_SHIFT(I64X2_SHR_U, u64, 2, 64, a.u64[i] >> s)

    /* ---- widening and narrowing ---- */
/* D lanes from the low or high half (H = 0 or N) of S lanes. */
#define V_EXTEND(NAME, D, S, N, H) V_UN(NAME, LANES(D, N, a.S[i + (H)]))
V_EXTEND(I16X8_EXTEND_LOW_I8X16_S, i16, i8, 8, 0)
V_EXTEND(I16X8_EXTEND_HIGH_I8X16_S, i16, i8, 8, 8)
V_EXTEND(I16X8_EXTEND_LOW_I8X16_U, u16, u8, 8, 0)
V_EXTEND(I16X8_EXTEND_HIGH_I8X16_U, u16, u8, 8, 8)
V_EXTEND(I32X4_EXTEND_LOW_I16X8_S, i32, i16, 4, 0)
V_EXTEND(I32X4_EXTEND_HIGH_I16X8_S, i32, i16, 4, 4)
V_EXTEND(I32X4_EXTEND_LOW_I16X8_U, u32, u16, 4, 0)
V_EXTEND(I32X4_EXTEND_HIGH_I16X8_U, u32, u16, 4, 4)
V_EXTEND(I64X2_EXTEND_LOW_I32X4_S, i64, i32, 2, 0)
V_EXTEND(I64X2_EXTEND_HIGH_I32X4_S, i64, i32, 2, 2)
V_EXTEND(I64X2_EXTEND_LOW_I32X4_U, u64, u32, 2, 0)
V_EXTEND(I64X2_EXTEND_HIGH_I32X4_U, u64, u32, 2, 2)
/* Products of widened lanes; WT is a type wide enough for the product. */
#define V_EXTMUL(NAME, D, S, N, H, WT)                                            \
    V_BIN(NAME, LANES(D, N, (WT)a.S[i + (H)] * (WT)b.S[i + (H)]))
V_EXTMUL(I16X8_EXTMUL_LOW_I8X16_S, i16, i8, 8, 0, int32_t)
V_EXTMUL(I16X8_EXTMUL_HIGH_I8X16_S, i16, i8, 8, 8, int32_t)
V_EXTMUL(I16X8_EXTMUL_LOW_I8X16_U, u16, u8, 8, 0, uint32_t)
V_EXTMUL(I16X8_EXTMUL_HIGH_I8X16_U, u16, u8, 8, 8, uint32_t)
V_EXTMUL(I32X4_EXTMUL_LOW_I16X8_S, i32, i16, 4, 0, int32_t)
V_EXTMUL(I32X4_EXTMUL_HIGH_I16X8_S, i32, i16, 4, 4, int32_t)
V_EXTMUL(I32X4_EXTMUL_LOW_I16X8_U, u32, u16, 4, 0, uint32_t)
V_EXTMUL(I32X4_EXTMUL_HIGH_I16X8_U, u32, u16, 4, 4, uint32_t)
V_EXTMUL(I64X2_EXTMUL_LOW_I32X4_S, i64, i32, 2, 0, int64_t)
V_EXTMUL(I64X2_EXTMUL_HIGH_I32X4_S, i64, i32, 2, 2, int64_t)
V_EXTMUL(I64X2_EXTMUL_LOW_I32X4_U, u64, u32, 2, 0, uint64_t)
V_EXTMUL(I64X2_EXTMUL_HIGH_I32X4_U, u64, u32, 2, 2, uint64_t)
V_UN(I16X8_EXTADD_PAIRWISE_I8X16_S, LANES(i16, 8, (int16_t)(a.i8[2 * i] + a.i8[2 * i + 1])))
V_UN(I16X8_EXTADD_PAIRWISE_I8X16_U, LANES(u16, 8, (uint16_t)(a.u8[2 * i] + a.u8[2 * i + 1])))
V_UN(I32X4_EXTADD_PAIRWISE_I16X8_S, LANES(i32, 4, (int32_t)a.i16[2 * i] + a.i16[2 * i + 1]))
V_UN(I32X4_EXTADD_PAIRWISE_I16X8_U, LANES(u32, 4, (uint32_t)a.u16[2 * i] + a.u16[2 * i + 1]))
/* Narrowing reads both inputs fully before writing r (r may alias nothing,
 * but the lanes of a and b interleave by halves). */
V_BIN(I8X16_NARROW_I16X8_S,
      LANES(i8, 16, simd_sat8(i < 8 ? a.i16[i] : b.i16[i - 8])))
V_BIN(I8X16_NARROW_I16X8_U,
      LANES(u8, 16, simd_satu8(i < 8 ? a.i16[i] : b.i16[i - 8])))
V_BIN(I16X8_NARROW_I32X4_S,
      LANES(i16, 8, simd_sat16(i < 4 ? a.i32[i] : b.i32[i - 4])))
V_BIN(I16X8_NARROW_I32X4_U,
      LANES(u16, 8, simd_satu16(i < 4 ? a.i32[i] : b.i32[i - 4])))

    /* ---- floating point ---- */
V_UN(F32X4_ABS, LANES(u32, 4, a.u32[i] & 0x7FFFFFFFu))
V_UN(F32X4_NEG, LANES(u32, 4, a.u32[i] ^ 0x80000000u))
V_UN(F64X2_ABS, LANES(u64, 2, a.u64[i] & 0x7FFFFFFFFFFFFFFFull))
V_UN(F64X2_NEG, LANES(u64, 2, a.u64[i] ^ 0x8000000000000000ull))
V_UN(F32X4_SQRT, LANES(f32, 4, sqrtf(a.f32[i])))
V_UN(F64X2_SQRT, LANES(f64, 2, sqrt(a.f64[i])))
V_UN(F32X4_CEIL, LANES(f32, 4, num_f32_ceil(a.f32[i])))
V_UN(F32X4_FLOOR, LANES(f32, 4, num_f32_floor(a.f32[i])))
V_UN(F32X4_TRUNC, LANES(f32, 4, num_f32_trunc(a.f32[i])))
V_UN(F32X4_NEAREST, LANES(f32, 4, num_f32_nearest(a.f32[i])))
V_UN(F64X2_CEIL, LANES(f64, 2, num_f64_ceil(a.f64[i])))
V_UN(F64X2_FLOOR, LANES(f64, 2, num_f64_floor(a.f64[i])))
V_UN(F64X2_TRUNC, LANES(f64, 2, num_f64_trunc(a.f64[i])))
V_UN(F64X2_NEAREST, LANES(f64, 2, num_f64_nearest(a.f64[i])))
V_BIN(F32X4_ADD, LANES(f32, 4, a.f32[i] + b.f32[i]))
V_BIN(F32X4_SUB, LANES(f32, 4, a.f32[i] - b.f32[i]))
V_BIN(F32X4_MUL, LANES(f32, 4, a.f32[i] * b.f32[i]))
V_BIN(F32X4_DIV, LANES(f32, 4, a.f32[i] / b.f32[i]))
V_BIN(F32X4_MIN, LANES(f32, 4, num_f32_min(a.f32[i], b.f32[i])))
V_BIN(F32X4_MAX, LANES(f32, 4, num_f32_max(a.f32[i], b.f32[i])))
V_BIN(F32X4_PMIN, LANES(f32, 4, simd_f32_pmin(a.f32[i], b.f32[i])))
V_BIN(F32X4_PMAX, LANES(f32, 4, simd_f32_pmax(a.f32[i], b.f32[i])))
V_BIN(F64X2_ADD, LANES(f64, 2, a.f64[i] + b.f64[i]))
V_BIN(F64X2_SUB, LANES(f64, 2, a.f64[i] - b.f64[i]))
V_BIN(F64X2_MUL, LANES(f64, 2, a.f64[i] * b.f64[i]))
V_BIN(F64X2_DIV, LANES(f64, 2, a.f64[i] / b.f64[i]))
V_BIN(F64X2_MIN, LANES(f64, 2, num_f64_min(a.f64[i], b.f64[i])))
V_BIN(F64X2_MAX, LANES(f64, 2, num_f64_max(a.f64[i], b.f64[i])))
V_BIN(F64X2_PMIN, LANES(f64, 2, simd_f64_pmin(a.f64[i], b.f64[i])))
V_BIN(F64X2_PMAX, LANES(f64, 2, simd_f64_pmax(a.f64[i], b.f64[i])))
V_UN(F32X4_DEMOTE_F64X2_ZERO, LANES(f32, 4, i < 2 ? (float)a.f64[i] : 0.0f))
V_UN(F64X2_PROMOTE_LOW_F32X4, LANES(f64, 2, (double)a.f32[i]))
V_UN(F32X4_CONVERT_I32X4_S, LANES(f32, 4, (float)a.i32[i]))
V_UN(F32X4_CONVERT_I32X4_U, LANES(f32, 4, (float)a.u32[i]))
V_UN(F64X2_CONVERT_LOW_I32X4_S, LANES(f64, 2, (double)a.i32[i]))
V_UN(F64X2_CONVERT_LOW_I32X4_U, LANES(f64, 2, (double)a.u32[i]))
V_UN(I32X4_TRUNC_SAT_F32X4_S, LANES(i32, 4, num_sat_i32((double)a.f32[i])))
V_UN(I32X4_TRUNC_SAT_F32X4_U, LANES(u32, 4, num_sat_u32((double)a.f32[i])))
V_UN(I32X4_TRUNC_SAT_F64X2_S_ZERO, LANES(i32, 4, i < 2 ? num_sat_i32(a.f64[i]) : 0))
V_UN(I32X4_TRUNC_SAT_F64X2_U_ZERO, LANES(u32, 4, i < 2 ? num_sat_u32(a.f64[i]) : 0u))

#undef V_UN
#undef V_BIN
#undef LANES
#undef V_CMP
#undef V_SHIFT
#undef V_EXTEND
#undef V_EXTMUL
#undef V_LOAD_EXT
#undef V_LOAD_SPLAT
#undef V_LOAD_ZERO
#undef V_LOAD_LANE
#undef V_STORE_LANE
#undef V_SPLAT
#undef V_EXTRACT
#undef V_REPLACE
#undef V_ALL_TRUE
#undef V_BITMASK
#undef CV_S32
#undef CV_ID
#undef VEA
#undef VGET
#undef VPUT
