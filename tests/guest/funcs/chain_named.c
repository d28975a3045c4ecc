/* chain_named: chains the function "echo" (same user) by name with this
 * call's input, awaits its output and prefixes it.
 * Expect: input "ping" -> output "chained:ping", return 0 (echo's value). */
#include <faasm/faasm.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    uint8_t input[256];
    long size = faasmGetInputSize();
    if (size > (long)sizeof input) {
        size = sizeof input;
    }
    faasmGetInput(input, size);

    unsigned int id = faasmChainNamed("echo", input, size);
    uint8_t reply[256] = {0};
    unsigned int ret = faasmAwaitCallOutput(id, reply, sizeof reply - 1);

    char out[300];
    int n = snprintf(out, sizeof out, "chained:%s", (const char *)reply);
    faasmSetOutput((const uint8_t *)out, n);
    return (int)ret;
}
