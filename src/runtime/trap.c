/* trap.c: the spec's text for each trap, as the reference interpreter and
 * the spec test scripts spell it. */
#include "runtime/runtime.h"

const char *runtime_trap_message(int trap)
{
    switch (trap) {
    case RUNTIME_OK: return "no trap";
    case RUNTIME_TRAP_UNREACHABLE: return "unreachable";
    case RUNTIME_TRAP_MEMORY_OUT_OF_BOUNDS: return "out of bounds memory access";
    case RUNTIME_TRAP_INT_DIVIDE_BY_ZERO: return "integer divide by zero";
    case RUNTIME_TRAP_INT_OVERFLOW: return "integer overflow";
    case RUNTIME_TRAP_INVALID_CONVERSION: return "invalid conversion to integer";
    case RUNTIME_TRAP_INDIRECT_CALL_TYPE_MISMATCH: return "indirect call type mismatch";
    case RUNTIME_TRAP_UNDEFINED_ELEMENT: return "undefined element";
    case RUNTIME_TRAP_UNINITIALIZED_ELEMENT: return "uninitialized element";
    case RUNTIME_TRAP_TABLE_OUT_OF_BOUNDS: return "out of bounds table access";
    case RUNTIME_TRAP_NULL_REFERENCE: return "null reference";
    case RUNTIME_TRAP_CALL_STACK_EXHAUSTED: return "call stack exhausted";
    case RUNTIME_TRAP_UNALIGNED_ATOMIC: return "unaligned atomic";
    case RUNTIME_TRAP_INTERRUPTED: return "interrupted";
    case RUNTIME_TRAP_EXIT: return "exit";
    case RUNTIME_TRAP_HOST: return "host function failed";
    case RUNTIME_TRAP_EXPECTED_SHARED_MEMORY: return "expected shared memory";
    default: return "unknown trap";
    }
}
