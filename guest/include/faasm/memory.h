/* memory.h: kept so that functions including Faasm's faasm/memory.h build.
 * Faasm needed a memory.grow reference here to stop one runtime shrinking
 * memory; faaslet maps state pages itself, so nothing is needed. */
#ifndef FAASM_MEMORY_H
#define FAASM_MEMORY_H
#endif
