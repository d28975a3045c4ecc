/* chain_missing: chains a function that does not exist. The chain itself
 * succeeds (an id); awaiting it reports failure.
 * Expect: output "missing failed", return 0 (1 if the await returned 0). */
#include <faasm/faasm.h>
#include <string.h>

int main(void)
{
    unsigned int id = faasmChainNamed("no_such_function_xyz", NULL, 0);
    unsigned int ret = faasmAwaitCall(id);
    const char *out = ret != 0 ? "missing failed" : "missing succeeded?";
    faasmSetOutput((const uint8_t *)out, (long)strlen(out));
    return ret != 0 ? 0 : 1;
}
