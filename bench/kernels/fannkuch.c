/* fannkuch.c: for every permutation of 0..n-1 (generated in lexicographic
 * order), repeatedly reverse the prefix whose length is the first element
 * plus one until the first element is 0; reports the maximum and total flip
 * counts. Usage: fannkuch [scale%] (the permutation set is walked repeatedly;
 * below 100% a prefix of it). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define N 10
#define BASE_PERMS 9072000L /* 2.5 x 10! */

/* Advances p to the next permutation in lexicographic order; 0 after the last. */
static int next_permutation(int *p, int n)
{
    int i = n - 2;
    while (i >= 0 && p[i] >= p[i + 1])
        i--;
    if (i < 0)
        return 0;
    int j = n - 1;
    while (p[j] <= p[i])
        j--;
    int t = p[i];
    p[i] = p[j];
    p[j] = t;
    for (int a = i + 1, b = n - 1; a < b; a++, b--) {
        t = p[a];
        p[a] = p[b];
        p[b] = t;
    }
    return 1;
}

static int count_flips(const int *p, int n)
{
    int q[N];
    for (int i = 0; i < n; i++)
        q[i] = p[i];
    int flips = 0;
    while (q[0] != 0) {
        for (int a = 0, b = q[0]; a < b; a++, b--) {
            int t = q[a];
            q[a] = q[b];
            q[b] = t;
        }
        flips++;
    }
    return flips;
}

int main(int argc, char **argv)
{
    long scale = argc > 1 ? strtol(argv[1], NULL, 10) : 100;
    if (scale < 1)
        scale = 1;
    if (scale > 100000)
        scale = 100000;
    long perms = BASE_PERMS * scale / 100;
    if (perms < 1)
        perms = 1;
    int p[N];
    for (int i = 0; i < N; i++)
        p[i] = i;
    long done = 0;
    int max_flips = 0;
    uint64_t total = 0, hash = 1469598103934665603ull;
    while (done < perms) {
        int f = count_flips(p, N);
        if (f > max_flips)
            max_flips = f;
        total += (uint64_t)f;
        if ((done & 1023) == 0)
            hash = (hash ^ (uint64_t)(f * 100 + p[N - 1])) * 1099511628211ull;
        done++;
        if (!next_permutation(p, N)) {
            for (int i = 0; i < N; i++)
                p[i] = i;
        }
    }
    printf("fannkuch n=%d perms=%ld max_flips=%d total_flips=%llu hash=%016llx\n", N, perms,
           max_flips, (unsigned long long)total, (unsigned long long)hash);
    return 0;
}
