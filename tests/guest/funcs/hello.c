/* hello: the smallest function.
 * Expect: stdout "Hello from a Faaslet", output "hello", return 0 (any input). */
#include <faasm/faasm.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    printf("Hello from a Faaslet\n");
    const char *out = "hello";
    faasmSetOutput((const uint8_t *)out, (long)strlen(out));
    return 0;
}
