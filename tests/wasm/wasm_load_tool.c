/* wasm_load_tool.c: loads one .wasm file with wasm_module_load and prints
 * "ok" or "<kind>: <message>"; exit status 0 = ok, 1 = rejected, 2 = usage/io.
 * Used by the spec decode check and handy when debugging a module. */
#include <stdio.h>
#include <stdlib.h>

#include "wasm/wasm.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s file.wasm\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    size_t cap = 1 << 16, size = 0;
    unsigned char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + size, 1, cap - size, f)) > 0) {
        size += n;
        if (size == cap) {
            unsigned char *p = realloc(buf, cap *= 2);
            if (!p) {
                free(buf);
                buf = NULL;
            }
            buf = p;
        }
    }
    fclose(f);
    if (!buf) {
        fprintf(stderr, "out of memory\n");
        return 2;
    }
    struct wasm_module *m;
    struct fl_error err;
    int rc = wasm_module_load(buf, size, &m, &err);
    free(buf);
    if (rc != 0) {
        printf("%s: %s\n", fl_error_name(rc), err.msg);
        return 1;
    }
    printf("ok\n");
    wasm_module_destroy(m);
    return 0;
}
