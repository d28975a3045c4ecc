/* oom: allocates 1 MiB blocks until malloc fails, then writes to every byte
 * of every block. Built with a 64 MiB memory limit. Expect: malloc fails
 * cleanly (memory.grow returns -1, no trap), output "allocated N MiB" with
 * 32 <= N < 64, return 0. */
#include <faasm/faasm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK (1024 * 1024)
#define MAX_BLOCKS 4096

static char *blocks[MAX_BLOCKS];

int main(void)
{
    int n = 0;
    while (n < MAX_BLOCKS && (blocks[n] = malloc(BLOCK)) != NULL) {
        n++;
    }
    for (int i = 0; i < n; i++) {
        memset(blocks[i], i & 0xff, BLOCK);
    }
    char out[64];
    int len = snprintf(out, sizeof out, "allocated %d MiB", n);
    faasmSetOutput((const uint8_t *)out, len);
    return n >= 32 && n < 64 ? 0 : 1;
}
