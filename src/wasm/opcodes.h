/* opcodes.h: the WebAssembly instruction table, as X-macros.
 * One row per instruction: the decoder, validator, interpreter compiler and
 * code generator all expand the same table, so an opcode is named once.
 *
 *   WASM_OP(NAME, byte, IMM, "sig")          single-byte opcodes
 *   WASM_OP_FC(NAME, subop, IMM, "sig")      0xFC prefix (saturating trunc, bulk memory, tables)
 *
 * IMM names the immediate kind (enum wasm_imm). sig is the stack signature for
 * instructions with a fixed one, "params:results" using i=i32 I=i64 f=f32
 * F=f64 v=v128; NULL where the validator handles the instruction by hand.
 *   WASM_OP_FD(NAME, subop, IMM, "sig")      0xFD prefix (SIMD)
 *   WASM_OP_FE(NAME, subop, IMM, "sig")      0xFE prefix (threads: atomics) */
#ifndef FL_WASM_OPCODES_H
#define FL_WASM_OPCODES_H

enum wasm_imm {
    WASM_IMM_NONE,
    WASM_IMM_BLOCK,         /* blocktype */
    WASM_IMM_LABEL,         /* br, br_if */
    WASM_IMM_BR_TABLE,      /* vec(label) label */
    WASM_IMM_FUNC,          /* call, ref.func */
    WASM_IMM_CALL_INDIRECT, /* typeidx tableidx */
    WASM_IMM_LOCAL,
    WASM_IMM_GLOBAL,
    WASM_IMM_TABLE,         /* table.get/set/size/grow/fill */
    WASM_IMM_MEMARG,        /* align offset */
    WASM_IMM_MEMORY,        /* memory.size/grow: reserved byte 0x00 */
    WASM_IMM_I32,
    WASM_IMM_I64,
    WASM_IMM_F32,
    WASM_IMM_F64,
    WASM_IMM_SELECT_T,      /* vec(valtype) */
    WASM_IMM_REFTYPE,       /* ref.null */
    WASM_IMM_MEMORY_INIT,   /* dataidx 0x00 */
    WASM_IMM_DATA,          /* data.drop */
    WASM_IMM_MEMORY_COPY,   /* 0x00 0x00 */
    WASM_IMM_TABLE_INIT,    /* elemidx tableidx */
    WASM_IMM_ELEM,          /* elem.drop */
    WASM_IMM_TABLE_COPY,    /* tableidx tableidx */
    /* SIMD (0xFD) */
    WASM_IMM_V128,          /* 16 bytes */
    WASM_IMM_SHUFFLE,       /* 16 lane indices, each < 32 */
    WASM_IMM_LANE,          /* lane index byte */
    WASM_IMM_MEMARG_LANE,   /* align offset lane */
};

#define WASM_OPCODES(X) \
    X(UNREACHABLE, 0x00, NONE, NULL) \
    X(NOP, 0x01, NONE, NULL) \
    X(BLOCK, 0x02, BLOCK, NULL) \
    X(LOOP, 0x03, BLOCK, NULL) \
    X(IF, 0x04, BLOCK, NULL) \
    X(ELSE, 0x05, NONE, NULL) \
    X(END, 0x0B, NONE, NULL) \
    X(BR, 0x0C, LABEL, NULL) \
    X(BR_IF, 0x0D, LABEL, NULL) \
    X(BR_TABLE, 0x0E, BR_TABLE, NULL) \
    X(RETURN, 0x0F, NONE, NULL) \
    X(CALL, 0x10, FUNC, NULL) \
    X(CALL_INDIRECT, 0x11, CALL_INDIRECT, NULL) \
    X(DROP, 0x1A, NONE, NULL) \
    X(SELECT, 0x1B, NONE, NULL) \
    X(SELECT_T, 0x1C, SELECT_T, NULL) \
    X(LOCAL_GET, 0x20, LOCAL, NULL) \
    X(LOCAL_SET, 0x21, LOCAL, NULL) \
    X(LOCAL_TEE, 0x22, LOCAL, NULL) \
    X(GLOBAL_GET, 0x23, GLOBAL, NULL) \
    X(GLOBAL_SET, 0x24, GLOBAL, NULL) \
    X(TABLE_GET, 0x25, TABLE, NULL) \
    X(TABLE_SET, 0x26, TABLE, NULL) \
    X(I32_LOAD, 0x28, MEMARG, "i:i") \
    X(I64_LOAD, 0x29, MEMARG, "i:I") \
    X(F32_LOAD, 0x2A, MEMARG, "i:f") \
    X(F64_LOAD, 0x2B, MEMARG, "i:F") \
    X(I32_LOAD8_S, 0x2C, MEMARG, "i:i") \
    X(I32_LOAD8_U, 0x2D, MEMARG, "i:i") \
    X(I32_LOAD16_S, 0x2E, MEMARG, "i:i") \
    X(I32_LOAD16_U, 0x2F, MEMARG, "i:i") \
    X(I64_LOAD8_S, 0x30, MEMARG, "i:I") \
    X(I64_LOAD8_U, 0x31, MEMARG, "i:I") \
    X(I64_LOAD16_S, 0x32, MEMARG, "i:I") \
    X(I64_LOAD16_U, 0x33, MEMARG, "i:I") \
    X(I64_LOAD32_S, 0x34, MEMARG, "i:I") \
    X(I64_LOAD32_U, 0x35, MEMARG, "i:I") \
    X(I32_STORE, 0x36, MEMARG, "ii:") \
    X(I64_STORE, 0x37, MEMARG, "iI:") \
    X(F32_STORE, 0x38, MEMARG, "if:") \
    X(F64_STORE, 0x39, MEMARG, "iF:") \
    X(I32_STORE8, 0x3A, MEMARG, "ii:") \
    X(I32_STORE16, 0x3B, MEMARG, "ii:") \
    X(I64_STORE8, 0x3C, MEMARG, "iI:") \
    X(I64_STORE16, 0x3D, MEMARG, "iI:") \
    X(I64_STORE32, 0x3E, MEMARG, "iI:") \
    X(MEMORY_SIZE, 0x3F, MEMORY, ":i") \
    X(MEMORY_GROW, 0x40, MEMORY, "i:i") \
    X(I32_CONST, 0x41, I32, ":i") \
    X(I64_CONST, 0x42, I64, ":I") \
    X(F32_CONST, 0x43, F32, ":f") \
    X(F64_CONST, 0x44, F64, ":F") \
    X(I32_EQZ, 0x45, NONE, "i:i") \
    X(I32_EQ, 0x46, NONE, "ii:i") \
    X(I32_NE, 0x47, NONE, "ii:i") \
    X(I32_LT_S, 0x48, NONE, "ii:i") \
    X(I32_LT_U, 0x49, NONE, "ii:i") \
    X(I32_GT_S, 0x4A, NONE, "ii:i") \
    X(I32_GT_U, 0x4B, NONE, "ii:i") \
    X(I32_LE_S, 0x4C, NONE, "ii:i") \
    X(I32_LE_U, 0x4D, NONE, "ii:i") \
    X(I32_GE_S, 0x4E, NONE, "ii:i") \
    X(I32_GE_U, 0x4F, NONE, "ii:i") \
    X(I64_EQZ, 0x50, NONE, "I:i") \
    X(I64_EQ, 0x51, NONE, "II:i") \
    X(I64_NE, 0x52, NONE, "II:i") \
    X(I64_LT_S, 0x53, NONE, "II:i") \
    X(I64_LT_U, 0x54, NONE, "II:i") \
    X(I64_GT_S, 0x55, NONE, "II:i") \
    X(I64_GT_U, 0x56, NONE, "II:i") \
    X(I64_LE_S, 0x57, NONE, "II:i") \
    X(I64_LE_U, 0x58, NONE, "II:i") \
    X(I64_GE_S, 0x59, NONE, "II:i") \
    X(I64_GE_U, 0x5A, NONE, "II:i") \
    X(F32_EQ, 0x5B, NONE, "ff:i") \
    X(F32_NE, 0x5C, NONE, "ff:i") \
    X(F32_LT, 0x5D, NONE, "ff:i") \
    X(F32_GT, 0x5E, NONE, "ff:i") \
    X(F32_LE, 0x5F, NONE, "ff:i") \
    X(F32_GE, 0x60, NONE, "ff:i") \
    X(F64_EQ, 0x61, NONE, "FF:i") \
    X(F64_NE, 0x62, NONE, "FF:i") \
    X(F64_LT, 0x63, NONE, "FF:i") \
    X(F64_GT, 0x64, NONE, "FF:i") \
    X(F64_LE, 0x65, NONE, "FF:i") \
    X(F64_GE, 0x66, NONE, "FF:i") \
    X(I32_CLZ, 0x67, NONE, "i:i") \
    X(I32_CTZ, 0x68, NONE, "i:i") \
    X(I32_POPCNT, 0x69, NONE, "i:i") \
    X(I32_ADD, 0x6A, NONE, "ii:i") \
    X(I32_SUB, 0x6B, NONE, "ii:i") \
    X(I32_MUL, 0x6C, NONE, "ii:i") \
    X(I32_DIV_S, 0x6D, NONE, "ii:i") \
    X(I32_DIV_U, 0x6E, NONE, "ii:i") \
    X(I32_REM_S, 0x6F, NONE, "ii:i") \
    X(I32_REM_U, 0x70, NONE, "ii:i") \
    X(I32_AND, 0x71, NONE, "ii:i") \
    X(I32_OR, 0x72, NONE, "ii:i") \
    X(I32_XOR, 0x73, NONE, "ii:i") \
    X(I32_SHL, 0x74, NONE, "ii:i") \
    X(I32_SHR_S, 0x75, NONE, "ii:i") \
    X(I32_SHR_U, 0x76, NONE, "ii:i") \
    X(I32_ROTL, 0x77, NONE, "ii:i") \
    X(I32_ROTR, 0x78, NONE, "ii:i") \
    X(I64_CLZ, 0x79, NONE, "I:I") \
    X(I64_CTZ, 0x7A, NONE, "I:I") \
    X(I64_POPCNT, 0x7B, NONE, "I:I") \
    X(I64_ADD, 0x7C, NONE, "II:I") \
    X(I64_SUB, 0x7D, NONE, "II:I") \
    X(I64_MUL, 0x7E, NONE, "II:I") \
    X(I64_DIV_S, 0x7F, NONE, "II:I") \
    X(I64_DIV_U, 0x80, NONE, "II:I") \
    X(I64_REM_S, 0x81, NONE, "II:I") \
    X(I64_REM_U, 0x82, NONE, "II:I") \
    X(I64_AND, 0x83, NONE, "II:I") \
    X(I64_OR, 0x84, NONE, "II:I") \
    X(I64_XOR, 0x85, NONE, "II:I") \
    X(I64_SHL, 0x86, NONE, "II:I") \
    X(I64_SHR_S, 0x87, NONE, "II:I") \
    X(I64_SHR_U, 0x88, NONE, "II:I") \
    X(I64_ROTL, 0x89, NONE, "II:I") \
    X(I64_ROTR, 0x8A, NONE, "II:I") \
    X(F32_ABS, 0x8B, NONE, "f:f") \
    X(F32_NEG, 0x8C, NONE, "f:f") \
    X(F32_CEIL, 0x8D, NONE, "f:f") \
    X(F32_FLOOR, 0x8E, NONE, "f:f") \
    X(F32_TRUNC, 0x8F, NONE, "f:f") \
    X(F32_NEAREST, 0x90, NONE, "f:f") \
    X(F32_SQRT, 0x91, NONE, "f:f") \
    X(F32_ADD, 0x92, NONE, "ff:f") \
    X(F32_SUB, 0x93, NONE, "ff:f") \
    X(F32_MUL, 0x94, NONE, "ff:f") \
    X(F32_DIV, 0x95, NONE, "ff:f") \
    X(F32_MIN, 0x96, NONE, "ff:f") \
    X(F32_MAX, 0x97, NONE, "ff:f") \
    X(F32_COPYSIGN, 0x98, NONE, "ff:f") \
    X(F64_ABS, 0x99, NONE, "F:F") \
    X(F64_NEG, 0x9A, NONE, "F:F") \
    X(F64_CEIL, 0x9B, NONE, "F:F") \
    X(F64_FLOOR, 0x9C, NONE, "F:F") \
    X(F64_TRUNC, 0x9D, NONE, "F:F") \
    X(F64_NEAREST, 0x9E, NONE, "F:F") \
    X(F64_SQRT, 0x9F, NONE, "F:F") \
    X(F64_ADD, 0xA0, NONE, "FF:F") \
    X(F64_SUB, 0xA1, NONE, "FF:F") \
    X(F64_MUL, 0xA2, NONE, "FF:F") \
    X(F64_DIV, 0xA3, NONE, "FF:F") \
    X(F64_MIN, 0xA4, NONE, "FF:F") \
    X(F64_MAX, 0xA5, NONE, "FF:F") \
    X(F64_COPYSIGN, 0xA6, NONE, "FF:F") \
    X(I32_WRAP_I64, 0xA7, NONE, "I:i") \
    X(I32_TRUNC_F32_S, 0xA8, NONE, "f:i") \
    X(I32_TRUNC_F32_U, 0xA9, NONE, "f:i") \
    X(I32_TRUNC_F64_S, 0xAA, NONE, "F:i") \
    X(I32_TRUNC_F64_U, 0xAB, NONE, "F:i") \
    X(I64_EXTEND_I32_S, 0xAC, NONE, "i:I") \
    X(I64_EXTEND_I32_U, 0xAD, NONE, "i:I") \
    X(I64_TRUNC_F32_S, 0xAE, NONE, "f:I") \
    X(I64_TRUNC_F32_U, 0xAF, NONE, "f:I") \
    X(I64_TRUNC_F64_S, 0xB0, NONE, "F:I") \
    X(I64_TRUNC_F64_U, 0xB1, NONE, "F:I") \
    X(F32_CONVERT_I32_S, 0xB2, NONE, "i:f") \
    X(F32_CONVERT_I32_U, 0xB3, NONE, "i:f") \
    X(F32_CONVERT_I64_S, 0xB4, NONE, "I:f") \
    X(F32_CONVERT_I64_U, 0xB5, NONE, "I:f") \
    X(F32_DEMOTE_F64, 0xB6, NONE, "F:f") \
    X(F64_CONVERT_I32_S, 0xB7, NONE, "i:F") \
    X(F64_CONVERT_I32_U, 0xB8, NONE, "i:F") \
    X(F64_CONVERT_I64_S, 0xB9, NONE, "I:F") \
    X(F64_CONVERT_I64_U, 0xBA, NONE, "I:F") \
    X(F64_PROMOTE_F32, 0xBB, NONE, "f:F") \
    X(I32_REINTERPRET_F32, 0xBC, NONE, "f:i") \
    X(I64_REINTERPRET_F64, 0xBD, NONE, "F:I") \
    X(F32_REINTERPRET_I32, 0xBE, NONE, "i:f") \
    X(F64_REINTERPRET_I64, 0xBF, NONE, "I:F") \
    X(I32_EXTEND8_S, 0xC0, NONE, "i:i") \
    X(I32_EXTEND16_S, 0xC1, NONE, "i:i") \
    X(I64_EXTEND8_S, 0xC2, NONE, "I:I") \
    X(I64_EXTEND16_S, 0xC3, NONE, "I:I") \
    X(I64_EXTEND32_S, 0xC4, NONE, "I:I") \
    X(REF_NULL, 0xD0, REFTYPE, NULL) \
    X(REF_IS_NULL, 0xD1, NONE, NULL) \
    X(REF_FUNC, 0xD2, FUNC, NULL)

#define WASM_OPCODES_FC(X) \
    X(I32_TRUNC_SAT_F32_S, 0, NONE, "f:i") \
    X(I32_TRUNC_SAT_F32_U, 1, NONE, "f:i") \
    X(I32_TRUNC_SAT_F64_S, 2, NONE, "F:i") \
    X(I32_TRUNC_SAT_F64_U, 3, NONE, "F:i") \
    X(I64_TRUNC_SAT_F32_S, 4, NONE, "f:I") \
    X(I64_TRUNC_SAT_F32_U, 5, NONE, "f:I") \
    X(I64_TRUNC_SAT_F64_S, 6, NONE, "F:I") \
    X(I64_TRUNC_SAT_F64_U, 7, NONE, "F:I") \
    X(MEMORY_INIT, 8, MEMORY_INIT, "iii:") \
    X(DATA_DROP, 9, DATA, ":") \
    X(MEMORY_COPY, 10, MEMORY_COPY, "iii:") \
    X(MEMORY_FILL, 11, MEMORY, "iii:") \
    X(TABLE_INIT, 12, TABLE_INIT, "iii:") \
    X(ELEM_DROP, 13, ELEM, ":") \
    X(TABLE_COPY, 14, TABLE_COPY, "iii:") \
    X(TABLE_GROW, 15, TABLE, NULL) \
    X(TABLE_SIZE, 16, TABLE, ":i") \
    X(TABLE_FILL, 17, TABLE, NULL)

/* 0xFD prefix: fixed-width SIMD (WebAssembly 2.0), subop as a u32 LEB. */
#define WASM_OPCODES_FD(X) \
    X(V128_LOAD, 0x00, MEMARG, "i:v") \
    X(V128_LOAD8X8_S, 0x01, MEMARG, "i:v") \
    X(V128_LOAD8X8_U, 0x02, MEMARG, "i:v") \
    X(V128_LOAD16X4_S, 0x03, MEMARG, "i:v") \
    X(V128_LOAD16X4_U, 0x04, MEMARG, "i:v") \
    X(V128_LOAD32X2_S, 0x05, MEMARG, "i:v") \
    X(V128_LOAD32X2_U, 0x06, MEMARG, "i:v") \
    X(V128_LOAD8_SPLAT, 0x07, MEMARG, "i:v") \
    X(V128_LOAD16_SPLAT, 0x08, MEMARG, "i:v") \
    X(V128_LOAD32_SPLAT, 0x09, MEMARG, "i:v") \
    X(V128_LOAD64_SPLAT, 0x0A, MEMARG, "i:v") \
    X(V128_STORE, 0x0B, MEMARG, "iv:") \
    X(V128_CONST, 0x0C, V128, ":v") \
    X(I8X16_SHUFFLE, 0x0D, SHUFFLE, "vv:v") \
    X(I8X16_SWIZZLE, 0x0E, NONE, "vv:v") \
    X(I8X16_SPLAT, 0x0F, NONE, "i:v") \
    X(I16X8_SPLAT, 0x10, NONE, "i:v") \
    X(I32X4_SPLAT, 0x11, NONE, "i:v") \
    X(I64X2_SPLAT, 0x12, NONE, "I:v") \
    X(F32X4_SPLAT, 0x13, NONE, "f:v") \
    X(F64X2_SPLAT, 0x14, NONE, "F:v") \
    X(I8X16_EXTRACT_LANE_S, 0x15, LANE, "v:i") \
    X(I8X16_EXTRACT_LANE_U, 0x16, LANE, "v:i") \
    X(I8X16_REPLACE_LANE, 0x17, LANE, "vi:v") \
    X(I16X8_EXTRACT_LANE_S, 0x18, LANE, "v:i") \
    X(I16X8_EXTRACT_LANE_U, 0x19, LANE, "v:i") \
    X(I16X8_REPLACE_LANE, 0x1A, LANE, "vi:v") \
    X(I32X4_EXTRACT_LANE, 0x1B, LANE, "v:i") \
    X(I32X4_REPLACE_LANE, 0x1C, LANE, "vi:v") \
    X(I64X2_EXTRACT_LANE, 0x1D, LANE, "v:I") \
    X(I64X2_REPLACE_LANE, 0x1E, LANE, "vI:v") \
    X(F32X4_EXTRACT_LANE, 0x1F, LANE, "v:f") \
    X(F32X4_REPLACE_LANE, 0x20, LANE, "vf:v") \
    X(F64X2_EXTRACT_LANE, 0x21, LANE, "v:F") \
    X(F64X2_REPLACE_LANE, 0x22, LANE, "vF:v") \
    X(I8X16_EQ, 0x23, NONE, "vv:v") \
    X(I8X16_NE, 0x24, NONE, "vv:v") \
    X(I8X16_LT_S, 0x25, NONE, "vv:v") \
    X(I8X16_LT_U, 0x26, NONE, "vv:v") \
    X(I8X16_GT_S, 0x27, NONE, "vv:v") \
    X(I8X16_GT_U, 0x28, NONE, "vv:v") \
    X(I8X16_LE_S, 0x29, NONE, "vv:v") \
    X(I8X16_LE_U, 0x2A, NONE, "vv:v") \
    X(I8X16_GE_S, 0x2B, NONE, "vv:v") \
    X(I8X16_GE_U, 0x2C, NONE, "vv:v") \
    X(I16X8_EQ, 0x2D, NONE, "vv:v") \
    X(I16X8_NE, 0x2E, NONE, "vv:v") \
    X(I16X8_LT_S, 0x2F, NONE, "vv:v") \
    X(I16X8_LT_U, 0x30, NONE, "vv:v") \
    X(I16X8_GT_S, 0x31, NONE, "vv:v") \
    X(I16X8_GT_U, 0x32, NONE, "vv:v") \
    X(I16X8_LE_S, 0x33, NONE, "vv:v") \
    X(I16X8_LE_U, 0x34, NONE, "vv:v") \
    X(I16X8_GE_S, 0x35, NONE, "vv:v") \
    X(I16X8_GE_U, 0x36, NONE, "vv:v") \
    X(I32X4_EQ, 0x37, NONE, "vv:v") \
    X(I32X4_NE, 0x38, NONE, "vv:v") \
    X(I32X4_LT_S, 0x39, NONE, "vv:v") \
    X(I32X4_LT_U, 0x3A, NONE, "vv:v") \
    X(I32X4_GT_S, 0x3B, NONE, "vv:v") \
    X(I32X4_GT_U, 0x3C, NONE, "vv:v") \
    X(I32X4_LE_S, 0x3D, NONE, "vv:v") \
    X(I32X4_LE_U, 0x3E, NONE, "vv:v") \
    X(I32X4_GE_S, 0x3F, NONE, "vv:v") \
    X(I32X4_GE_U, 0x40, NONE, "vv:v") \
    X(F32X4_EQ, 0x41, NONE, "vv:v") \
    X(F32X4_NE, 0x42, NONE, "vv:v") \
    X(F32X4_LT, 0x43, NONE, "vv:v") \
    X(F32X4_GT, 0x44, NONE, "vv:v") \
    X(F32X4_LE, 0x45, NONE, "vv:v") \
    X(F32X4_GE, 0x46, NONE, "vv:v") \
    X(F64X2_EQ, 0x47, NONE, "vv:v") \
    X(F64X2_NE, 0x48, NONE, "vv:v") \
    X(F64X2_LT, 0x49, NONE, "vv:v") \
    X(F64X2_GT, 0x4A, NONE, "vv:v") \
    X(F64X2_LE, 0x4B, NONE, "vv:v") \
    X(F64X2_GE, 0x4C, NONE, "vv:v") \
    X(V128_NOT, 0x4D, NONE, "v:v") \
    X(V128_AND, 0x4E, NONE, "vv:v") \
    X(V128_ANDNOT, 0x4F, NONE, "vv:v") \
    X(V128_OR, 0x50, NONE, "vv:v") \
    X(V128_XOR, 0x51, NONE, "vv:v") \
    X(V128_BITSELECT, 0x52, NONE, "vvv:v") \
    X(V128_ANY_TRUE, 0x53, NONE, "v:i") \
    X(V128_LOAD8_LANE, 0x54, MEMARG_LANE, "iv:v") \
    X(V128_LOAD16_LANE, 0x55, MEMARG_LANE, "iv:v") \
    X(V128_LOAD32_LANE, 0x56, MEMARG_LANE, "iv:v") \
    X(V128_LOAD64_LANE, 0x57, MEMARG_LANE, "iv:v") \
    X(V128_STORE8_LANE, 0x58, MEMARG_LANE, "iv:") \
    X(V128_STORE16_LANE, 0x59, MEMARG_LANE, "iv:") \
    X(V128_STORE32_LANE, 0x5A, MEMARG_LANE, "iv:") \
    X(V128_STORE64_LANE, 0x5B, MEMARG_LANE, "iv:") \
    X(V128_LOAD32_ZERO, 0x5C, MEMARG, "i:v") \
    X(V128_LOAD64_ZERO, 0x5D, MEMARG, "i:v") \
    X(F32X4_DEMOTE_F64X2_ZERO, 0x5E, NONE, "v:v") \
    X(F64X2_PROMOTE_LOW_F32X4, 0x5F, NONE, "v:v") \
    X(I8X16_ABS, 0x60, NONE, "v:v") \
    X(I8X16_NEG, 0x61, NONE, "v:v") \
    X(I8X16_POPCNT, 0x62, NONE, "v:v") \
    X(I8X16_ALL_TRUE, 0x63, NONE, "v:i") \
    X(I8X16_BITMASK, 0x64, NONE, "v:i") \
    X(I8X16_NARROW_I16X8_S, 0x65, NONE, "vv:v") \
    X(I8X16_NARROW_I16X8_U, 0x66, NONE, "vv:v") \
    X(F32X4_CEIL, 0x67, NONE, "v:v") \
    X(F32X4_FLOOR, 0x68, NONE, "v:v") \
    X(F32X4_TRUNC, 0x69, NONE, "v:v") \
    X(F32X4_NEAREST, 0x6A, NONE, "v:v") \
    X(I8X16_SHL, 0x6B, NONE, "vi:v") \
    X(I8X16_SHR_S, 0x6C, NONE, "vi:v") \
    X(I8X16_SHR_U, 0x6D, NONE, "vi:v") \
    X(I8X16_ADD, 0x6E, NONE, "vv:v") \
    X(I8X16_ADD_SAT_S, 0x6F, NONE, "vv:v") \
    X(I8X16_ADD_SAT_U, 0x70, NONE, "vv:v") \
    X(I8X16_SUB, 0x71, NONE, "vv:v") \
    X(I8X16_SUB_SAT_S, 0x72, NONE, "vv:v") \
    X(I8X16_SUB_SAT_U, 0x73, NONE, "vv:v") \
    X(F64X2_CEIL, 0x74, NONE, "v:v") \
    X(F64X2_FLOOR, 0x75, NONE, "v:v") \
    X(I8X16_MIN_S, 0x76, NONE, "vv:v") \
    X(I8X16_MIN_U, 0x77, NONE, "vv:v") \
    X(I8X16_MAX_S, 0x78, NONE, "vv:v") \
    X(I8X16_MAX_U, 0x79, NONE, "vv:v") \
    X(F64X2_TRUNC, 0x7A, NONE, "v:v") \
    X(I8X16_AVGR_U, 0x7B, NONE, "vv:v") \
    X(I16X8_EXTADD_PAIRWISE_I8X16_S, 0x7C, NONE, "v:v") \
    X(I16X8_EXTADD_PAIRWISE_I8X16_U, 0x7D, NONE, "v:v") \
    X(I32X4_EXTADD_PAIRWISE_I16X8_S, 0x7E, NONE, "v:v") \
    X(I32X4_EXTADD_PAIRWISE_I16X8_U, 0x7F, NONE, "v:v") \
    X(I16X8_ABS, 0x80, NONE, "v:v") \
    X(I16X8_NEG, 0x81, NONE, "v:v") \
    X(I16X8_Q15MULR_SAT_S, 0x82, NONE, "vv:v") \
    X(I16X8_ALL_TRUE, 0x83, NONE, "v:i") \
    X(I16X8_BITMASK, 0x84, NONE, "v:i") \
    X(I16X8_NARROW_I32X4_S, 0x85, NONE, "vv:v") \
    X(I16X8_NARROW_I32X4_U, 0x86, NONE, "vv:v") \
    X(I16X8_EXTEND_LOW_I8X16_S, 0x87, NONE, "v:v") \
    X(I16X8_EXTEND_HIGH_I8X16_S, 0x88, NONE, "v:v") \
    X(I16X8_EXTEND_LOW_I8X16_U, 0x89, NONE, "v:v") \
    X(I16X8_EXTEND_HIGH_I8X16_U, 0x8A, NONE, "v:v") \
    X(I16X8_SHL, 0x8B, NONE, "vi:v") \
    X(I16X8_SHR_S, 0x8C, NONE, "vi:v") \
    X(I16X8_SHR_U, 0x8D, NONE, "vi:v") \
    X(I16X8_ADD, 0x8E, NONE, "vv:v") \
    X(I16X8_ADD_SAT_S, 0x8F, NONE, "vv:v") \
    X(I16X8_ADD_SAT_U, 0x90, NONE, "vv:v") \
    X(I16X8_SUB, 0x91, NONE, "vv:v") \
    X(I16X8_SUB_SAT_S, 0x92, NONE, "vv:v") \
    X(I16X8_SUB_SAT_U, 0x93, NONE, "vv:v") \
    X(F64X2_NEAREST, 0x94, NONE, "v:v") \
    X(I16X8_MUL, 0x95, NONE, "vv:v") \
    X(I16X8_MIN_S, 0x96, NONE, "vv:v") \
    X(I16X8_MIN_U, 0x97, NONE, "vv:v") \
    X(I16X8_MAX_S, 0x98, NONE, "vv:v") \
    X(I16X8_MAX_U, 0x99, NONE, "vv:v") \
    X(I16X8_AVGR_U, 0x9B, NONE, "vv:v") \
    X(I16X8_EXTMUL_LOW_I8X16_S, 0x9C, NONE, "vv:v") \
    X(I16X8_EXTMUL_HIGH_I8X16_S, 0x9D, NONE, "vv:v") \
    X(I16X8_EXTMUL_LOW_I8X16_U, 0x9E, NONE, "vv:v") \
    X(I16X8_EXTMUL_HIGH_I8X16_U, 0x9F, NONE, "vv:v") \
    X(I32X4_ABS, 0xA0, NONE, "v:v") \
    X(I32X4_NEG, 0xA1, NONE, "v:v") \
    X(I32X4_ALL_TRUE, 0xA3, NONE, "v:i") \
    X(I32X4_BITMASK, 0xA4, NONE, "v:i") \
    X(I32X4_EXTEND_LOW_I16X8_S, 0xA7, NONE, "v:v") \
    X(I32X4_EXTEND_HIGH_I16X8_S, 0xA8, NONE, "v:v") \
    X(I32X4_EXTEND_LOW_I16X8_U, 0xA9, NONE, "v:v") \
    X(I32X4_EXTEND_HIGH_I16X8_U, 0xAA, NONE, "v:v") \
    X(I32X4_SHL, 0xAB, NONE, "vi:v") \
    X(I32X4_SHR_S, 0xAC, NONE, "vi:v") \
    X(I32X4_SHR_U, 0xAD, NONE, "vi:v") \
    X(I32X4_ADD, 0xAE, NONE, "vv:v") \
    X(I32X4_SUB, 0xB1, NONE, "vv:v") \
    X(I32X4_MUL, 0xB5, NONE, "vv:v") \
    X(I32X4_MIN_S, 0xB6, NONE, "vv:v") \
    X(I32X4_MIN_U, 0xB7, NONE, "vv:v") \
    X(I32X4_MAX_S, 0xB8, NONE, "vv:v") \
    X(I32X4_MAX_U, 0xB9, NONE, "vv:v") \
    X(I32X4_DOT_I16X8_S, 0xBA, NONE, "vv:v") \
    X(I32X4_EXTMUL_LOW_I16X8_S, 0xBC, NONE, "vv:v") \
    X(I32X4_EXTMUL_HIGH_I16X8_S, 0xBD, NONE, "vv:v") \
    X(I32X4_EXTMUL_LOW_I16X8_U, 0xBE, NONE, "vv:v") \
    X(I32X4_EXTMUL_HIGH_I16X8_U, 0xBF, NONE, "vv:v") \
    X(I64X2_ABS, 0xC0, NONE, "v:v") \
    X(I64X2_NEG, 0xC1, NONE, "v:v") \
    X(I64X2_ALL_TRUE, 0xC3, NONE, "v:i") \
    X(I64X2_BITMASK, 0xC4, NONE, "v:i") \
    X(I64X2_EXTEND_LOW_I32X4_S, 0xC7, NONE, "v:v") \
    X(I64X2_EXTEND_HIGH_I32X4_S, 0xC8, NONE, "v:v") \
    X(I64X2_EXTEND_LOW_I32X4_U, 0xC9, NONE, "v:v") \
    X(I64X2_EXTEND_HIGH_I32X4_U, 0xCA, NONE, "v:v") \
    X(I64X2_SHL, 0xCB, NONE, "vi:v") \
    X(I64X2_SHR_S, 0xCC, NONE, "vi:v") \
    X(I64X2_SHR_U, 0xCD, NONE, "vi:v") \
    X(I64X2_ADD, 0xCE, NONE, "vv:v") \
    X(I64X2_SUB, 0xD1, NONE, "vv:v") \
    X(I64X2_MUL, 0xD5, NONE, "vv:v") \
    X(I64X2_EQ, 0xD6, NONE, "vv:v") \
    X(I64X2_NE, 0xD7, NONE, "vv:v") \
    X(I64X2_LT_S, 0xD8, NONE, "vv:v") \
    X(I64X2_GT_S, 0xD9, NONE, "vv:v") \
    X(I64X2_LE_S, 0xDA, NONE, "vv:v") \
    X(I64X2_GE_S, 0xDB, NONE, "vv:v") \
    X(I64X2_EXTMUL_LOW_I32X4_S, 0xDC, NONE, "vv:v") \
    X(I64X2_EXTMUL_HIGH_I32X4_S, 0xDD, NONE, "vv:v") \
    X(I64X2_EXTMUL_LOW_I32X4_U, 0xDE, NONE, "vv:v") \
    X(I64X2_EXTMUL_HIGH_I32X4_U, 0xDF, NONE, "vv:v") \
    X(F32X4_ABS, 0xE0, NONE, "v:v") \
    X(F32X4_NEG, 0xE1, NONE, "v:v") \
    X(F32X4_SQRT, 0xE3, NONE, "v:v") \
    X(F32X4_ADD, 0xE4, NONE, "vv:v") \
    X(F32X4_SUB, 0xE5, NONE, "vv:v") \
    X(F32X4_MUL, 0xE6, NONE, "vv:v") \
    X(F32X4_DIV, 0xE7, NONE, "vv:v") \
    X(F32X4_MIN, 0xE8, NONE, "vv:v") \
    X(F32X4_MAX, 0xE9, NONE, "vv:v") \
    X(F32X4_PMIN, 0xEA, NONE, "vv:v") \
    X(F32X4_PMAX, 0xEB, NONE, "vv:v") \
    X(F64X2_ABS, 0xEC, NONE, "v:v") \
    X(F64X2_NEG, 0xED, NONE, "v:v") \
    X(F64X2_SQRT, 0xEF, NONE, "v:v") \
    X(F64X2_ADD, 0xF0, NONE, "vv:v") \
    X(F64X2_SUB, 0xF1, NONE, "vv:v") \
    X(F64X2_MUL, 0xF2, NONE, "vv:v") \
    X(F64X2_DIV, 0xF3, NONE, "vv:v") \
    X(F64X2_MIN, 0xF4, NONE, "vv:v") \
    X(F64X2_MAX, 0xF5, NONE, "vv:v") \
    X(F64X2_PMIN, 0xF6, NONE, "vv:v") \
    X(F64X2_PMAX, 0xF7, NONE, "vv:v") \
    X(I32X4_TRUNC_SAT_F32X4_S, 0xF8, NONE, "v:v") \
    X(I32X4_TRUNC_SAT_F32X4_U, 0xF9, NONE, "v:v") \
    X(F32X4_CONVERT_I32X4_S, 0xFA, NONE, "v:v") \
    X(F32X4_CONVERT_I32X4_U, 0xFB, NONE, "v:v") \
    X(I32X4_TRUNC_SAT_F64X2_S_ZERO, 0xFC, NONE, "v:v") \
    X(I32X4_TRUNC_SAT_F64X2_U_ZERO, 0xFD, NONE, "v:v") \
    X(F64X2_CONVERT_LOW_I32X4_S, 0xFE, NONE, "v:v") \
    X(F64X2_CONVERT_LOW_I32X4_U, 0xFF, NONE, "v:v")

enum wasm_opcode {
#define WASM_OP_ENUM(name, code, imm, sig) WASM_OP_##name = code,
    WASM_OPCODES(WASM_OP_ENUM)
#undef WASM_OP_ENUM
    WASM_OP_PREFIX_FC = 0xFC,
    WASM_OP_PREFIX_FD = 0xFD, /* SIMD */
    WASM_OP_PREFIX_FE = 0xFE, /* threads */
};

enum wasm_opcode_fd {
#define WASM_OP_ENUM(name, code, imm, sig) WASM_OP_FD_##name = code,
    WASM_OPCODES_FD(WASM_OP_ENUM)
#undef WASM_OP_ENUM
};

enum wasm_opcode_fc {
#define WASM_OP_ENUM(name, code, imm, sig) WASM_OP_FC_##name = code,
    WASM_OPCODES_FC(WASM_OP_ENUM)
#undef WASM_OP_ENUM
};

/* 0xFE prefix: the threads proposal (atomics), subop as a u32 LEB. Every
 * access takes a memarg whose alignment must equal the access size
 * (wasm_atomic_size_log2 in validate_atomic.c); atomic.fence takes a
 * reserved 0x00 byte (kind MEMORY). */
#define WASM_OPCODES_FE(X) \
    X(MEMORY_ATOMIC_NOTIFY, 0x00, MEMARG, "ii:i") \
    X(MEMORY_ATOMIC_WAIT32, 0x01, MEMARG, "iiI:i") \
    X(MEMORY_ATOMIC_WAIT64, 0x02, MEMARG, "iII:i") \
    X(ATOMIC_FENCE, 0x03, MEMORY, ":") \
    X(I32_ATOMIC_LOAD, 0x10, MEMARG, "i:i") \
    X(I64_ATOMIC_LOAD, 0x11, MEMARG, "i:I") \
    X(I32_ATOMIC_LOAD8_U, 0x12, MEMARG, "i:i") \
    X(I32_ATOMIC_LOAD16_U, 0x13, MEMARG, "i:i") \
    X(I64_ATOMIC_LOAD8_U, 0x14, MEMARG, "i:I") \
    X(I64_ATOMIC_LOAD16_U, 0x15, MEMARG, "i:I") \
    X(I64_ATOMIC_LOAD32_U, 0x16, MEMARG, "i:I") \
    X(I32_ATOMIC_STORE, 0x17, MEMARG, "ii:") \
    X(I64_ATOMIC_STORE, 0x18, MEMARG, "iI:") \
    X(I32_ATOMIC_STORE8, 0x19, MEMARG, "ii:") \
    X(I32_ATOMIC_STORE16, 0x1A, MEMARG, "ii:") \
    X(I64_ATOMIC_STORE8, 0x1B, MEMARG, "iI:") \
    X(I64_ATOMIC_STORE16, 0x1C, MEMARG, "iI:") \
    X(I64_ATOMIC_STORE32, 0x1D, MEMARG, "iI:") \
    WASM_OPCODES_FE_RMW(X, ADD, 0x1E) \
    WASM_OPCODES_FE_RMW(X, SUB, 0x25) \
    WASM_OPCODES_FE_RMW(X, AND, 0x2C) \
    WASM_OPCODES_FE_RMW(X, OR, 0x33) \
    WASM_OPCODES_FE_RMW(X, XOR, 0x3A) \
    WASM_OPCODES_FE_RMW(X, XCHG, 0x41) \
    X(I32_ATOMIC_RMW_CMPXCHG, 0x48, MEMARG, "iii:i") \
    X(I64_ATOMIC_RMW_CMPXCHG, 0x49, MEMARG, "iII:I") \
    X(I32_ATOMIC_RMW8_CMPXCHG_U, 0x4A, MEMARG, "iii:i") \
    X(I32_ATOMIC_RMW16_CMPXCHG_U, 0x4B, MEMARG, "iii:i") \
    X(I64_ATOMIC_RMW8_CMPXCHG_U, 0x4C, MEMARG, "iII:I") \
    X(I64_ATOMIC_RMW16_CMPXCHG_U, 0x4D, MEMARG, "iII:I") \
    X(I64_ATOMIC_RMW32_CMPXCHG_U, 0x4E, MEMARG, "iII:I")
/* The seven widths of one read-modify-write operation, from subop base. */
#define WASM_OPCODES_FE_RMW(X, OP, base) \
    X(I32_ATOMIC_RMW_##OP, (base) + 0, MEMARG, "ii:i") \
    X(I64_ATOMIC_RMW_##OP, (base) + 1, MEMARG, "iI:I") \
    X(I32_ATOMIC_RMW8_##OP##_U, (base) + 2, MEMARG, "ii:i") \
    X(I32_ATOMIC_RMW16_##OP##_U, (base) + 3, MEMARG, "ii:i") \
    X(I64_ATOMIC_RMW8_##OP##_U, (base) + 4, MEMARG, "iI:I") \
    X(I64_ATOMIC_RMW16_##OP##_U, (base) + 5, MEMARG, "iI:I") \
    X(I64_ATOMIC_RMW32_##OP##_U, (base) + 6, MEMARG, "iI:I")

enum wasm_opcode_fe {
#define WASM_OP_ENUM(name, code, imm, sig) WASM_OP_FE_##name = code,
    WASM_OPCODES_FE(WASM_OP_ENUM)
#undef WASM_OP_ENUM
};

/* log2 of the access size of a valid atomic subop, which is also the only
 * alignment it accepts; 0 for atomic.fence. Loads, stores and each
 * read-modify-write family come in seven widths in one order: i32, i64,
 * i32 8, i32 16, i64 8, i64 16, i64 32 (WASM_OPCODES_FE_RMW). */
static inline unsigned wasm_atomic_size_log2(unsigned sub)
{
    if (sub == WASM_OP_FE_MEMORY_ATOMIC_WAIT64)
        return 3;
    if (sub < WASM_OP_FE_ATOMIC_FENCE)
        return 2; /* notify, wait32 */
    if (sub < WASM_OP_FE_I32_ATOMIC_LOAD)
        return 0;
    return (0x2101032u >> (4 * ((sub - WASM_OP_FE_I32_ATOMIC_LOAD) % 7))) & 0xF;
}

#endif
