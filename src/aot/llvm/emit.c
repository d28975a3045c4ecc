/* emit.c: the compiler module's entry point: LLVM module -> optimised
 * native object for the host CPU. The object references nothing outside
 * itself except, possibly, libc's memcpy/memset that LLVM may call for copy
 * loops; those resolve against the host process when it is loaded. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Core.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include "aot/aot_internal.h"
#include "aot/llvm/codegen.h"

/* LLVM's target registry is process-wide and initialised once. */
static pthread_once_t llvm_once = PTHREAD_ONCE_INIT;
static bool llvm_ok;

static void llvm_init(void)
{
    llvm_ok = LLVMInitializeNativeTarget() == 0 && LLVMInitializeNativeAsmPrinter() == 0;
}

int aotc_error(struct fl_error *err, int code, const char *fmt, ...)
{
    if (err) {
        err->code = code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

bool aot_llvm_init(void)
{
    pthread_once(&llvm_once, llvm_init);
    return llvm_ok;
}

static int make_target_machine(const struct aot_options *opts, LLVMTargetMachineRef *out,
                               char **triple_out, struct fl_error *err)
{
    pthread_once(&llvm_once, llvm_init);
    if (!llvm_ok)
        return aotc_error(err, FL_ERR_INTERNAL, "aot: LLVM has no native target");
    char *triple = LLVMGetDefaultTargetTriple();
    LLVMTargetRef target;
    char *msg = NULL;
    if (LLVMGetTargetFromTriple(triple, &target, &msg)) {
        aotc_error(err, FL_ERR_INTERNAL, "aot: no LLVM target for %s: %s", triple, msg ? msg : "?");
        LLVMDisposeMessage(msg);
        LLVMDisposeMessage(triple);
        return FL_ERR_INTERNAL;
    }
    char *cpu = LLVMGetHostCPUName(), *features = LLVMGetHostCPUFeatures();
    /* The JIT linker maps code and read-only data (jump tables, constant
     * pools) separately, possibly more than 2 GiB apart: no 32-bit offsets. */
    LLVMCodeGenOptLevel level = opts->opt_level <= 0 ? LLVMCodeGenLevelNone
                              : opts->opt_level == 1 ? LLVMCodeGenLevelLess
                              : opts->opt_level == 2 ? LLVMCodeGenLevelDefault
                              : LLVMCodeGenLevelAggressive;
    *out = LLVMCreateTargetMachine(target, triple, cpu, features, level, LLVMRelocPIC,
                                   opts->link_in_process ? LLVMCodeModelLarge : LLVMCodeModelDefault);
    LLVMDisposeMessage(cpu);
    LLVMDisposeMessage(features);
    if (!*out) {
        LLVMDisposeMessage(triple);
        return aotc_error(err, FL_ERR_INTERNAL, "aot: cannot create an LLVM target machine");
    }
    *triple_out = triple;
    return FL_OK;
}

/* The one symbol the module exports (see src/aot/compiler.c). */
__attribute__((visibility("default"))) int aot_llvm_compile_object(
    uint32_t abi_version, const struct wasm_module *module, const struct aot_options *opts, uint8_t **obj,
    size_t *obj_size, struct fl_error *err);

int aot_llvm_compile_object(uint32_t abi_version, const struct wasm_module *module,
                            const struct aot_options *opts, uint8_t **obj, size_t *obj_size,
                            struct fl_error *err)
{
    if (abi_version != AOT_ABI_VERSION)
        return aotc_error(err, FL_ERR_INTERNAL, "aot: compiler module is for ABI %u, not %u (stale build?)",
                          AOT_ABI_VERSION, abi_version);
    LLVMTargetMachineRef tm = NULL;
    char *triple = NULL;
    int rc = make_target_machine(opts, &tm, &triple, err);
    if (rc)
        return rc;
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef mod = NULL;
    rc = aot_codegen_module(ctx, module, opts, &mod, err);
    if (!rc) {
        LLVMSetTarget(mod, triple);
        LLVMTargetDataRef layout = LLVMCreateTargetDataLayout(tm);
        LLVMSetModuleDataLayout(mod, layout);
        LLVMDisposeTargetData(layout);
        if (opts->opt_level > 0) {
            char pipeline[32];
            snprintf(pipeline, sizeof pipeline, "default<O%d>", opts->opt_level > 3 ? 3 : opts->opt_level);
            LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
            LLVMErrorRef e = LLVMRunPasses(mod, pipeline, tm, po);
            LLVMDisposePassBuilderOptions(po);
            if (e) {
                char *m = LLVMGetErrorMessage(e);
                rc = aotc_error(err, FL_ERR_INTERNAL, "aot: optimisation failed: %s", m);
                LLVMDisposeErrorMessage(m);
            }
        }
    }
    if (!rc && opts->interrupt_checks)
        rc = aot_insert_polls(ctx, mod, err);
    if (!rc) {
        LLVMMemoryBufferRef buf = NULL;
        char *msg = NULL;
        if (LLVMTargetMachineEmitToMemoryBuffer(tm, mod, LLVMObjectFile, &msg, &buf)) {
            rc = aotc_error(err, FL_ERR_INTERNAL, "aot: object emission failed: %s", msg ? msg : "?");
            LLVMDisposeMessage(msg);
        } else {
            size_t n = LLVMGetBufferSize(buf);
            *obj = malloc(n ? n : 1);
            if (!*obj) {
                rc = aotc_error(err, FL_ERR_NOMEM, "aot: out of memory for a %zu-byte object", n);
            } else {
                memcpy(*obj, LLVMGetBufferStart(buf), n);
                *obj_size = n;
            }
            LLVMDisposeMemoryBuffer(buf);
        }
    }
    if (mod)
        LLVMDisposeModule(mod);
    LLVMContextDispose(ctx);
    LLVMDisposeTargetMachine(tm);
    LLVMDisposeMessage(triple);
    return rc;
}

