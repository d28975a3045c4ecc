/* spin: busy-waits for the number of milliseconds given as input (default
 * 200), then outputs "spun N". Expect: a call that takes about N ms and
 * succeeds (the HTTP tests use it for calls in flight during a drain). */
#include <faasm/faasm.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(void)
{
    char in[32] = {0};
    long size = faasmGetInputSize();
    if (size > 0 && size < (long)sizeof in) {
        faasmGetInput((uint8_t *)in, size);
    }
    long ms = in[0] ? atol(in) : 200;
    long long end = now_ms() + ms;
    while (now_ms() < end) {
    }
    char out[32];
    int n = snprintf(out, sizeof out, "spun %ld", ms);
    faasmSetOutput((const uint8_t *)out, n);
    return 0;
}
