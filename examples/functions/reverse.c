/* reverse: outputs its input backwards ("stressed" -> "desserts"). */
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
        return 1;
    }
    faasmGetInput(buf, size);
    for (long i = 0, j = size - 1; i < j; i++, j--) {
        uint8_t t = buf[i];
        buf[i] = buf[j];
        buf[j] = t;
    }
    faasmSetOutput(buf, size);
    free(buf);
    return 0;
}
