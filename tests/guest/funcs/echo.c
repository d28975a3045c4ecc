/* echo: output = input, byte for byte (any size, including 0 and binary).
 * Expect: input "abc" -> output "abc", return 0; no input -> empty output. */
#include <faasm/faasm.h>
#include <stdlib.h>

int main(void)
{
    long size = faasmGetInputSize();
    if (size <= 0) {
        faasmSetOutput(NULL, 0);
        return 0;
    }
    uint8_t *buf = malloc((size_t)size);
    if (buf == NULL) {
        return 2;
    }
    faasmGetInput(buf, size);
    faasmSetOutput(buf, size);
    free(buf);
    return 0;
}
