/* chain_nested: a call chains itself by pointer N levels deep; each level
 * outputs N + its child's output. Expect: input "3" -> output "6"
 * (3+2+1+0), return 0; input "0" or none -> output "0". */
#include <faasm/faasm.h>
#include <stdio.h>
#include <stdlib.h>

static int level(void)
{
    char buf[32] = {0};
    long size = faasmGetInputSize();
    faasmGetInput((uint8_t *)buf, size < 31 ? size : 31);
    long n = strtol(buf, NULL, 10);
    long total = n;
    if (n > 0) {
        char next[32];
        int len = snprintf(next, sizeof next, "%ld", n - 1);
        unsigned int id = faasmChain(level, (const uint8_t *)next, len);
        char child[32] = {0};
        if (faasmAwaitCallOutput(id, (uint8_t *)child, sizeof child - 1) != 0) {
            return 1;
        }
        total += strtol(child, NULL, 10);
    }
    char out[32];
    int len = snprintf(out, sizeof out, "%ld", total);
    faasmSetOutput((const uint8_t *)out, len);
    return 0;
}

int main(void)
{
    return level();
}
