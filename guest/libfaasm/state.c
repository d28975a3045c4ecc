/* state.c: libfaasm's state calls (whole values, chunks, appends, push/pull,
 * locks), each a thin wrapper over one __faasm_* host import; the semantics
 * live on the host side and are specified in docs/GUEST-API.md. */
#include "faasm/core.h"
#include "faasm/host_interface.h"

size_t faasmReadStateSize(const char *key)
{
    /* A zero length asks the host for the size without copying. */
    long size = __faasm_read_state(key, NULL, 0);
    return size > 0 ? (size_t)size : 0;
}

long faasmReadState(const char *key, unsigned char *buffer, long bufferLen)
{
    return __faasm_read_state(key, buffer, bufferLen);
}

uint8_t *faasmReadStatePtr(const char *key, long totalLen)
{
    return __faasm_read_state_ptr(key, totalLen);
}

void faasmWriteState(const char *key, const uint8_t *data, long dataLen)
{
    __faasm_write_state(key, data, dataLen);
}

unsigned long faasmWriteStateFromFile(const char *key, const char *filePath)
{
    return __faasm_write_state_from_file(key, filePath);
}

void faasmReadStateOffset(const char *key, long totalLen, long offset,
                          uint8_t *buffer, long bufferLen)
{
    __faasm_read_state_offset(key, totalLen, offset, buffer, bufferLen);
}

uint8_t *faasmReadStateOffsetPtr(const char *key, long totalLen, long offset,
                                 long len)
{
    return __faasm_read_state_offset_ptr(key, totalLen, offset, len);
}

void faasmWriteStateOffset(const char *key, long totalLen, long offset,
                           const uint8_t *data, long dataLen)
{
    __faasm_write_state_offset(key, totalLen, offset, data, dataLen);
}

void faasmFlagStateDirty(const char *key, long totalLen)
{
    __faasm_flag_state_dirty(key, totalLen);
}

void faasmFlagStateOffsetDirty(const char *key, long totalLen, long offset,
                               long len)
{
    __faasm_flag_state_offset_dirty(key, totalLen, offset, len);
}

void faasmAppendState(const char *key, const uint8_t *data, long dataLen)
{
    __faasm_append_state(key, data, dataLen);
}

void faasmReadAppendedState(const char *key, uint8_t *buffer, long bufferLen,
                            long nElems)
{
    __faasm_read_appended_state(key, buffer, bufferLen, nElems);
}

void faasmClearAppendedState(const char *key)
{
    __faasm_clear_appended_state(key);
}

void faasmPushState(const char *key)
{
    __faasm_push_state(key);
}

void faasmPushStatePartial(const char *key)
{
    __faasm_push_state_partial(key);
}

void faasmPushStatePartialMask(const char *key, const char *maskKey)
{
    __faasm_push_state_partial_mask(key, maskKey);
}

void faasmPullState(const char *key, long stateLen)
{
    __faasm_pull_state(key, stateLen);
}

void faasmLockStateRead(const char *key)
{
    __faasm_lock_state_read(key);
}

void faasmUnlockStateRead(const char *key)
{
    __faasm_unlock_state_read(key);
}

void faasmLockStateWrite(const char *key)
{
    __faasm_lock_state_write(key);
}

void faasmUnlockStateWrite(const char *key)
{
    __faasm_unlock_state_write(key);
}

void faasmLockStateGlobal(const char *key)
{
    __faasm_lock_state_global(key);
}

void faasmUnlockStateGlobal(const char *key)
{
    __faasm_unlock_state_global(key);
}
