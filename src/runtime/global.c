/* global.c: global variables, and constant expressions (which read globals
 * and name functions). */
#include "runtime/runtime_internal.h"
#include "wasm/opcodes.h"

#include <stdlib.h>
#include <string.h>

struct runtime_global *runtime_global_create(struct runtime_store *store,
                                             const struct wasm_globaltype *type,
                                             const uint64_t cells[2])
{
    struct runtime_global *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->type = type->type;
    g->is_mutable = type->is_mutable;
    if (cells) {
        g->cells[0] = cells[0];
        g->cells[1] = cells[1];
    }
    pthread_mutex_lock(&store->lock);
    bool ok = runtime_ptrs_push(&store->globals, g);
    pthread_mutex_unlock(&store->lock);
    if (!ok) {
        free(g);
        return NULL;
    }
    return g;
}

void runtime_const_eval(struct runtime_instance *instance, const struct wasm_const_expr *expr,
                        uint64_t cells[2])
{
    cells[0] = cells[1] = 0;
    switch (expr->opcode) {
    case WASM_OP_I32_CONST:
    case WASM_OP_F32_CONST:
        cells[0] = expr->value.i32;
        break;
    case WASM_OP_I64_CONST:
    case WASM_OP_F64_CONST:
        cells[0] = expr->value.i64;
        break;
    case 0xFD0C: /* v128.const: low half first */
        memcpy(cells, expr->value.v128, 16);
        break;
    case WASM_OP_GLOBAL_GET: {
        const struct runtime_global *g = instance->globals[expr->index];
        cells[0] = g->cells[0];
        cells[1] = g->cells[1];
        break;
    }
    case WASM_OP_REF_FUNC:
        cells[0] = (uintptr_t)instance->funcs[expr->index];
        break;
    case WASM_OP_REF_NULL:
    default:
        break;
    }
}
