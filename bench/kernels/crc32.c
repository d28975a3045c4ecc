/* crc32.c: table-driven CRC-32 (IEEE, reflected polynomial 0xEDB88320) over
 * a 4 MiB pseudo-random buffer, repeated; each CRC is folded back into the
 * buffer. Checks the "123456789" vector first. Usage: crc32 [scale%]. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUF_SIZE (4 << 20)
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

static void crc_table_init(uint32_t table[256])
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
}

static uint32_t crc32(const uint32_t table[256], const uint8_t *data, size_t len)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++)
        c = table[(c ^ data[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

int main(int argc, char **argv)
{
    int reps = scale_reps(argc, argv, BASE_REPS);
    uint32_t table[256];
    crc_table_init(table);
    if (crc32(table, (const uint8_t *)"123456789", 9) != 0xCBF43926u) {
        fprintf(stderr, "crc32: self-test failed\n");
        return 1;
    }
    uint8_t *buf = malloc(BUF_SIZE);
    if (!buf) {
        fprintf(stderr, "crc32: out of memory\n");
        return 1;
    }
    uint32_t seed = 31337u;
    for (int i = 0; i < BUF_SIZE; i++) {
        seed = seed * 1664525u + 1013904223u;
        buf[i] = (uint8_t)(seed >> 24);
    }
    uint32_t crc = 0;
    uint64_t hash = 1469598103934665603ull;
    for (int r = 0; r < reps; r++) {
        crc = crc32(table, buf, BUF_SIZE);
        memcpy(buf + (r * 4) % (BUF_SIZE - 4), &crc, 4);
        hash = (hash ^ crc) * 1099511628211ull;
    }
    printf("crc32 bytes=%d reps=%d crc=%08x hash=%016llx\n", BUF_SIZE, reps, crc,
           (unsigned long long)hash);
    free(buf);
    return 0;
}
