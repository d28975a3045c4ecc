/* core.h: the Faasm C API that function code calls: input and output, chaining
 * other calls, shared state, configuration flags and the zygote hook. Source
 * compatible with Faasm's faasm/core.h; implemented by libfaasm over the host
 * imports in faasm/host_interface.h (contract: docs/GUEST-API.md). */
#ifndef FAASM_CORE_H
#define FAASM_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define BYTES(arr) reinterpret_cast<uint8_t *>(arr)
#define BYTES_CONST(arr) reinterpret_cast<const uint8_t *>(arr)
extern "C" {
#else
#define BYTES(arr) ((uint8_t *)(arr))
#define BYTES_CONST(arr) ((const uint8_t *)(arr))
#endif

/* A function of this module that can be chained by pointer: no arguments,
 * returns the call's return value (0 = success). */
typedef int (*FaasmFuncPtr)();

/* ---- Input and output ---- */

/* Returns the size of this call's input in bytes (0 if there is none). */
long faasmGetInputSize(void);

/* Copies up to bufferLen bytes of the input into the caller's buffer. */
void faasmGetInput(uint8_t *buffer, long bufferLen);

/* Sets this call's output to a copy of the given bytes (replaces any earlier). */
void faasmSetOutput(const uint8_t *newOutput, long outputLen);

/* ---- Chaining ---- */

/* Starts a call of another function of this user; returns its call id. */
unsigned int faasmChainNamed(const char *name, const uint8_t *inputData,
                             long inputDataSize);

/* Starts a call of a function of this module (by pointer); returns its call id. */
unsigned int faasmChain(FaasmFuncPtr funcPtr, const uint8_t *inputData,
                        long inputDataSize);

/* Chains funcPtr nFuncs times, each with the string inputData as input, and
 * awaits them all: 0 if every call returned 0, else 1. */
unsigned int faasmChainBatch(FaasmFuncPtr funcPtr, const char *inputData,
                             int nFuncs);

/* Blocks until the call finishes; returns its return value (non-zero = failed). */
unsigned int faasmAwaitCall(unsigned int callId);

/* Like faasmAwaitCall, and copies up to bufferLen bytes of its output. */
unsigned int faasmAwaitCallOutput(unsigned int callId, uint8_t *buffer,
                                  long bufferLen);

/* ---- State: whole values ---- */

/* Returns the size in bytes of the value at key (0 if it has none). */
size_t faasmReadStateSize(const char *key);

/* Reads the value at key into the buffer; returns the value's size. */
long faasmReadState(const char *key, unsigned char *buffer, long bufferLen);

/* Returns a pointer to the host's shared copy of the value, mapped into this
 * Faaslet's memory (no copy); valid until the end of the call. */
uint8_t *faasmReadStatePtr(const char *key, long totalLen);

/* Overwrites the value at key with a copy of data. */
void faasmWriteState(const char *key, const uint8_t *data, long dataLen);

/* Sets the value at key to the contents of a file; returns its size in bytes. */
unsigned long faasmWriteStateFromFile(const char *key, const char *filePath);

/* ---- State: chunks ---- */

/* Reads bufferLen bytes from offset of the value (totalLen bytes long). */
void faasmReadStateOffset(const char *key, long totalLen, long offset,
                          uint8_t *buffer, long bufferLen);

/* Returns a shared pointer to byte `offset` of the value (totalLen bytes). */
uint8_t *faasmReadStateOffsetPtr(const char *key, long totalLen, long offset,
                                 long len);

/* Writes dataLen bytes at offset of the value (totalLen bytes long). */
void faasmWriteStateOffset(const char *key, long totalLen, long offset,
                           const uint8_t *data, long dataLen);

/* Marks the whole value as modified (after writing through a pointer). */
void faasmFlagStateDirty(const char *key, long totalLen);

/* Marks len bytes at offset as modified. */
void faasmFlagStateOffsetDirty(const char *key, long totalLen, long offset,
                               long len);

/* ---- State: append-only values ---- */

/* Appends one element (a copy of data) to the value at key. */
void faasmAppendState(const char *key, const uint8_t *data, long dataLen);

/* Reads the first nElems appended elements, concatenated, into the buffer. */
void faasmReadAppendedState(const char *key, uint8_t *buffer, long bufferLen,
                            long nElems);

/* Removes every appended element of the value at key. */
void faasmClearAppendedState(const char *key);

/* ---- State: local and global tiers ---- */

/* Pushes the whole host-local value to the global tier. */
void faasmPushState(const char *key);

/* Pushes only the chunks flagged dirty. */
void faasmPushStatePartial(const char *key);

/* Pushes only the bytes whose byte in the value at maskKey is non-zero. */
void faasmPushStatePartialMask(const char *key, const char *maskKey);

/* Replaces the host-local value with the global one (stateLen bytes). */
void faasmPullState(const char *key, long stateLen);

/* ---- State: locks ---- */

/* Host-local reader/writer locks on a value, and a lock across all hosts. */
void faasmLockStateRead(const char *key);
void faasmUnlockStateRead(const char *key);
void faasmLockStateWrite(const char *key);
void faasmUnlockStateWrite(const char *key);
void faasmLockStateGlobal(const char *key);
void faasmUnlockStateGlobal(const char *key);

/* ---- Runtime ---- */

/* Returns 1 if the runtime's configuration flag `key` is on, else 0. */
unsigned int getConfFlag(const char *key);

/* Asks the runtime to print this Faaslet's call stack (depth frames). */
void faasmBacktrace(const int depth);

/* The zygote runs once, when the runtime snapshots a new function; globals it
 * sets are what every call starts from. Define it with FAASM_ZYGOTE() { ... }
 * returning 0 on success. */
int __attribute__((weak)) _faasm_zygote();
#define FAASM_ZYGOTE() int _faasm_zygote()

/* Older Faasm entry-point macros: a function is now a plain WASI command, so
 * these just name main() and ordinary chainable functions. */
#define FAASM_MAIN_FUNC() int main(void)
#define FAASM_FUNC(name, idx) int name(void)

#ifdef __cplusplus
}

/* Newer Faasm releases take char buffers here; accept any byte-sized element
 * type. Templates, so that nullptr and 0 still pick the C function above. */
template <typename C>
inline void faasmSetOutput(const C *newOutput, long outputLen)
{
    static_assert(sizeof(C) == 1, "faasmSetOutput takes a byte buffer");
    faasmSetOutput(reinterpret_cast<const uint8_t *>(newOutput), outputLen);
}

template <typename C>
inline unsigned int faasmAwaitCallOutput(unsigned int callId, C *buffer,
                                         long bufferLen)
{
    static_assert(sizeof(C) == 1, "faasmAwaitCallOutput takes a byte buffer");
    return faasmAwaitCallOutput(callId, reinterpret_cast<uint8_t *>(buffer),
                                bufferLen);
}

template <typename C>
inline unsigned int faasmChainNamed(const char *name, const C *inputData,
                                    long inputDataSize)
{
    static_assert(sizeof(C) == 1, "faasmChainNamed takes a byte buffer");
    return faasmChainNamed(name, reinterpret_cast<const uint8_t *>(inputData),
                           inputDataSize);
}

template <typename C>
inline unsigned int faasmChain(FaasmFuncPtr funcPtr, const C *inputData,
                               long inputDataSize)
{
    static_assert(sizeof(C) == 1, "faasmChain takes a byte buffer");
    return faasmChain(funcPtr, reinterpret_cast<const uint8_t *>(inputData),
                      inputDataSize);
}

template <typename C>
inline void faasmGetInput(C *buffer, long bufferLen)
{
    static_assert(sizeof(C) == 1, "faasmGetInput takes a byte buffer");
    faasmGetInput(reinterpret_cast<uint8_t *>(buffer), bufferLen);
}
#endif

#endif
