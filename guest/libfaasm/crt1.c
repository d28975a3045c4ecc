/* crt1.c: the entry points faaslet-cc links into every function instead of
 * wasi-libc's crt1-command.o. It splits start-up so the runtime can snapshot
 * after constructors and the zygote, then run many calls from that snapshot:
 *   _faasm_init          constructors, once (a flag in linear memory)
 *   _start               _faasm_init, main(argc, argv), exit handlers, exit code
 *   _faasm_call_ptr(i)   _faasm_init, then the chained function at table index i
 * Because __wasm_call_ctors is called explicitly here, wasm-ld does not wrap
 * every export in constructor/destructor calls as it does for plain commands. */
#include <stdio.h>

extern void __wasm_call_ctors(void);
extern void __wasm_call_dtors(void);
extern int __original_main(void); /* wasi-libc: reads argv, calls main */
extern void __wasi_proc_exit(unsigned int code)
    __attribute__((import_module("wasi_snapshot_preview1"), import_name("proc_exit"),
                   noreturn));

/* Set by the first _faasm_init; part of the snapshot, so later calls skip it. */
static int faasm_initialised;

/* Runs the module's constructors unless they already ran in this memory. */
__attribute__((export_name("_faasm_init"))) void _faasm_init(void)
{
    if (!faasm_initialised) {
        faasm_initialised = 1;
        __wasm_call_ctors();
    }
}

/* WASI command entry: main's return value becomes the exit code (non-zero
 * ends with proc_exit, as wasi-libc's own start code does). */
__attribute__((export_name("_start"))) void _start(void)
{
    _faasm_init();
    int ret = __original_main();
    __wasm_call_dtors(); /* atexit handlers, C++ destructors, stdio flush */
    if (ret != 0) {
        __wasi_proc_exit((unsigned int)ret);
    }
}

/* Entry for a call chained by pointer (faasmChain): calls the function at
 * table index `index` through an int(void) signature (a mismatch traps) and
 * returns its value. Streams are flushed but no exit handlers run. */
__attribute__((export_name("_faasm_call_ptr"))) int _faasm_call_ptr(int index)
{
    _faasm_init();
    int (*func)(void) = (int (*)(void))(unsigned long)index;
    int ret = func();
    fflush(NULL);
    return ret;
}
