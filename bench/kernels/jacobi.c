/* jacobi.c: 2D Jacobi relaxation (5-point stencil) on a double grid with a
 * fixed hot boundary, swapping two buffers each sweep; prints the interior
 * sum and a bit hash. Usage: jacobi [scale%] (scales the sweeps). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIZE 384
#define BASE_SWEEPS 5000

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
    int sweeps = scale_reps(argc, argv, BASE_SWEEPS);
    double *cur = calloc((size_t)SIZE * SIZE, sizeof(double));
    double *next = calloc((size_t)SIZE * SIZE, sizeof(double));
    if (!cur || !next) {
        fprintf(stderr, "jacobi: out of memory\n");
        return 1;
    }
    /* Boundary: top edge hot, left edge warm, rest cold. */
    for (int i = 0; i < SIZE; i++) {
        cur[i] = next[i] = 100.0;
        cur[(size_t)i * SIZE] = next[(size_t)i * SIZE] = 50.0;
    }
    for (int s = 0; s < sweeps; s++) {
        for (int y = 1; y < SIZE - 1; y++) {
            const double *up = cur + (size_t)(y - 1) * SIZE;
            const double *row = cur + (size_t)y * SIZE;
            const double *down = cur + (size_t)(y + 1) * SIZE;
            double *out = next + (size_t)y * SIZE;
            for (int x = 1; x < SIZE - 1; x++)
                out[x] = 0.25 * (up[x] + down[x] + row[x - 1] + row[x + 1]);
        }
        double *t = cur;
        cur = next;
        next = t;
    }
    double sum = 0.0;
    uint64_t hash = 1469598103934665603ull;
    for (int y = 1; y < SIZE - 1; y++) {
        for (int x = 1; x < SIZE - 1; x++) {
            double v = cur[(size_t)y * SIZE + x];
            uint64_t bits;
            memcpy(&bits, &v, sizeof bits);
            hash = (hash ^ bits) * 1099511628211ull;
            sum += v;
        }
    }
    printf("jacobi size=%d sweeps=%d sum=%.6f hash=%016llx\n", SIZE, sweeps, sum,
           (unsigned long long)hash);
    free(cur);
    free(next);
    return 0;
}
