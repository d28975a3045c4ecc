/* state_ptr: shared state through pointers mapped into linear memory.
 * Input "write": fills key "sp_shared" (8192 bytes) through faasmReadStatePtr
 * with byte i = i % 251, flags it dirty, pushes; chunk 4096..4099 is set to
 * "WXYZ" through faasmReadStateOffsetPtr, flagged and pushed partially.
 * Input "read" (a later call, possibly another Faaslet): checks the pattern
 * through its own pointer and a copy. Expect: output "ptr ok", return 0
 * for both; a mismatch returns 1.., output "ptr bad N". */
#include <faasm/faasm.h>
#include <stdio.h>
#include <string.h>

#define LEN 8192

static int fail(int step)
{
    char out[32];
    int n = snprintf(out, sizeof out, "ptr bad %d", step);
    faasmSetOutput((const uint8_t *)out, n);
    return step;
}

static int expected(long i)
{
    if (i >= 4096 && i < 4100) {
        return "WXYZ"[i - 4096];
    }
    return (int)(i % 251);
}

int main(void)
{
    char mode[8] = {0};
    long size = faasmGetInputSize();
    faasmGetInput((uint8_t *)mode, size < 7 ? size : 7);

    uint8_t *p = faasmReadStatePtr("sp_shared", LEN);
    if (p == NULL) {
        return fail(1);
    }
    if (strcmp(mode, "write") == 0) {
        faasmLockStateWrite("sp_shared");
        for (long i = 0; i < LEN; i++) {
            p[i] = (uint8_t)(i % 251);
        }
        faasmFlagStateDirty("sp_shared", LEN);
        faasmPushState("sp_shared");
        uint8_t *chunk = faasmReadStateOffsetPtr("sp_shared", LEN, 4096, 4);
        if (chunk != p + 4096) {
            faasmUnlockStateWrite("sp_shared");
            return fail(2); /* same mapping, so the same address */
        }
        memcpy(chunk, "WXYZ", 4);
        faasmFlagStateOffsetDirty("sp_shared", LEN, 4096, 4);
        faasmPushStatePartial("sp_shared");
        faasmUnlockStateWrite("sp_shared");
    } else {
        faasmLockStateRead("sp_shared");
        for (long i = 0; i < LEN; i++) {
            if (p[i] != expected(i)) {
                faasmUnlockStateRead("sp_shared");
                return fail(3);
            }
        }
        faasmUnlockStateRead("sp_shared");
        uint8_t copy[16];
        faasmReadStateOffset("sp_shared", LEN, 4094, copy, 8);
        for (long i = 0; i < 8; i++) {
            if (copy[i] != expected(4094 + i)) {
                return fail(4);
            }
        }
    }
    const char *out = "ptr ok";
    faasmSetOutput((const uint8_t *)out, (long)strlen(out));
    return 0;
}
