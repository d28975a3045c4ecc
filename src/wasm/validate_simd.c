/* validate_simd.c: the 0xFD (SIMD) instruction table and the reading and
 * checking of SIMD immediates (memarg alignment, lane indices, shuffles).
 * Shared by the body scanner (syntax only) and the body validator, which
 * then applies the table's fixed signature. */
#include <stdio.h>
#include <string.h>

#include "wasm/opcodes.h"
#include "wasm/wasm_internal.h"

const struct wasm_opinfo wasm_opinfo_fd[WASM_FD_COUNT] = {
#define WASM_OP_INFO(name, code, imm, sig) [code] = {true, WASM_IMM_##imm, sig, #name},
    WASM_OPCODES_FD(WASM_OP_INFO)
#undef WASM_OP_INFO
};

/* log2 of the natural alignment of a SIMD memory instruction. */
static uint32_t simd_natural_align(uint32_t sub)
{
    switch (sub) {
    case WASM_OP_FD_V128_LOAD8_SPLAT:
    case WASM_OP_FD_V128_LOAD8_LANE:
    case WASM_OP_FD_V128_STORE8_LANE:
        return 0;
    case WASM_OP_FD_V128_LOAD16_SPLAT:
    case WASM_OP_FD_V128_LOAD16_LANE:
    case WASM_OP_FD_V128_STORE16_LANE:
        return 1;
    case WASM_OP_FD_V128_LOAD32_SPLAT:
    case WASM_OP_FD_V128_LOAD32_LANE:
    case WASM_OP_FD_V128_STORE32_LANE:
    case WASM_OP_FD_V128_LOAD32_ZERO:
        return 2;
    case WASM_OP_FD_V128_LOAD:
    case WASM_OP_FD_V128_STORE:
        return 4;
    default: /* the extending loads, 64-bit splat/lane/zero */
        return 3;
    }
}

/* Number of lanes a lane-indexed instruction addresses. */
static uint32_t simd_lane_count(uint32_t sub)
{
    switch (sub) {
    case WASM_OP_FD_I8X16_EXTRACT_LANE_S:
    case WASM_OP_FD_I8X16_EXTRACT_LANE_U:
    case WASM_OP_FD_I8X16_REPLACE_LANE:
    case WASM_OP_FD_V128_LOAD8_LANE:
    case WASM_OP_FD_V128_STORE8_LANE:
        return 16;
    case WASM_OP_FD_I16X8_EXTRACT_LANE_S:
    case WASM_OP_FD_I16X8_EXTRACT_LANE_U:
    case WASM_OP_FD_I16X8_REPLACE_LANE:
    case WASM_OP_FD_V128_LOAD16_LANE:
    case WASM_OP_FD_V128_STORE16_LANE:
        return 8;
    case WASM_OP_FD_I32X4_EXTRACT_LANE:
    case WASM_OP_FD_I32X4_REPLACE_LANE:
    case WASM_OP_FD_F32X4_EXTRACT_LANE:
    case WASM_OP_FD_F32X4_REPLACE_LANE:
    case WASM_OP_FD_V128_LOAD32_LANE:
    case WASM_OP_FD_V128_STORE32_LANE:
        return 4;
    default:
        return 2;
    }
}

int wasm_simd_read(struct wasm_reader *r, uint32_t *sub, struct wasm_simd_imm *imm, char *why,
                   size_t n)
{
    memset(imm, 0, sizeof *imm);
    if (!wasm_read_u32(r, sub))
        return WASM_SIMD_READ_FAIL;
    if (*sub >= WASM_FD_COUNT || !wasm_opinfo_fd[*sub].valid) {
        snprintf(why, n, "illegal opcode 0xfd %u", *sub);
        return FL_ERR_MALFORMED;
    }
    const uint8_t *bytes;
    switch (wasm_opinfo_fd[*sub].imm) {
    case WASM_IMM_MEMARG:
    case WASM_IMM_MEMARG_LANE:
        if (!wasm_read_u32(r, &imm->align) || !wasm_read_u32(r, &imm->offset))
            return WASM_SIMD_READ_FAIL;
        if (wasm_opinfo_fd[*sub].imm == WASM_IMM_MEMARG_LANE && !wasm_read_u8(r, &imm->lane))
            return WASM_SIMD_READ_FAIL;
        break;
    case WASM_IMM_LANE:
        if (!wasm_read_u8(r, &imm->lane))
            return WASM_SIMD_READ_FAIL;
        break;
    case WASM_IMM_V128:
    case WASM_IMM_SHUFFLE:
        if (!wasm_read_bytes(r, 16, &bytes))
            return WASM_SIMD_READ_FAIL;
        memcpy(imm->bytes, bytes, 16);
        break;
    default:
        break;
    }
    /* Everything is read: the invalid cases below leave the reader after the
     * instruction, so a syntax-only scan can go on. */
    switch (wasm_opinfo_fd[*sub].imm) {
    case WASM_IMM_MEMARG_LANE:
    case WASM_IMM_LANE:
        if (imm->lane >= simd_lane_count(*sub)) {
            snprintf(why, n, "invalid lane index %u", imm->lane);
            return FL_ERR_INVALID;
        }
        break;
    case WASM_IMM_SHUFFLE:
        for (int i = 0; i < 16; i++)
            if (imm->bytes[i] >= 32) {
                snprintf(why, n, "invalid lane index %u", imm->bytes[i]);
                return FL_ERR_INVALID;
            }
        break;
    default:
        break;
    }
    switch (wasm_opinfo_fd[*sub].imm) {
    case WASM_IMM_MEMARG:
    case WASM_IMM_MEMARG_LANE:
        if (imm->align > simd_natural_align(*sub)) {
            snprintf(why, n, "alignment must not be larger than natural (2^%u > %u bytes)",
                     imm->align, 1u << simd_natural_align(*sub));
            return FL_ERR_INVALID;
        }
        break;
    default:
        break;
    }
    return 0;
}
