/* engine.c: the embedding API (include/faaslet/faaslet.h) over the runtime
 * and a tier. */
#include "faaslet/faaslet.h"
