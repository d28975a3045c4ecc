/* fuzz_load.c: libFuzzer target for the wasm decoder and validator. Any input
 * must give a module or a clean error: no crash, leak, hang or UB.
 * To fuzz deeper parts (instantiate, run), extend fuzz_one() below. */
#include <stddef.h>
#include <stdint.h>

#include "wasm/wasm.h"

static void fuzz_one(const uint8_t *data, size_t size)
{
    struct wasm_module *module = NULL;
    struct fl_error err;
    if (wasm_module_load(data, size, &module, &err) != 0)
        return;
    /* Touch what users of a loaded module read, so bad pointers show up here. */
    char name[64];
    for (uint32_t i = 0; i < module->func_count; i++) {
        const struct wasm_functype *type = wasm_module_func_type(module, i);
        (void)type;
        wasm_module_func_name(module, i, name, sizeof name);
    }
    wasm_module_destroy(module);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_one(data, size);
    return 0;
}
