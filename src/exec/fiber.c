/* fiber.c: fibers over ucontext (see fiber.h). */
#define _GNU_SOURCE
#include "exec/fiber.h"

#include <errno.h>
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

int exec_fiber_init(struct exec_fiber *fiber, size_t stack_size, struct fl_error *err)
{
    memset(fiber, 0, sizeof *fiber);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    stack_size = (stack_size + page - 1) / page * page;
    size_t total = stack_size + page;
    void *map = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                     -1, 0);
    if (map == MAP_FAILED)
        return fl_error_set(err, FL_ERR_NOMEM, "fiber: cannot map a %zu KiB stack: %s",
                            stack_size >> 10, strerror(errno));
    /* The guard page below the stack turns an overflow into a fault. */
    if (mprotect(map, page, PROT_NONE) != 0) {
        munmap(map, total);
        return fl_error_set(err, FL_ERR_NOMEM, "fiber: guard page: %s", strerror(errno));
    }
    fiber->map = map;
    fiber->map_size = total;
    fiber->stack_lo = (uint8_t *)map + page;
    fiber->stack_size = stack_size;
    return FL_OK;
}

void exec_fiber_fini(struct exec_fiber *fiber)
{
    if (fiber->map)
        munmap(fiber->map, fiber->map_size);
    fiber->map = NULL;
}

static void trampoline(unsigned hi, unsigned lo)
{
    struct exec_fiber *fiber = (struct exec_fiber *)(((uintptr_t)hi << 32) | (uintptr_t)lo);
#ifdef FIBER_ASAN
    __sanitizer_finish_switch_fiber(NULL, &fiber->back_bottom, &fiber->back_size);
#endif
    fiber->entry(fiber->arg);
    /* entry must switch out finished, never return */
}

void exec_fiber_prepare(struct exec_fiber *fiber, void (*entry)(void *), void *arg)
{
    fiber->entry = entry;
    fiber->arg = arg;
    getcontext(&fiber->ctx);
    fiber->ctx.uc_stack.ss_sp = fiber->stack_lo;
    fiber->ctx.uc_stack.ss_size = fiber->stack_size;
    fiber->ctx.uc_link = NULL;
    uintptr_t p = (uintptr_t)fiber;
    makecontext(&fiber->ctx, (void (*)(void))trampoline, 2, (unsigned)(p >> 32),
                (unsigned)(p & 0xffffffffu));
}

void exec_fiber_switch_in(struct exec_fiber *fiber, ucontext_t *from)
{
    fiber->back = from;
#ifdef FIBER_ASAN
    void *fake = NULL;
    __sanitizer_start_switch_fiber(&fake, fiber->stack_lo, fiber->stack_size);
    swapcontext(from, &fiber->ctx);
    __sanitizer_finish_switch_fiber(fake, NULL, NULL);
#else
    swapcontext(from, &fiber->ctx);
#endif
}

void exec_fiber_switch_out(struct exec_fiber *fiber, bool finished)
{
#ifdef FIBER_ASAN
    __sanitizer_start_switch_fiber(finished ? NULL : &fiber->fake_stack, fiber->back_bottom,
                                   fiber->back_size);
    swapcontext(&fiber->ctx, fiber->back);
    __sanitizer_finish_switch_fiber(fiber->fake_stack, &fiber->back_bottom, &fiber->back_size);
#else
    (void)finished;
    swapcontext(&fiber->ctx, fiber->back);
#endif
}
