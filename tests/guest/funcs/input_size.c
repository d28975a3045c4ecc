/* input_size: reports the input size, and checks that a short buffer gets a
 * prefix only. Expect: input "hello world" -> output "11 he", return 0;
 * no input -> output "0 ", return 0. */
#include <faasm/faasm.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    long size = faasmGetInputSize();
    uint8_t two[3] = {0, 0, 0};
    faasmGetInput(two, size < 2 ? size : 2);
    char out[64];
    int n = snprintf(out, sizeof out, "%ld %s", size, (const char *)two);
    faasmSetOutput((const uint8_t *)out, n);
    return two[2] == 0 ? 0 : 1; /* byte 3 must not be written */
}
