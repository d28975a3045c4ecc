/* interp.h: tier 0, the interpreter. At load each function body is compiled
 * once into an internal code (operands addressed as frame slots, branch
 * targets resolved, common sequences fused) that a direct-threaded loop runs. */
#ifndef FL_INTERP_INTERP_H
#define FL_INTERP_INTERP_H

#include "runtime/runtime.h"
#include "wasm/wasm.h"

struct interp_module;

/* Compiles every defined function of a validated module; the result is owned
 * by the caller (interp_module_destroy) and must not outlive module. */
struct interp_module *interp_module_compile(const struct wasm_module *module,
                                            struct fl_error *err);
void interp_module_destroy(struct interp_module *imodule);

/* The tier descriptor to pass to runtime_instantiate with an interp_module. */
extern const struct runtime_tier interp_tier;

#endif
