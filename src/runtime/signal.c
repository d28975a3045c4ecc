/* signal.c: turns hardware faults of running wasm into traps. One
 * process-wide SIGSEGV/SIGBUS handler runs on a per-thread alternate stack;
 * a fault inside a memory reservation of the store of the thread's current
 * exec (or just below its native stack) while runtime_call is active jumps
 * back to that runtime_call. Any other fault restores the previous action
 * and happens again, so a real crash stays a crash.
 *
 * Process-wide / thread-local state, all of it here: the previous actions
 * (written once under pthread_once), the current exec of each thread, and
 * each thread's alternate stack. */
#define _GNU_SOURCE /* REG_RIP in ucontext.h */
#include "runtime/runtime_internal.h"

#include <signal.h>
#include <stdlib.h>
#include <ucontext.h>
#include <string.h>
#include <sys/mman.h>

#define ALTSTACK_SIZE (128u << 10)
#define STACK_GUARD_SLACK (1u << 20) /* faults this far below the stack count as overflow */

static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static struct sigaction previous_segv, previous_bus;

static _Thread_local struct runtime_exec *current_exec;

/* This thread's alternate stack, if we installed it. */
static _Thread_local void *altstack_mem;
static _Thread_local unsigned altstack_refs;

struct runtime_exec *runtime_current_exec(void)
{
    return current_exec;
}

void runtime_set_current_exec(struct runtime_exec *exec)
{
    current_exec = exec;
}

/* The faulting instruction's address, where this architecture tells it. */
static uintptr_t fault_pc(void *context)
{
    const ucontext_t *uc = context;
#if defined(__x86_64__)
    return (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
    return (uintptr_t)uc->uc_mcontext.pc;
#else
    (void)uc;
    return 0;
#endif
}

static void fault_handler(int sig, siginfo_t *info, void *context)
{
    struct runtime_exec *exec = current_exec;
    if (exec && exec->recover) {
        uintptr_t addr = (uintptr_t)info->si_addr;
        int trap = 0;
        if (runtime_store_owns_address(exec->store, addr))
            trap = RUNTIME_TRAP_MEMORY_OUT_OF_BOUNDS;
        else if (exec->native_stack_lo && addr < exec->native_stack_lo + 4096 &&
                 addr + STACK_GUARD_SLACK >= exec->native_stack_lo)
            trap = RUNTIME_TRAP_CALL_STACK_EXHAUSTED;
        if (trap) {
            exec->fault_trap = trap;
            exec->fault_pc = fault_pc(context);
            siglongjmp(*exec->recover, trap);
        }
    }
    /* Not a wasm fault: put back whatever handled it before us and let the
     * faulting instruction run again (or re-send a signal that was sent). */
    sigaction(sig, sig == SIGBUS ? &previous_bus : &previous_segv, NULL);
    if (info->si_code <= 0)
        raise(sig);
}

static void install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fault_handler;
    /* SA_NODEFER: we leave the handler by siglongjmp without restoring the
     * signal mask (sigsetjmp(buf, 0) is cheaper), so the signal must not be
     * blocked while the handler runs. */
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &previous_segv);
    sigaction(SIGBUS, &sa, &previous_bus);
}

void runtime_signals_install(void)
{
    pthread_once(&install_once, install);
}

int runtime_altstack_acquire(struct fl_error *err)
{
    if (altstack_refs++ > 0)
        return FL_OK;
    stack_t cur;
    if (sigaltstack(NULL, &cur) == 0 && !(cur.ss_flags & SS_DISABLE) && cur.ss_size >= (64u << 10))
        return FL_OK; /* someone (e.g. a sanitizer) already gave this thread one */
    void *mem = mmap(NULL, ALTSTACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
                     0);
    if (mem == MAP_FAILED) {
        altstack_refs--;
        return fl_error_set(err, FL_ERR_NOMEM, "exec: cannot allocate the signal stack");
    }
    stack_t ss = {.ss_sp = mem, .ss_size = ALTSTACK_SIZE, .ss_flags = 0};
    if (sigaltstack(&ss, NULL) != 0) {
        munmap(mem, ALTSTACK_SIZE);
        altstack_refs--;
        return fl_error_set(err, FL_ERR_INTERNAL, "exec: sigaltstack failed");
    }
    altstack_mem = mem;
    return FL_OK;
}

void runtime_altstack_release(void)
{
    if (altstack_refs == 0 || --altstack_refs > 0 || !altstack_mem)
        return;
    stack_t ss = {.ss_flags = SS_DISABLE};
    sigaltstack(&ss, NULL);
    munmap(altstack_mem, ALTSTACK_SIZE);
    altstack_mem = NULL;
}
