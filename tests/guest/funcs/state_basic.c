/* state_basic: every copying state call on one user's keys, checking each
 * result itself. Expect: output "state ok", return 0 (on a fresh store; the
 * first failing step's number is returned otherwise, output "state step N").
 * Leaves key "sb_value" = "HELLO world" (11 bytes) pushed to the global tier. */
#include <faasm/faasm.h>
#include <stdio.h>
#include <string.h>

static int fail(int step)
{
    char out[32];
    int n = snprintf(out, sizeof out, "state step %d", step);
    faasmSetOutput((const uint8_t *)out, n);
    return step;
}

int main(void)
{
    const char *key = "sb_value";
    faasmWriteState(key, (const uint8_t *)"hello world", 11);
    if (faasmReadStateSize(key) != 11) {
        return fail(1);
    }
    unsigned char buf[32] = {0};
    if (faasmReadState(key, buf, 11) != 11 || memcmp(buf, "hello world", 11) != 0) {
        return fail(2);
    }
    faasmWriteStateOffset(key, 11, 0, (const uint8_t *)"HELLO", 5);
    uint8_t part[6] = {0};
    faasmReadStateOffset(key, 11, 0, part, 5);
    if (memcmp(part, "HELLO", 5) != 0) {
        return fail(3);
    }
    faasmReadStateOffset(key, 11, 6, part, 5);
    if (memcmp(part, "world", 5) != 0) {
        return fail(4);
    }
    faasmPushState(key);
    faasmPullState(key, 11);
    memset(buf, 0, sizeof buf);
    faasmReadState(key, buf, 11);
    if (memcmp(buf, "HELLO world", 11) != 0) {
        return fail(5);
    }

    /* Appends: three 2-byte elements read back concatenated. */
    const char *akey = "sb_appended";
    faasmClearAppendedState(akey);
    faasmAppendState(akey, (const uint8_t *)"ab", 2);
    faasmAppendState(akey, (const uint8_t *)"cd", 2);
    faasmAppendState(akey, (const uint8_t *)"ef", 2);
    uint8_t app[7] = {0};
    faasmReadAppendedState(akey, app, 6, 3);
    if (memcmp(app, "abcdef", 6) != 0) {
        return fail(6);
    }
    faasmClearAppendedState(akey);

    /* A key that was never written has size 0. */
    if (faasmReadStateSize("sb_never_written") != 0) {
        return fail(7);
    }
    const char *out = "state ok";
    faasmSetOutput((const uint8_t *)out, (long)strlen(out));
    return 0;
}
