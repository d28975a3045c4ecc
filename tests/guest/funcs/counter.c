/* counter: a static counts calls in this memory. With the reset to the
 * snapshot after each call, every call sees 1. Expect: output "1", return 0
 * (a runtime that kept memory between calls would show 2, 3, ...). */
#include <faasm/faasm.h>
#include <stdio.h>

static int count;

int main(void)
{
    count++;
    char out[16];
    int n = snprintf(out, sizeof out, "%d", count);
    faasmSetOutput((const uint8_t *)out, n);
    return 0;
}
