/* cli.h: the subcommands of the `faaslet` command; main.c dispatches to
 * them. Each takes the arguments after its own name (argv[0] is the
 * subcommand) and returns the process exit status. */
#ifndef FL_CLI_CLI_H
#define FL_CLI_CLI_H

/* faaslet wast [--tier=interp] [-v] FILE.wast...: runs spec test scripts. */
int cli_wast(int argc, char **argv);
/* Why the assertion at line of script path expecting text no longer holds
 * (a later specification overrides it), or NULL (cli_wast_superseded.c). */
const char *cli_wast_superseded(const char *path, int line, const char *expected);

/* faaslet run ...: runs a WebAssembly function (WASI command). */
int cli_run(int argc, char **argv);

/* faaslet codegen [--cache DIR] [-O N] FILE.wasm...: ahead-of-time
 * compilation into the object cache (cli_codegen.c). */
int cli_codegen(int argc, char **argv);

/* faaslet upload [--store DIR] USER FUNC FILE.wasm: stores a function. */
int cli_upload(int argc, char **argv);

/* faaslet invoke USER FUNC [options]: runs one call and prints its result. */
int cli_invoke(int argc, char **argv);

/* faaslet serve [options]: the HTTP API server (cli_serve.c). */
int cli_serve(int argc, char **argv);

#endif
