/* cli_upload.c: `faaslet upload USER FUNC FILE.wasm`: validates a module,
 * code-generates it (unless --no-codegen) and stores it in the function
 * store (see src/faaslet/store.c). Exit status: 0 stored; 1 invalid module,
 * code generation failed, bad name or I/O error (nothing stored); 2 bad
 * usage. */
#include "cli/cli.h"

#include "faaslet/faaslet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(void)
{
    fprintf(stderr,
            "usage: faaslet upload [--store DIR] [--no-codegen] [--bounds-checks] USER FUNC FILE.wasm\n"
            "  stores FILE.wasm as USER/FUNC/function.wasm in the function store\n"
            "  (--store, else $FAASLET_STORE, else $XDG_DATA_HOME/faaslet, else\n"
            "  ~/.local/share/faaslet) after validating it and generating its native\n"
            "  code next to it (skipped with --no-codegen or $FAASLET_TIER=interp, for\n"
            "  machines without LLVM; --bounds-checks: code for `--bounds-checked`\n"
            "  servers); names: 1-%d characters of A-Z a-z 0-9 _ . - not starting with '.'\n",
            FAASLET_MAX_NAME);
    return 2;
}

int cli_upload(int argc, char **argv)
{
    const char *store_opt = NULL;
    struct faaslet_upload_options opts = {.tier = FAASLET_TIER_DEFAULT};
    const char *pos[3];
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage();
            return 0;
        }
        if (!strcmp(argv[i], "--store") && i + 1 < argc) {
            store_opt = argv[++i];
        } else if (!strncmp(argv[i], "--store=", 8)) {
            store_opt = argv[i] + 8;
        } else if (!strcmp(argv[i], "--no-codegen")) {
            opts.tier = FAASLET_TIER_INTERP;
        } else if (!strcmp(argv[i], "--bounds-checks")) {
            opts.bounds_checks = true;
        } else if (argv[i][0] == '-' && argv[i][1] == '-') {
            fprintf(stderr, "faaslet upload: unknown option %s\n", argv[i]);
            return usage();
        } else if (npos < 3) {
            pos[npos++] = argv[i];
        } else {
            return usage();
        }
    }
    if (npos != 3)
        return usage();
    struct fl_error err;
    fl_error_clear(&err);
    char store[4096];
    if (faaslet_store_dir(store_opt, store, sizeof store, &err)) {
        fprintf(stderr, "faaslet upload: %s\n", err.msg);
        return 1;
    }
    uint8_t *wasm = NULL;
    size_t len = 0;
    if (faaslet_read_file(pos[2], &wasm, &len, &err)) {
        fprintf(stderr, "faaslet upload: %s\n", err.msg);
        return 1;
    }
    int rc = faaslet_store_upload_opts(store, pos[0], pos[1], wasm, len, &opts, &err);
    free(wasm);
    if (rc) {
        fprintf(stderr, "faaslet upload: %s: %s; nothing stored\n", pos[2], err.msg);
        return 1;
    }
    printf("uploaded %s/%s (%zu bytes) to %s\n", pos[0], pos[1], len, store);
    return 0;
}
