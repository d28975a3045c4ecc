/* core.c: libfaasm's input/output, chaining and runtime calls, each a thin
 * wrapper over one __faasm_* host import (docs/GUEST-API.md). Built for
 * wasm32-wasi by the project's CMake, never for the host. */
#include "faasm/core.h"
#include "faasm/host_interface.h"

long faasmGetInputSize(void)
{
    /* A zero length asks the host for the size without copying. */
    return __faasm_read_input(NULL, 0);
}

void faasmGetInput(uint8_t *buffer, long bufferLen)
{
    if (bufferLen <= 0) {
        return; /* a zero length would mean "size" to the host, not "copy" */
    }
    __faasm_read_input(buffer, bufferLen);
}

void faasmSetOutput(const uint8_t *newOutput, long outputLen)
{
    __faasm_write_output(newOutput, outputLen);
}

unsigned int faasmChainNamed(const char *name, const uint8_t *inputData,
                             long inputDataSize)
{
    return __faasm_chain_name(name, inputData, inputDataSize);
}

unsigned int faasmChain(FaasmFuncPtr funcPtr, const uint8_t *inputData,
                        long inputDataSize)
{
    return __faasm_chain_ptr((int (*)(void))funcPtr, inputData, inputDataSize);
}

unsigned int faasmChainBatch(FaasmFuncPtr funcPtr, const char *inputData,
                             int nFuncs)
{
    /* Chains in groups so no allocation is needed; calls in a group run in
     * parallel, and groups are big enough for any realistic batch. */
    enum { GROUP = 256 };
    unsigned int ids[GROUP];
    long len = 0;
    unsigned int failed = 0;

    while (inputData != NULL && inputData[len] != '\0') {
        len++;
    }
    for (int done = 0; done < nFuncs;) {
        int n = nFuncs - done < GROUP ? nFuncs - done : GROUP;
        for (int i = 0; i < n; i++) {
            ids[i] = faasmChain(funcPtr, (const uint8_t *)inputData, len);
        }
        for (int i = 0; i < n; i++) {
            if (faasmAwaitCall(ids[i]) != 0) {
                failed = 1;
            }
        }
        done += n;
    }
    return failed;
}

unsigned int faasmAwaitCall(unsigned int callId)
{
    return (unsigned int)__faasm_await_call(callId);
}

unsigned int faasmAwaitCallOutput(unsigned int callId, uint8_t *buffer,
                                  long bufferLen)
{
    return (unsigned int)__faasm_await_call_output(callId, buffer, bufferLen);
}

unsigned int getConfFlag(const char *key)
{
    return __faasm_conf_flag(key);
}

void faasmBacktrace(const int depth)
{
    __faasm_backtrace(depth);
}
