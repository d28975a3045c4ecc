/* chain_trivial: chains a function that does nothing, N times in a row
 * (input: decimal N), awaiting each before the next, so the time per chain
 * is the chain + await round trip itself, not the callee's work. */
#include <faasm/faasm.h>
#include <stdlib.h>

static int noop(void)
{
    return 0;
}

int main(void)
{
    char in[16] = {0};
    long size = faasmGetInputSize();
    faasmGetInput((uint8_t *)in, size < 15 ? size : 15);
    long n = strtol(in, NULL, 10);
    for (long i = 0; i < n; i++)
        if (faasmAwaitCall(faasmChain(noop, NULL, 0)) != 0)
            return 1;
    return 0;
}
