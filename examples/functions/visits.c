/* visits: shared state. Key "visits" holds an 8-digit decimal count; each
 * call adds one under the key's write lock, pushes it to the global tier
 * and outputs "visit N". Seed it over HTTP: PUT /s/<user>/visits 00000041. */
#include <faasm/faasm.h>
#include <stdio.h>
#include <stdlib.h>

#define WIDTH 8

int main(void)
{
    const char *key = "visits";
    char text[WIDTH + 1] = "00000000";
    faasmLockStateWrite(key);
    if (faasmReadStateSize(key) == WIDTH) {
        faasmReadState(key, (uint8_t *)text, WIDTH);
    }
    long count = strtol(text, NULL, 10) + 1;
    snprintf(text, sizeof text, "%0*ld", WIDTH, count % 100000000);
    faasmWriteState(key, (const uint8_t *)text, WIDTH);
    faasmPushState(key);
    faasmUnlockStateWrite(key);

    char out[32];
    int n = snprintf(out, sizeof out, "visit %ld", count);
    faasmSetOutput((const uint8_t *)out, n);
    return 0;
}
