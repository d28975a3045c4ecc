/* fiber.c: fibers and their stack pool (see fiber.h). */
#define _GNU_SOURCE
#include "exec/fiber.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define FIBER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FIBER_ASAN 1
#endif
#endif

#ifdef FIBER_ASAN
void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom, size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save, const void **bottom_old,
                                     size_t *size_old);
#endif

#define CANARY 0x6661617374616b21ull /* written at the bottom of every native stack */
#define WARM_FIBERS 4096u            /* free fibers that keep their pages */
#define CHUNK_BYTES (1ull << 30)     /* at most this much address space per mapping */
#define CHUNK_MAX_SLOTS 1024u

#ifdef EXEC_FIBER_ASM
/* exec_fiber_swap(save, next): pushes the callee-saved registers and the
 * SSE/x87 control words, stores the stack pointer in *save, loads next and
 * pops the same from there. exec_fiber_boot is where a new fiber's first
 * swap returns to: it calls r13(r12) on the fresh stack. */
__asm__(".text\n"
        ".p2align 4\n"
        ".globl exec_fiber_swap\n"
        ".hidden exec_fiber_swap\n"
        ".type exec_fiber_swap,@function\n"
        "exec_fiber_swap:\n"
        "    pushq %rbp\n"
        "    pushq %rbx\n"
        "    pushq %r12\n"
        "    pushq %r13\n"
        "    pushq %r14\n"
        "    pushq %r15\n"
        "    subq $8, %rsp\n"
        "    stmxcsr (%rsp)\n"
        "    fnstcw 4(%rsp)\n"
        "    movq %rsp, (%rdi)\n"
        "    movq %rsi, %rsp\n"
        "    ldmxcsr (%rsp)\n"
        "    fldcw 4(%rsp)\n"
        "    addq $8, %rsp\n"
        "    popq %r15\n"
        "    popq %r14\n"
        "    popq %r13\n"
        "    popq %r12\n"
        "    popq %rbx\n"
        "    popq %rbp\n"
        "    ret\n"
        ".size exec_fiber_swap, .-exec_fiber_swap\n"
        ".p2align 4\n"
        ".globl exec_fiber_boot\n"
        ".hidden exec_fiber_boot\n"
        ".type exec_fiber_boot,@function\n"
        "exec_fiber_boot:\n"
        "    movq %r12, %rdi\n"
        "    callq *%r13\n"
        "    ud2\n"
        ".size exec_fiber_boot, .-exec_fiber_boot\n"
        ".previous\n");
void exec_fiber_swap(void **save, void *next);
void exec_fiber_boot(void);
#endif

/* ---- pool ------------------------------------------------------------------ */

struct fiber_chunk {
    struct fiber_chunk *next;
    uint8_t *base;
    size_t bytes;
    uint32_t used;
    struct exec_fiber *fibers;
};

struct exec_fiber_pool {
    size_t stack_size, value_bytes, slot_bytes;
    uint32_t value_cells, slots_per_chunk;
    struct fiber_chunk *chunks;
    struct exec_fiber *free;
    uint32_t free_count;
    uint64_t carved;
};

struct exec_fiber_pool *exec_fiber_pool_create(size_t stack_size, uint32_t value_cells,
                                               struct fl_error *err)
{
    struct exec_fiber_pool *p = calloc(1, sizeof *p);
    if (!p) {
        fl_error_set(err, FL_ERR_NOMEM, "fiber: out of memory");
        return NULL;
    }
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    p->stack_size = (stack_size + page - 1) / page * page;
    p->value_cells = value_cells;
    p->value_bytes = ((size_t)value_cells * sizeof(uint64_t) + page - 1) / page * page;
    p->slot_bytes = p->stack_size + p->value_bytes;
    size_t n = CHUNK_BYTES / p->slot_bytes;
    p->slots_per_chunk = n < 1 ? 1 : n > CHUNK_MAX_SLOTS ? CHUNK_MAX_SLOTS : (uint32_t)n;
    return p;
}

void exec_fiber_pool_destroy(struct exec_fiber_pool *p)
{
    if (!p)
        return;
    while (p->chunks) {
        struct fiber_chunk *c = p->chunks;
        p->chunks = c->next;
        munmap(c->base, c->bytes);
        free(c->fibers);
        free(c);
    }
    free(p);
}

struct exec_fiber *exec_fiber_pool_take(struct exec_fiber_pool *p, struct fl_error *err)
{
    struct exec_fiber *f = p->free;
    if (f) {
        p->free = f->next_free;
        p->free_count--;
        return f;
    }
    struct fiber_chunk *c = p->chunks;
    if (!c || c->used == p->slots_per_chunk) {
        c = calloc(1, sizeof *c);
        struct exec_fiber *fibers = calloc(p->slots_per_chunk, sizeof *fibers);
        size_t bytes = p->slot_bytes * p->slots_per_chunk;
        /* Read/write throughout, no guard pages: the chunks of the pool
         * stay one kernel mapping however many fibers are parked. */
        void *base = c && fibers ? mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
                                 : MAP_FAILED;
        if (base == MAP_FAILED) {
            free(c);
            free(fibers);
            fl_error_set(err, FL_ERR_NOMEM, "fiber: cannot map %zu KiB of stacks: %s", bytes >> 10,
                         strerror(errno));
            return NULL;
        }
        c->base = base;
        c->bytes = bytes;
        c->fibers = fibers;
        c->next = p->chunks;
        p->chunks = c;
    }
    f = &c->fibers[c->used];
    uint8_t *slot = c->base + p->slot_bytes * c->used;
    c->used++;
    p->carved++;
    /* Value stack above the native stack: the pages a parked call touched
     * at the top of one and the bottom of the other are neighbours. */
    f->stack_lo = slot;
    f->stack_size = p->stack_size;
    f->values = (uint64_t *)(slot + p->stack_size);
    f->value_cells = p->value_cells;
    return f;
}

void exec_fiber_pool_give(struct exec_fiber_pool *p, struct exec_fiber *f)
{
    if (p->free_count >= WARM_FIBERS)
        madvise(f->stack_lo, p->slot_bytes, MADV_DONTNEED);
    f->next_free = p->free;
    p->free = f;
    p->free_count++;
}

uint64_t exec_fiber_pool_size(const struct exec_fiber_pool *p)
{
    return p->carved;
}

/* ---- switching ----------------------------------------------------------------- */

static void check_canary(struct exec_fiber *fiber)
{
    uint64_t v;
    memcpy(&v, fiber->stack_lo, sizeof v);
    if (v != CANARY) {
        /* Host code ran past the bottom of its stack into a neighbour's:
         * memory is already corrupt, so stopping is the only safe move. */
        fprintf(stderr, "faaslet exec: fiber stack overflow (%zu KiB stack)\n",
                fiber->stack_size >> 10);
        abort();
    }
}

static void fiber_start(struct exec_fiber *fiber)
{
#ifdef FIBER_ASAN
    __sanitizer_finish_switch_fiber(NULL, &fiber->back_bottom, &fiber->back_size);
#endif
    fiber->entry(fiber->arg);
    abort(); /* entry must switch out finished, never return */
}

#ifndef EXEC_FIBER_ASM
static void trampoline(unsigned hi, unsigned lo)
{
    fiber_start((struct exec_fiber *)(((uintptr_t)hi << 32) | (uintptr_t)lo));
}
#endif

void exec_fiber_prepare(struct exec_fiber *fiber, void (*entry)(void *), void *arg)
{
    fiber->entry = entry;
    fiber->arg = arg;
    uint64_t canary = CANARY;
    memcpy(fiber->stack_lo, &canary, sizeof canary);
#ifdef EXEC_FIBER_ASM
    uint64_t *sp = (uint64_t *)(((uintptr_t)fiber->stack_lo + fiber->stack_size) & ~(uintptr_t)15);
    *--sp = (uintptr_t)exec_fiber_boot;        /* return address of the first swap */
    *--sp = 0;                                 /* rbp */
    *--sp = 0;                                 /* rbx */
    *--sp = (uintptr_t)fiber;                  /* r12: argument */
    *--sp = (uintptr_t)fiber_start;            /* r13: function */
    *--sp = 0;                                 /* r14 */
    *--sp = 0;                                 /* r15 */
    *--sp = 0x1f80u | (uint64_t)0x037fu << 32; /* default MXCSR, x87 control word */
    fiber->ctx.sp = sp;
#else
    getcontext(&fiber->ctx.uc);
    fiber->ctx.uc.uc_stack.ss_sp = fiber->stack_lo;
    fiber->ctx.uc.uc_stack.ss_size = fiber->stack_size;
    fiber->ctx.uc.uc_link = NULL;
    uintptr_t p = (uintptr_t)fiber;
    makecontext(&fiber->ctx.uc, (void (*)(void))trampoline, 2, (unsigned)(p >> 32),
                (unsigned)(p & 0xffffffffu));
#endif
}

static void swap(struct exec_fiber_ctx *save, struct exec_fiber_ctx *next)
{
#ifdef EXEC_FIBER_ASM
    exec_fiber_swap(&save->sp, next->sp);
#else
    swapcontext(&save->uc, &next->uc);
#endif
}

void exec_fiber_switch_in(struct exec_fiber *fiber, struct exec_fiber_ctx *from)
{
    fiber->back = from;
#ifdef FIBER_ASAN
    void *fake = NULL;
    __sanitizer_start_switch_fiber(&fake, fiber->stack_lo, fiber->stack_size);
    swap(from, &fiber->ctx);
    __sanitizer_finish_switch_fiber(fake, NULL, NULL);
#else
    swap(from, &fiber->ctx);
#endif
}

void exec_fiber_switch_out(struct exec_fiber *fiber, bool finished)
{
    check_canary(fiber);
#ifdef FIBER_ASAN
    __sanitizer_start_switch_fiber(finished ? NULL : &fiber->fake_stack, fiber->back_bottom,
                                   fiber->back_size);
    swap(&fiber->ctx, fiber->back);
    __sanitizer_finish_switch_fiber(fiber->fake_stack, &fiber->back_bottom, &fiber->back_size);
#else
    (void)finished;
    swap(&fiber->ctx, fiber->back);
#endif
}
