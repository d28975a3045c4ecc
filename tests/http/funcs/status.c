/* status: returns the integer given as input and outputs "rv=N".
 * Expect: input "3" -> output "rv=3", return value 3 (HTTP 500 on a sync
 * call); input "0" -> "rv=0", 200. */
#include <faasm/faasm.h>
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    char in[16] = {0};
    long size = faasmGetInputSize();
    if (size > 0 && size < (long)sizeof in) {
        faasmGetInput((uint8_t *)in, size);
    }
    int rv = atoi(in);
    char out[32];
    int n = snprintf(out, sizeof out, "rv=%d", rv);
    faasmSetOutput((const uint8_t *)out, n);
    return rv;
}
