/* chain_batch: faasmChainBatch runs a function of this module N times with
 * the same string input and awaits them all.
 * Expect: output "ok=0 bad=1", return 0: a batch of 4 calls that check their
 * input is "batch" returns 0; a batch of 3 where each call fails returns 1. */
#include <faasm/faasm.h>
#include <stdio.h>
#include <string.h>

static int worker(void)
{
    char buf[16] = {0};
    long size = faasmGetInputSize();
    if (size != 5) {
        return 3;
    }
    faasmGetInput((uint8_t *)buf, size);
    return strcmp(buf, "batch") == 0 ? 0 : 4;
}

static int failing_worker(void)
{
    return 9;
}

int main(void)
{
    unsigned int ok = faasmChainBatch(worker, "batch", 4);
    unsigned int bad = faasmChainBatch(failing_worker, "x", 3);
    char out[32];
    int n = snprintf(out, sizeof out, "ok=%u bad=%u", ok, bad);
    faasmSetOutput((const uint8_t *)out, n);
    return ok == 0 && bad == 1 ? 0 : 1;
}
