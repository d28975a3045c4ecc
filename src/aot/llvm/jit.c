/* jit.c: links a compiled object into this process with LLVM's ORC LLJIT
 * instead of ld.lld + dlopen. Same object, same code; what it saves is the
 * linker process (~130 ms of ld.lld start-up per module on this machine),
 * which dominated loading uncached modules (spec scripts load hundreds). */
#include <llvm-c/Error.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>

#include "aot/llvm/codegen.h"

__attribute__((visibility("default"))) int
aot_llvm_link_in_process(uint32_t abi_version, const uint8_t *obj, size_t n, void **handle,
                         const void **info, const void **codes, struct fl_error *err);
__attribute__((visibility("default"))) void aot_llvm_unlink(void *handle);

static int orc_error(struct fl_error *err, const char *what, LLVMErrorRef e)
{
    char *m = LLVMGetErrorMessage(e);
    aotc_error(err, FL_ERR_INTERNAL, "aot: %s: %.120s", what, m ? m : "?");
    LLVMDisposeErrorMessage(m);
    return FL_ERR_INTERNAL;
}

/* Links obj (copied) into a JIT instance of its own; *handle owns the code
 * (aot_llvm_unlink frees it); *info / *codes are its two exported tables. */
int aot_llvm_link_in_process(uint32_t abi_version, const uint8_t *obj, size_t n, void **handle,
                             const void **info, const void **codes, struct fl_error *err)
{
    if (abi_version != AOT_ABI_VERSION)
        return aotc_error(err, FL_ERR_INTERNAL,
                          "aot: compiler module is for ABI %u, not %u (stale build?)",
                          AOT_ABI_VERSION, abi_version);
    if (!aot_llvm_init())
        return aotc_error(err, FL_ERR_INTERNAL, "aot: LLVM has no native target");
    LLVMOrcLLJITRef jit = NULL;
    LLVMErrorRef e = LLVMOrcCreateLLJIT(&jit, NULL);
    if (e)
        return orc_error(err, "cannot create the in-process linker", e);
    LLVMOrcJITDylibRef jd = LLVMOrcLLJITGetMainJITDylib(jit);
    /* memcpy/memset and libm calls LLVM may emit resolve against the process. */
    LLVMOrcDefinitionGeneratorRef gen = NULL;
    e = LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(&gen, LLVMOrcLLJITGetGlobalPrefix(jit),
                                                             NULL, NULL);
    if (!e) {
        LLVMOrcJITDylibAddGenerator(jd, gen);
        LLVMMemoryBufferRef mb =
            LLVMCreateMemoryBufferWithMemoryRangeCopy((const char *)obj, n, "wasm.o");
        e = LLVMOrcLLJITAddObjectFile(jit, jd, mb);
    }
    LLVMOrcExecutorAddress ai = 0, ac = 0;
    if (!e)
        e = LLVMOrcLLJITLookup(jit, &ai, "faaslet_aot_info");
    if (!e)
        e = LLVMOrcLLJITLookup(jit, &ac, "faaslet_aot_code");
    if (e) {
        int rc = orc_error(err, "in-process link failed", e);
        LLVMErrorRef d = LLVMOrcDisposeLLJIT(jit);
        if (d)
            LLVMConsumeError(d);
        return rc;
    }
    *handle = jit;
    *info = (const void *)(uintptr_t)ai;
    *codes = (const void *)(uintptr_t)ac;
    return FL_OK;
}

/* Frees the code of an aot_llvm_link_in_process handle. */
void aot_llvm_unlink(void *handle)
{
    LLVMErrorRef e = LLVMOrcDisposeLLJIT(handle);
    if (e)
        LLVMConsumeError(e);
}
