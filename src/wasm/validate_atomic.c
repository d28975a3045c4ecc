/* validate_atomic.c: the 0xFE (threads: atomics) instruction table and the
 * reading and checking of atomic immediates (alignment must equal the access
 * size; atomic.fence's reserved byte). Shared by the body scanner (syntax
 * only), the body validator and the interpreter's compiler. */
#include <stdio.h>
#include <string.h>

#include "wasm/opcodes.h"
#include "wasm/wasm_internal.h"

const struct wasm_opinfo wasm_opinfo_fe[WASM_FE_COUNT] = {
#define WASM_OP_INFO(name, code, imm, sig) [code] = {true, WASM_IMM_##imm, sig, #name},
    WASM_OPCODES_FE(WASM_OP_INFO)
#undef WASM_OP_INFO
};

int wasm_atomic_read(struct wasm_reader *r, uint32_t *sub, uint32_t *align, uint32_t *offset,
                     char *why, size_t n)
{
    *align = *offset = 0;
    if (!wasm_read_u32(r, sub))
        return WASM_ATOMIC_READ_FAIL;
    if (*sub >= WASM_FE_COUNT || !wasm_opinfo_fe[*sub].valid) {
        snprintf(why, n, "illegal opcode 0xfe %u", *sub);
        return FL_ERR_MALFORMED;
    }
    if (wasm_opinfo_fe[*sub].imm == WASM_IMM_MEMORY) {
        uint8_t zero;
        if (!wasm_read_u8(r, &zero))
            return WASM_ATOMIC_READ_FAIL;
        if (zero != 0) {
            snprintf(why, n, "zero byte expected after atomic.fence, got 0x%02x", zero);
            return FL_ERR_MALFORMED;
        }
        return 0;
    }
    if (!wasm_read_u32(r, align) || !wasm_read_u32(r, offset))
        return WASM_ATOMIC_READ_FAIL;
    uint32_t natural = wasm_atomic_size_log2(*sub);
    if (*align != natural) {
        /* Atomics accept exactly their natural alignment (threads proposal). */
        snprintf(why, n, "alignment must be equal to natural: %s has 2^%u, needs %u bytes",
                 wasm_opinfo_fe[*sub].name, *align, 1u << natural);
        return FL_ERR_INVALID;
    }
    return 0;
}
