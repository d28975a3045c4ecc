/* quicksort.c: an own quicksort (median-of-three, insertion sort for short
 * runs, recursion on the smaller side) of pseudo-random 32-bit ints from an
 * LCG; verifies the order and prints a position-weighted hash.
 * Usage: quicksort [scale%]. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define COUNT (1 << 20)
#define BASE_REPS 6

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

static void insertion_sort(int32_t *a, long n)
{
    for (long i = 1; i < n; i++) {
        int32_t v = a[i];
        long j = i - 1;
        while (j >= 0 && a[j] > v) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = v;
    }
}

static void swap(int32_t *a, int32_t *b)
{
    int32_t t = *a;
    *a = *b;
    *b = t;
}

static void quicksort(int32_t *a, long n)
{
    while (n > 16) {
        long mid = n / 2;
        if (a[mid] < a[0])
            swap(&a[mid], &a[0]);
        if (a[n - 1] < a[0])
            swap(&a[n - 1], &a[0]);
        if (a[n - 1] < a[mid])
            swap(&a[n - 1], &a[mid]);
        int32_t pivot = a[mid];
        long i = 0, j = n - 1;
        for (;;) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i >= j)
                break;
            swap(&a[i], &a[j]);
            i++;
            j--;
        }
        /* a[0..j] <= pivot <= a[j+1..n-1]; recurse on the smaller part. */
        long left = j + 1, right = n - left;
        if (left < right) {
            quicksort(a, left);
            a += left;
            n = right;
        } else {
            quicksort(a + left, right);
            n = left;
        }
    }
    insertion_sort(a, n);
}

int main(int argc, char **argv)
{
    int reps = scale_reps(argc, argv, BASE_REPS);
    int32_t *a = malloc(sizeof(int32_t) * COUNT);
    if (!a) {
        fprintf(stderr, "quicksort: out of memory\n");
        return 1;
    }
    uint32_t seed = 99u;
    uint64_t hash = 1469598103934665603ull;
    for (int r = 0; r < reps; r++) {
        for (long i = 0; i < COUNT; i++) {
            seed = seed * 1664525u + 1013904223u;
            /* Some runs draw from a narrow range so duplicates are common. */
            a[i] = (r & 1) ? (int32_t)(seed >> 20) : (int32_t)seed;
        }
        quicksort(a, COUNT);
        for (long i = 1; i < COUNT; i++) {
            if (a[i - 1] > a[i]) {
                fprintf(stderr, "quicksort: not sorted at %ld\n", i);
                return 1;
            }
        }
        for (long i = 0; i < COUNT; i += 1021)
            hash = (hash ^ (uint32_t)a[i]) * 1099511628211ull;
    }
    printf("quicksort count=%d reps=%d min=%d max=%d hash=%016llx\n", COUNT, reps, (int)a[0],
           (int)a[COUNT - 1], (unsigned long long)hash);
    free(a);
    return 0;
}
