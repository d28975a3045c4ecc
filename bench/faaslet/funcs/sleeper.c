/* sleeper: sleeps for the input's number of milliseconds (nanosleep, i.e.
 * WASI poll_oneoff on a clock), then outputs "awake". */
#include <faasm/faasm.h>
#include <stdlib.h>
#include <time.h>

int main(void)
{
    char in[24] = {0};
    long size = faasmGetInputSize();
    faasmGetInput((uint8_t *)in, size < 23 ? size : 23);
    long ms = strtol(in, NULL, 10);
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    if (nanosleep(&ts, NULL) != 0)
        return 1;
    faasmSetOutput((const uint8_t *)"awake", 5);
    return 0;
}
