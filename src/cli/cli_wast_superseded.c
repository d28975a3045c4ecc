/* cli_wast_superseded.c: spec-script assertions that a later specification
 * overrides. The threads proposal's scripts predate reference types (part
 * of WebAssembly 2.0), so a few of their expectations contradict 2.0. The
 * runner counts these as "superseded" and always prints them with the
 * reason below; anything not listed here is a plain failure. Each entry
 * names the script, line and expected text exactly, so an edited script
 * cannot match by accident. */
#include <string.h>

#include "cli/cli.h"

struct superseded {
    const char *script; /* path suffix */
    int line;
    const char *expected;
    const char *why;
};

static const struct superseded table[] = {
    {"threads/imports.wast", 310, "multiple tables",
     "WebAssembly 2.0 (reference types) allows several tables, imported or defined"},
    {"threads/imports.wast", 314, "multiple tables",
     "WebAssembly 2.0 (reference types) allows several tables, imported or defined"},
    {"threads/imports.wast", 318, "multiple tables",
     "WebAssembly 2.0 (reference types) allows several tables, imported or defined"},
};

const char *cli_wast_superseded(const char *path, int line, const char *expected)
{
    size_t n = strlen(path);
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        const struct superseded *e = &table[i];
        size_t k = strlen(e->script);
        if (e->line == line && n >= k && !strcmp(path + n - k, e->script) &&
            (n == k || path[n - k - 1] == '/') && expected && !strcmp(expected, e->expected))
            return e->why;
    }
    return NULL;
}
