/* fiber.h: user-space contexts for calls. A fiber is a native stack (mmap'd,
 * with a guard page below) and a saved context; workers switch into fibers
 * and fibers switch back when they block or finish. Annotated for
 * AddressSanitizer, which must be told about every stack switch. */
#ifndef FL_EXEC_FIBER_H
#define FL_EXEC_FIBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <ucontext.h>

#include "util/error.h"

struct exec_fiber {
    ucontext_t ctx;
    ucontext_t *back;            /* context to return to (the worker's), set by switch_in */
    void *map;                   /* whole mapping, guard included */
    size_t map_size;
    uint8_t *stack_lo;           /* usable stack [stack_lo, stack_lo + stack_size) */
    size_t stack_size;
    void (*entry)(void *);
    void *arg;
    /* AddressSanitizer bookkeeping */
    void *fake_stack;
    const void *back_bottom;
    size_t back_size;
};

/* Maps a stack of stack_size bytes (rounded up to pages) plus a guard page. */
int exec_fiber_init(struct exec_fiber *fiber, size_t stack_size, struct fl_error *err);
void exec_fiber_fini(struct exec_fiber *fiber);

/* Makes the fiber start entry(arg) at its next switch_in. */
void exec_fiber_prepare(struct exec_fiber *fiber, void (*entry)(void *), void *arg);

/* From a worker: runs the fiber until it switches out; from is where the
 * worker's own context is saved. */
void exec_fiber_switch_in(struct exec_fiber *fiber, ucontext_t *from);

/* From inside the fiber: back to the worker that switched in. finished: the
 * fiber will never be resumed (until prepared again). */
void exec_fiber_switch_out(struct exec_fiber *fiber, bool finished);

#endif
