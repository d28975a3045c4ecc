/* trap_nullfn.c: calling a null function pointer traps (call_indirect of
 * table entry 0, which wasm-ld leaves empty). */
#include <stdio.h>

typedef int (*fn_t)(int);
fn_t volatile target;

int main(void)
{
    printf("calling null\n");
    fflush(stdout);
    return target(1);
}
