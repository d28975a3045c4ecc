/* plain: a WASI command built with plain clang (no faaslet-cc, no
 * _faasm_init): the host skips init/zygote and still runs it. Keeps a
 * counter in a static, so a reset shows: exits with the count (1). */
#include <stdio.h>

static int calls;

int main(void)
{
    calls++;
    printf("plain call %d\n", calls);
    return calls;
}
