/* loop: never returns. Expect: the call is ended by the runtime's timeout
 * (a timeout error, non-zero return value) and the Faaslet is reusable. */
#include <faasm/faasm.h>

int main(void)
{
    volatile unsigned long spins = 0;
    for (;;) {
        spins++;
    }
}
