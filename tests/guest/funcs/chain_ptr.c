/* chain_ptr: chains a function of this module by pointer. The child reads a
 * decimal number and outputs its double; the parent awaits the output.
 * Expect: input "21" -> output "42", return 0. A second chained call to
 * child_fails must return 7 from faasmAwaitCall, else main returns 1. */
#include <faasm/faasm.h>
#include <stdio.h>
#include <stdlib.h>

static int child_double(void)
{
    char buf[32] = {0};
    long size = faasmGetInputSize();
    faasmGetInput((uint8_t *)buf, size < 31 ? size : 31);
    char out[32];
    int n = snprintf(out, sizeof out, "%ld", 2 * strtol(buf, NULL, 10));
    faasmSetOutput((const uint8_t *)out, n);
    return 0;
}

static int child_fails(void)
{
    return 7;
}

int main(void)
{
    uint8_t input[32] = {0};
    long size = faasmGetInputSize();
    faasmGetInput(input, size < 31 ? size : 31);

    unsigned int id = faasmChain(child_double, input, size < 31 ? size : 31);
    uint8_t out[32] = {0};
    unsigned int ret = faasmAwaitCallOutput(id, out, sizeof out - 1);
    if (ret != 0) {
        return 2;
    }
    faasmSetOutput(out, (long)__builtin_strlen((const char *)out));

    unsigned int failing = faasmChain(child_fails, NULL, 0);
    return faasmAwaitCall(failing) == 7 ? 0 : 1;
}
