/* noop: the benchmark's function: does nothing and returns 0, so a call
 * measures the HTTP server, the executor and a Faaslet's reset. */
#include <faasm/faasm.h>

int main(void)
{
    return 0;
}
