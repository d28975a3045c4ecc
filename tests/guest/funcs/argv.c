/* argv: prints its command line (the message's cmdline split on spaces;
 * argv[0] is the function name). Expect: cmdline "a bb ccc" -> stdout lines
 * "argc=4", "argv[1]=a", "argv[2]=bb", "argv[3]=ccc"; output "a bb ccc"
 * (argv[1..] joined by spaces); return argc - 1 (3 here, 0 with no args). */
#include <faasm/faasm.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    char out[512];
    size_t used = 0;
    out[0] = '\0';
    printf("argc=%d\n", argc);
    for (int i = 1; i < argc; i++) {
        printf("argv[%d]=%s\n", i, argv[i]);
        int n = snprintf(out + used, sizeof out - used, "%s%s", i > 1 ? " " : "", argv[i]);
        if (n < 0 || (size_t)n >= sizeof out - used) {
            break;
        }
        used += (size_t)n;
    }
    faasmSetOutput((const uint8_t *)out, (long)used);
    return argc - 1;
}
