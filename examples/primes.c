/* primes.c: a compute kernel: counts primes below N with a sieve and times
 * itself with the WASI monotonic clock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 10000000;
    if (n < 2 || n > 200000000) {
        fprintf(stderr, "N must be in [2, 200000000]\n");
        return 2;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char *composite = calloc((size_t)n, 1);
    if (!composite)
        return 1;
    long count = 0;
    for (long i = 2; i < n; i++) {
        if (composite[i])
            continue;
        count++;
        for (long j = i * i; j < n; j += i)
            composite[j] = 1;
    }
    free(composite);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
    printf("%ld primes below %ld (%.1f ms)\n", count, n, ms);
    return 0;
}
