/* faaslet.h: the embedding API of the faaslet WebAssembly engine.
 * Load and validate a module, link imports to host functions, instantiate,
 * call an export, read the trap. Handles are opaque; each _create/_load has a
 * matching _destroy and the comment on each function says who owns what.
 * (Implemented in src/runtime/engine.c over the runtime and a tier.) */
#ifndef FASLET_FAASLET_H
#define FASLET_FAASLET_H
/* Contents are written by the engine work: see docs/ARCHITECTURE.md. */
#endif
