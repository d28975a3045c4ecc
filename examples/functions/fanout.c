/* fanout: chaining. Calls "reverse" once per space-separated word of its
 * input, all at once, then awaits each and joins the outputs:
 * input "live evil stop" -> output "evil live pots". Returns the first
 * non-zero return value of a chained call, if any. */
#include <faasm/faasm.h>
#include <string.h>

#define MAX_WORDS 16

int main(void)
{
    char in[256] = {0};
    long size = faasmGetInputSize();
    if (size > (long)sizeof in - 1) {
        size = sizeof in - 1;
    }
    faasmGetInput((uint8_t *)in, size);

    unsigned int ids[MAX_WORDS];
    int words = 0;
    for (char *w = strtok(in, " "); w != NULL && words < MAX_WORDS; w = strtok(NULL, " ")) {
        ids[words++] = faasmChainNamed("reverse", (const uint8_t *)w, (long)strlen(w));
    }
    char out[512] = {0};
    size_t used = 0;
    int status = 0;
    for (int i = 0; i < words; i++) {
        char part[256] = {0};
        unsigned int ret = faasmAwaitCallOutput(ids[i], (uint8_t *)part, sizeof part - 1);
        if (ret != 0 && status == 0) {
            status = (int)ret;
        }
        size_t n = strlen(part);
        if (used + n + 2 < sizeof out) {
            if (used > 0) {
                out[used++] = ' ';
            }
            memcpy(out + used, part, n);
            used += n;
        }
    }
    faasmSetOutput((const uint8_t *)out, (long)used);
    return status;
}
