/* verify.c: a structural check of compiled internal code, for tests and
 * debugging: every instruction starts with a known handler, operand slots lie
 * inside the frame, and every branch lands on an instruction start. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interp/interp_internal.h"

static const uint8_t op_units[INTERP_OP_COUNT] = {
#define INTERP_OP_UNITS(name, n) n,
    INTERP_OPS(INTERP_OP_UNITS)
#undef INTERP_OP_UNITS
};

/* Operand index of the branch offset, or -1. */
static int branch_operand(int op)
{
    if (op == INTERP_OP_BR)
        return 0;
    if (op == INTERP_OP_BR_Z || op == INTERP_OP_BR_NZ || op == INTERP_OP_BR_Z64 ||
        op == INTERP_OP_BR_NZ64)
        return 1;
    if (op >= INTERP_OP_BR_I32_EQ && op <= INTERP_OP_BR_I64_GE_U)
        return 2;
    return -1;
}

static int op_of(const struct interp_module *im, const uint32_t *at)
{
    const void *h;
    memcpy(&h, at, sizeof h);
    for (int i = 0; i < INTERP_OP_COUNT; i++)
        if (im->handlers[i] == h)
            return i;
    return -1;
}

int interp_func_verify(const struct interp_func *f, struct fl_error *err)
{
    const struct interp_module *im = f->imodule;
    uint8_t *starts = calloc(f->code_units + 1, 1);
    if (!starts)
        return fl_error_set(err, FL_ERR_NOMEM, "verify: out of memory");
    int rc = 0;
    size_t pc = 0;
    while (pc < f->code_units) {
        starts[pc] = 1;
        if (pc + INTERP_HANDLER_UNITS > f->code_units) {
            rc = fl_error_set(err, FL_ERR_INTERNAL, "func %u: truncated instruction at %zu",
                              f->func_index, pc);
            goto out;
        }
        int op = op_of(im, f->code + pc);
        if (op < 0) {
            rc = fl_error_set(err, FL_ERR_INTERNAL, "func %u: unknown handler at %zu",
                              f->func_index, pc);
            goto out;
        }
        size_t n = op_units[op];
        if (op == INTERP_OP_BR_TABLE)
            n += (size_t)f->code[pc + INTERP_HANDLER_UNITS + 1] + 1;
        pc += INTERP_HANDLER_UNITS + n;
    }
    if (pc != f->code_units) {
        rc = fl_error_set(err, FL_ERR_INTERNAL, "func %u: code overruns its end", f->func_index);
        goto out;
    }
    for (pc = 0; pc < f->code_units;) {
        int op = op_of(im, f->code + pc);
        const uint32_t *ops = f->code + pc + INTERP_HANDLER_UNITS;
        size_t n = op_units[op];
        size_t first = 0, count = 0;
        int b = branch_operand(op);
        if (b >= 0) {
            first = (size_t)b;
            count = 1;
        } else if (op == INTERP_OP_BR_TABLE) {
            first = 2;
            count = (size_t)ops[1] + 1;
            n += count;
        }
        for (size_t i = first; i < first + count; i++) {
            int64_t target = (int64_t)pc + (int32_t)ops[i];
            if (target < 0 || target >= (int64_t)f->code_units || !starts[target]) {
                rc = fl_error_set(err, FL_ERR_INTERNAL,
                                  "func %u: branch at %zu lands at %lld, not an instruction",
                                  f->func_index, pc, (long long)target);
                goto out;
            }
        }
        pc += INTERP_HANDLER_UNITS + n;
    }
out:
    free(starts);
    return rc;
}

static const char *const op_names[INTERP_OP_COUNT] = {
#define INTERP_OP_NAME(name, n) #name,
    INTERP_OPS(INTERP_OP_NAME)
#undef INTERP_OP_NAME
};

void interp_func_dump(const struct interp_func *f, FILE *out)
{
    fprintf(out, "func %u: params %u locals %u frame %u\n", f->func_index, f->param_cells,
            f->local_cells, f->frame_cells);
    for (size_t pc = 0; pc < f->code_units;) {
        int op = op_of(f->imodule, f->code + pc);
        if (op < 0) {
            fprintf(out, "  %5zu ??? %08x\n", pc, f->code[pc]);
            return;
        }
        size_t n = op_units[op];
        if (op == INTERP_OP_BR_TABLE)
            n += (size_t)f->code[pc + INTERP_HANDLER_UNITS + 1] + 1;
        fprintf(out, "  %5zu %s", pc, op_names[op]);
        for (size_t i = 0; i < n && pc + INTERP_HANDLER_UNITS + i < f->code_units; i++)
            fprintf(out, " %d", (int32_t)f->code[pc + INTERP_HANDLER_UNITS + i]);
        fputc('\n', out);
        pc += INTERP_HANDLER_UNITS + n;
    }
}
