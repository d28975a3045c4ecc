/* malloc.c: many allocations of many sizes, then one that grows memory. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 2000

int main(void)
{
    static unsigned char *blocks[N];
    static size_t sizes[N];
    uint32_t seed = 12345;
    size_t total = 0;
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < N; i++) {
            seed = seed * 1103515245u + 12345u;
            size_t size = 1 + (seed >> 8) % (i % 10 == 0 ? 65536 : 512);
            blocks[i] = malloc(size);
            if (!blocks[i]) {
                printf("malloc(%zu) failed\n", size);
                return 1;
            }
            sizes[i] = size;
            memset(blocks[i], (i + round) & 0xff, size);
            total += size;
        }
        for (int i = 0; i < N; i++) {
            for (size_t j = 0; j < sizes[i]; j++)
                if (blocks[i][j] != ((i + round) & 0xff)) {
                    printf("block %d corrupted at %zu\n", i, j);
                    return 1;
                }
            /* free every other one first, then the rest, to fragment */
            if (i % 2 == 0)
                free(blocks[i]);
        }
        for (int i = 1; i < N; i += 2)
            free(blocks[i]);
    }
    printf("allocated %zu bytes in %d blocks: ok\n", total, 3 * N);
    void *p = realloc(NULL, 10);
    p = realloc(p, 100000);
    printf("realloc: %s\n", p ? "ok" : "failed");
    free(p);
    size_t big = 64u << 20;
    unsigned char *b = malloc(big);
    if (!b) {
        printf("big malloc failed\n");
        return 1;
    }
    for (size_t i = 0; i < big; i += 4096)
        b[i] = (unsigned char)(i >> 12);
    unsigned sum = 0;
    for (size_t i = 0; i < big; i += 4096)
        sum += b[i];
    printf("64 MiB block: sum %u\n", sum);
    free(b);
    return 0;
}
