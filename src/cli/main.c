/* main.c: the `faaslet` command: dispatches to a subcommand (cli.h). */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

#ifdef __SANITIZE_ADDRESS__
#define FL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FL_ASAN 1
#endif
#endif

#ifdef FL_ASAN
/* The runtime turns guard-page faults into wasm traps with its own SIGSEGV
 * handler; AddressSanitizer must let it install one. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "allow_user_segv_handler=1:handle_segv=0:detect_leaks=1";
}
#endif

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
};

static const struct command commands[] = {
    {"run", cli_run, "run a WebAssembly function"},
    {"upload", cli_upload, "validate a function and put it in the function store"},
    {"invoke", cli_invoke, "run a call of a stored function and print its result"},
    {"serve", cli_serve, "run the HTTP API server (Faasm-compatible upload and invoke)"},
    {"wast", cli_wast, "run WebAssembly spec test scripts (.wast)"},
    {"codegen", cli_codegen, "compile modules to native code into the object cache"},
};

static int usage(FILE *out)
{
    fprintf(out, "usage: faaslet <command> [args]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].help);
    return out == stdout ? 0 : 2;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr);
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))
        return usage(stdout);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "faaslet: unknown command '%s'\n", argv[1]);
    return usage(stderr);
}
