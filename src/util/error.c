/* error.c: formatting of struct fl_error. */
#include "util/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int fl_error_set(struct fl_error *err, int code, const char *fmt, ...)
{
    if (!err)
        return code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

int fl_error_prefix(struct fl_error *err, const char *fmt, ...)
{
    if (!err)
        return FL_ERR_INTERNAL;
    char prefix[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    /* Build "prefix: old" in place: move the old text right, then copy the
     * prefix in front; whatever does not fit is cut at the end. */
    size_t plen = strnlen(prefix, sizeof prefix);
    size_t cap = sizeof err->msg;
    if (plen + 2 >= cap)
        plen = cap - 3;
    size_t olen = strnlen(err->msg, cap - 1);
    if (plen + 2 + olen >= cap)
        olen = cap - 1 - plen - 2;
    memmove(err->msg + plen + 2, err->msg, olen);
    memcpy(err->msg, prefix, plen);
    err->msg[plen] = ':';
    err->msg[plen + 1] = ' ';
    err->msg[plen + 2 + olen] = '\0';
    return err->code;
}

void fl_error_clear(struct fl_error *err)
{
    if (!err)
        return;
    err->code = FL_OK;
    err->msg[0] = '\0';
}

const char *fl_error_name(int code)
{
    switch (code) {
    case FL_OK: return "ok";
    case FL_ERR_MALFORMED: return "malformed";
    case FL_ERR_INVALID: return "invalid";
    case FL_ERR_UNLINKABLE: return "unlinkable";
    case FL_ERR_NOMEM: return "out of memory";
    case FL_ERR_IO: return "i/o error";
    case FL_ERR_TRAP: return "trap";
    case FL_ERR_LIMIT: return "limit exceeded";
    case FL_ERR_ARG: return "bad argument";
    case FL_ERR_NOT_FOUND: return "not found";
    case FL_ERR_UNINSTANTIABLE: return "uninstantiable";
    default: return "internal error";
    }
}
