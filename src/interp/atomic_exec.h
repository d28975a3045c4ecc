/* atomic_exec.h: how the interpreter runs the threads proposal's
 * instructions. They compile to one internal op, ATOMIC (see
 * interp_internal.h), whose handler calls interp_atomic out of line: atomics
 * are rare and costly anyway, and this keeps them out of the dispatch loop. */
#ifndef FL_INTERP_ATOMIC_EXEC_H
#define FL_INTERP_ATOMIC_EXEC_H

#include <stdint.h>

#include "runtime/runtime.h"

/* Operand units of the ATOMIC op, after its handler address. */
enum interp_atomic_operand {
    INTERP_ATOMIC_SUB,    /* 0xFE subop */
    INTERP_ATOMIC_DST,    /* result slot (unused without a result) */
    INTERP_ATOMIC_ADDR,   /* slot of the address operand */
    INTERP_ATOMIC_ARG1,   /* slot of the value / expected / count operand */
    INTERP_ATOMIC_ARG2,   /* slot of the replacement / timeout operand */
    INTERP_ATOMIC_OFFSET, /* memarg offset */
    INTERP_ATOMIC_UNITS
};

/* Runs one atomic instruction of instance inst on frame fp; operands point
 * at its INTERP_ATOMIC_UNITS units. Returns RUNTIME_OK or a trap. */
int interp_atomic(struct runtime_exec *exec, struct runtime_instance *inst, uint64_t *fp,
                  const uint32_t *operands);

#endif
