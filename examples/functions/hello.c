/* hello: a first Faasm-style function: greets its input.
 * input "Ada" -> output "Hello, Ada, from a Faaslet!"; no input -> "world". */
#include <faasm/faasm.h>
#include <stdio.h>

int main(void)
{
    char name[64] = "world";
    long size = faasmGetInputSize();
    if (size > 0) {
        if (size > (long)sizeof name - 1) {
            size = sizeof name - 1;
        }
        faasmGetInput((uint8_t *)name, size);
        name[size] = '\0';
    }
    char out[128];
    int n = snprintf(out, sizeof out, "Hello, %s, from a Faaslet!", name);
    faasmSetOutput((const uint8_t *)out, n);
    return 0;
}
