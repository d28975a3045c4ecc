/* conf_flag: reads runtime configuration flags and asks for a backtrace.
 * Expect: output "unknown=0", return 0 (getConfFlag of a flag the runtime
 * does not know is 0; faasmBacktrace only prints to the runtime's log). */
#include <faasm/faasm.h>
#include <stdio.h>

int main(void)
{
    unsigned int unknown = getConfFlag("NO_SUCH_FLAG");
    faasmBacktrace(4);
    char out[32];
    int n = snprintf(out, sizeof out, "unknown=%u", unknown);
    faasmSetOutput((const uint8_t *)out, n);
    return unknown == 0 ? 0 : 1;
}
