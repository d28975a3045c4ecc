/* sieve.c: sieve of Eratosthenes over a byte array, repeated with a slightly
 * different limit each time; prints the prime counts' running hash.
 * Usage: sieve [scale%]. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIMIT (1 << 22)
#define BASE_REPS 40

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

/* Marks composites in flags[0..limit] and returns the number of primes. */
static uint32_t sieve(uint8_t *flags, uint32_t limit, uint32_t *largest)
{
    memset(flags, 1, limit + 1);
    flags[0] = flags[1] = 0;
    for (uint32_t i = 2; i * i <= limit; i++) {
        if (!flags[i])
            continue;
        for (uint32_t j = i * i; j <= limit; j += i)
            flags[j] = 0;
    }
    uint32_t count = 0;
    for (uint32_t i = 2; i <= limit; i++) {
        if (flags[i]) {
            count++;
            *largest = i;
        }
    }
    return count;
}

int main(int argc, char **argv)
{
    int reps = scale_reps(argc, argv, BASE_REPS);
    uint8_t *flags = malloc(LIMIT + 1);
    if (!flags) {
        fprintf(stderr, "sieve: out of memory\n");
        return 1;
    }
    uint64_t hash = 1469598103934665603ull;
    uint32_t count = 0, largest = 0;
    for (int r = 0; r < reps; r++) {
        count = sieve(flags, LIMIT - (uint32_t)r * 997u, &largest);
        hash = (hash ^ count) * 1099511628211ull;
        hash = (hash ^ largest) * 1099511628211ull;
    }
    printf("sieve limit=%d reps=%d primes=%u largest=%u hash=%016llx\n", LIMIT, reps, count,
           largest, (unsigned long long)hash);
    free(flags);
    return 0;
}
