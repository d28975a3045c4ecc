/* matmul.c: dense double-precision matrix multiply, C += A * B (i-k-j order).
 * Inputs are multiples of 2^-16 so every partial sum is exact: the checksum is
 * the same whatever the platform. Usage: matmul [scale%], default 100. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 256
#define BASE_REPS 70

static uint32_t lcg_state = 12345u;

static uint32_t lcg_next(void)
{
    lcg_state = lcg_state * 1664525u + 1013904223u;
    return lcg_state;
}

static int scale_reps(int argc, char **argv, int base)
{
    long scale = argc > 1 ? strtol(argv[1], NULL, 10) : 100;
    if (scale < 1)
        scale = 1;
    if (scale > 100000)
        scale = 100000;
    long reps = (base * scale + 99) / 100;
    return reps < 1 ? 1 : (int)reps;
}

int main(int argc, char **argv)
{
    int reps = scale_reps(argc, argv, BASE_REPS);
    double *a = malloc(sizeof(double) * N * N);
    double *b = malloc(sizeof(double) * N * N);
    double *c = calloc((size_t)N * N, sizeof(double));
    if (!a || !b || !c) {
        fprintf(stderr, "matmul: out of memory\n");
        return 1;
    }
    for (int i = 0; i < N * N; i++) {
        a[i] = ((int)(lcg_next() >> 16) - 32768) / 65536.0;
        b[i] = ((int)(lcg_next() >> 16) - 32768) / 65536.0;
    }
    for (int r = 0; r < reps; r++) {
        for (int i = 0; i < N; i++) {
            double *ci = c + (size_t)i * N;
            for (int k = 0; k < N; k++) {
                double aik = a[(size_t)i * N + k];
                const double *bk = b + (size_t)k * N;
                for (int j = 0; j < N; j++)
                    ci[j] += aik * bk[j];
            }
        }
        /* Perturb one input so no repetition can be folded into another. */
        a[(r * 7) % (N * N)] += 1.0 / 65536.0;
    }
    uint64_t hash = 1469598103934665603ull;
    double sum = 0.0;
    for (int i = 0; i < N * N; i++) {
        uint64_t bits;
        memcpy(&bits, &c[i], sizeof bits);
        hash = (hash ^ bits) * 1099511628211ull;
        sum += c[i];
    }
    printf("matmul n=%d reps=%d sum=%.6f hash=%016llx\n", N, reps, sum, (unsigned long long)hash);
    free(a);
    free(b);
    free(c);
    return 0;
}
