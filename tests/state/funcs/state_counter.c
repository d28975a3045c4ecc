/* state_counter: adds 1 to the shared 4-byte counter "sc_counter" N times
 * (input: decimal N, default 1) through faasmReadStatePtr, each time under
 * the host-local write lock, so concurrent calls on one host never lose an
 * increment. Output: "count=<value seen after its last increment>". */
#include <faasm/faasm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    char in[16] = {0};
    long n = faasmGetInputSize();
    if (n > 15) {
        n = 15;
    }
    faasmGetInput((uint8_t *)in, n);
    int times = n > 0 ? atoi(in) : 1;
    volatile uint32_t *counter = (volatile uint32_t *)faasmReadStatePtr("sc_counter", 4);
    uint32_t last = 0;
    for (int i = 0; i < times; i++) {
        faasmLockStateWrite("sc_counter");
        last = *counter + 1;
        *counter = last;
        faasmUnlockStateWrite("sc_counter");
    }
    char out[32];
    int len = snprintf(out, sizeof out, "count=%u", last);
    faasmSetOutput((const uint8_t *)out, len);
    return 0;
}
