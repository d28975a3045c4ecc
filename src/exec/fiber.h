/* fiber.h: user-space contexts for calls. A fiber is a native stack with
 * the call's interpreter value stack right above it, and a saved context;
 * workers switch into fibers and fibers switch back when they block or
 * finish. Stacks come from a pool of large read/write mappings with no guard
 * page per stack, so thousands of parked fibers cost a handful of kernel
 * mappings; a canary at the bottom of each native stack is checked at every
 * switch out instead. On x86-64 the switch is a few instructions (callee-
 * saved registers + stack pointer, no signal-mask syscall); elsewhere it is
 * ucontext. Annotated for AddressSanitizer, which must be told about every
 * stack switch. */
#ifndef FL_EXEC_FIBER_H
#define FL_EXEC_FIBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

#if defined(__x86_64__) && !defined(FL_FIBER_UCONTEXT)
#define EXEC_FIBER_ASM 1
struct exec_fiber_ctx {
    void *sp; /* saved stack pointer; registers are on that stack */
};
#else
#include <ucontext.h>
struct exec_fiber_ctx {
    ucontext_t uc;
};
#endif

struct exec_fiber {
    struct exec_fiber_ctx ctx;
    struct exec_fiber_ctx *back; /* context to return to (the worker's), set by switch_in */
    uint8_t *stack_lo;           /* native stack [stack_lo, stack_lo + stack_size) */
    size_t stack_size;
    uint64_t *values; /* value stack: value_cells cells above the native stack */
    uint32_t value_cells;
    void (*entry)(void *);
    void *arg;
    struct exec_fiber *next_free;
    /* AddressSanitizer bookkeeping */
    void *fake_stack;
    const void *back_bottom;
    size_t back_size;
};

/* Fibers of one shape. Not thread-safe: the caller serialises take/give. */
struct exec_fiber_pool;
struct exec_fiber_pool *exec_fiber_pool_create(size_t stack_size, uint32_t value_cells,
                                               struct fl_error *err);
/* Unmaps every stack (fibers still out are gone with them). */
void exec_fiber_pool_destroy(struct exec_fiber_pool *pool);
/* A fiber (owned by the pool), or NULL with err. */
struct exec_fiber *exec_fiber_pool_take(struct exec_fiber_pool *pool, struct fl_error *err);
/* Returns a finished fiber; pages of fibers beyond a warm few are dropped. */
void exec_fiber_pool_give(struct exec_fiber_pool *pool, struct exec_fiber *fiber);
/* Fibers carved so far (for statistics). */
uint64_t exec_fiber_pool_size(const struct exec_fiber_pool *pool);

/* Makes the fiber start entry(arg) at its next switch_in. */
void exec_fiber_prepare(struct exec_fiber *fiber, void (*entry)(void *), void *arg);

/* From a worker: runs the fiber until it switches out; from is where the
 * worker's own context is saved. */
void exec_fiber_switch_in(struct exec_fiber *fiber, struct exec_fiber_ctx *from);

/* From inside the fiber: back to the worker that switched in. finished: the
 * fiber will never be resumed (until prepared again). */
void exec_fiber_switch_out(struct exec_fiber *fiber, bool finished);

#endif
