/* trap_oob.c: a load far past the end of linear memory traps. */
#include <stdint.h>
#include <stdio.h>

int main(void)
{
    volatile uint32_t addr = 0xFFFFFFF0u;
    printf("loading\n");
    fflush(stdout);
    return *(volatile int *)(uintptr_t)addr;
}
