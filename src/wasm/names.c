/* names.c: the custom "name" section (module and function names) and UTF-8
 * checking. Names are a debugging aid: a malformed name section is ignored,
 * never an error, so a module loads the same with or without it. */
#include <stdlib.h>
#include <string.h>

#include "wasm/wasm_internal.h"

bool wasm_utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t cp, min;
        if ((c & 0xE0) == 0xC0) {
            len = 2, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (n - i < len)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

/* Reads a name into a fresh NUL-terminated string; NULL on any problem. */
static char *read_name(struct wasm_reader *r)
{
    uint32_t len;
    const uint8_t *bytes;
    if (!wasm_read_u32(r, &len) || len > WASM_MAX_NAME || !wasm_read_bytes(r, len, &bytes) ||
        !wasm_utf8_valid(bytes, len))
        return NULL;
    char *s = malloc((size_t)len + 1);
    if (!s)
        return NULL;
    memcpy(s, bytes, len);
    s[len] = '\0';
    return s;
}

static void forget_names(struct wasm_module *m)
{
    free(m->name);
    m->name = NULL;
    for (uint32_t i = 0; i < m->func_count; i++) {
        free((void *)m->funcs[i].name);
        m->funcs[i].name = NULL;
    }
}

/* Function name map: vec(funcidx name), indices strictly increasing. */
static bool read_function_names(struct wasm_module *m, struct wasm_reader *r)
{
    uint32_t n;
    if (!wasm_read_u32(r, &n) || n > wasm_reader_remaining(r) / 2)
        return false;
    uint64_t last = UINT64_MAX;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t idx;
        if (!wasm_read_u32(r, &idx) || idx >= m->func_count ||
            (last != UINT64_MAX && idx <= last))
            return false;
        last = idx;
        char *name = read_name(r);
        if (!name)
            return false;
        m->funcs[idx].name = name;
    }
    return wasm_reader_at_end(r);
}

static bool read_names(struct wasm_decoder *d)
{
    struct wasm_module *m = d->module;
    struct wasm_reader r;
    wasm_reader_init(&r, m->bytes, d->name_section, d->name_section + d->name_section_size);
    int last_id = -1;
    while (!wasm_reader_at_end(&r)) {
        uint8_t id;
        uint32_t size;
        const uint8_t *body;
        if (!wasm_read_u8(&r, &id) || (int)id <= last_id || !wasm_read_u32(&r, &size) ||
            !wasm_read_bytes(&r, size, &body))
            return false;
        last_id = id;
        struct wasm_reader sr;
        wasm_reader_init(&sr, r.base, body, body + size);
        if (id == 0) {
            m->name = read_name(&sr);
            if (!m->name || !wasm_reader_at_end(&sr))
                return false;
        } else if (id == 1) {
            if (!read_function_names(m, &sr))
                return false;
        }
        /* Other subsections (locals, labels, ...) are not used. */
    }
    return true;
}

void wasm_names_read(struct wasm_decoder *d)
{
    if (!d->name_section)
        return;
    if (!read_names(d))
        forget_names(d->module);
}
