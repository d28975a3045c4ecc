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
    char old[sizeof err->msg];
    memcpy(old, err->msg, sizeof old);
    snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, old);
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
