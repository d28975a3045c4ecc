/* state_read: outputs the state value whose key is the input (its whole
 * size, pulled from the global tier). Expect: after PUT /s/<user>/k "abc",
 * input "k" -> output "abc"; a missing or empty key -> output "", return 1. */
#include <faasm/faasm.h>
#include <stdlib.h>

int main(void)
{
    char key[128] = {0};
    long size = faasmGetInputSize();
    if (size <= 0 || size >= (long)sizeof key) {
        return 1;
    }
    faasmGetInput((uint8_t *)key, size);
    long len = faasmReadStateSize(key);
    if (len <= 0) {
        faasmSetOutput(NULL, 0);
        return 1;
    }
    uint8_t *buf = malloc((size_t)len);
    if (buf == NULL) {
        return 2;
    }
    faasmReadState(key, buf, len);
    faasmSetOutput(buf, len);
    free(buf);
    return 0;
}
