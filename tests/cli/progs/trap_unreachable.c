/* trap_unreachable.c: __builtin_trap is wasm `unreachable`. */
#include <stdio.h>

__attribute__((noinline)) static void crash_here(int x)
{
    if (x > 0)
        __builtin_trap();
}

int main(int argc, char **argv)
{
    (void)argv;
    printf("about to trap\n");
    fflush(stdout);
    crash_here(argc);
    printf("not reached\n");
    return 0;
}
