/* trap: executes `unreachable` after setting some output. Expect: the call
 * fails with a trap (an "unreachable" error), non-zero return value; the
 * runtime and other Faaslets carry on. */
#include <faasm/faasm.h>

int main(void)
{
    faasmSetOutput((const uint8_t *)"before trap", 11);
    __builtin_trap();
}
