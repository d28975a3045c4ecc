/* zygote: FAASM_ZYGOTE runs once before the snapshot and sets globals every
 * call then starts from. Expect: output "zygote=42 calls=1 table=ready",
 * return 0, on every call (main's own changes are undone by the reset). */
#include <faasm/faasm.h>
#include <stdio.h>
#include <string.h>

static int answer;
static char table[16];
static int calls;

FAASM_ZYGOTE()
{
    answer = 42;
    strcpy(table, "ready");
    return 0;
}

int main(void)
{
    calls++;
    char out[64];
    int n = snprintf(out, sizeof out, "zygote=%d calls=%d table=%s", answer, calls, table);
    faasmSetOutput((const uint8_t *)out, n);
    answer = -1; /* must not leak into the next call */
    strcpy(table, "dirty");
    return 0;
}
