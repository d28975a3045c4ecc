/* hello.c: the smallest WASI command: prints its arguments and environment. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    printf("Hello from WebAssembly!\n");
    for (int i = 0; i < argc; i++)
        printf("argv[%d] = %s\n", i, argv[i]);
    const char *user = getenv("USER_NAME");
    printf("USER_NAME = %s\n", user ? user : "(unset)");
    return 0;
}
