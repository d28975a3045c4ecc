/* mandelbrot.c: escape-time iteration counts over a grid of the Mandelbrot
 * set (double precision); prints the total iterations and a row hash.
 * Usage: mandelbrot [scale%] (scales the vertical resolution, so every scale
 * covers the whole picture). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define WIDTH 640
#define BASE_ROWS 480
#define MAX_ITER 2000

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
    int rows = scale_reps(argc, argv, BASE_ROWS);
    uint64_t total = 0, hash = 1469598103934665603ull;
    for (int y = 0; y < rows; y++) {
        double ci = -1.2 + 2.4 * y / rows;
        uint32_t row_sum = 0;
        for (int x = 0; x < WIDTH; x++) {
            double cr = -2.2 + 3.2 * x / WIDTH;
            double zr = 0.0, zi = 0.0;
            int n = 0;
            while (n < MAX_ITER) {
                double zr2 = zr * zr, zi2 = zi * zi;
                if (zr2 + zi2 > 4.0)
                    break;
                zi = 2.0 * zr * zi + ci;
                zr = zr2 - zi2 + cr;
                n++;
            }
            row_sum += (uint32_t)n;
        }
        total += row_sum;
        hash = (hash ^ row_sum) * 1099511628211ull;
    }
    printf("mandelbrot width=%d rows=%d iterations=%llu hash=%016llx\n", WIDTH, rows,
           (unsigned long long)total, (unsigned long long)hash);
    return 0;
}
