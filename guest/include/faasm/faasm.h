/* faasm.h: the one header most Faasm functions include; everything in
 * faasm/core.h (and, like Faasm's, faasm/memory.h). */
#ifndef FAASM_FAASM_H
#define FAASM_FAASM_H

#include "faasm/core.h"
#include "faasm/memory.h"

#endif
