/* error.h: the one error record every fallible function fills.
 * A function returns 0 or a negative FL_ERR_* code and writes one line a user
 * can act on into the caller's struct fl_error. */
#ifndef FL_UTIL_ERROR_H
#define FL_UTIL_ERROR_H

enum fl_error_code {
    FL_OK = 0,
    FL_ERR_MALFORMED = -1,   /* binary cannot be decoded */
    FL_ERR_INVALID = -2,     /* decodes but fails validation */
    FL_ERR_UNLINKABLE = -3,  /* imports do not match */
    FL_ERR_NOMEM = -4,       /* allocation or reservation failed */
    FL_ERR_IO = -5,          /* file or socket error */
    FL_ERR_TRAP = -6,        /* wasm code trapped */
    FL_ERR_LIMIT = -7,       /* a configured limit was exceeded */
    FL_ERR_ARG = -8,         /* bad argument from the caller or user */
    FL_ERR_NOT_FOUND = -9,   /* named thing does not exist */
    FL_ERR_UNINSTANTIABLE = -10, /* instantiation failed (segment out of bounds, start trapped) */
    FL_ERR_INTERNAL = -11,
};

struct fl_error {
    int code;
    char msg[256];
};

/* Sets err (if non-NULL) to code and a printf-formatted message; returns code. */
int fl_error_set(struct fl_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends "prefix: " to err's message, keeping its code; returns the code. */
int fl_error_prefix(struct fl_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Clears err to FL_OK and an empty message. */
void fl_error_clear(struct fl_error *err);

/* Name of an error code, e.g. "malformed". Static string. */
const char *fl_error_name(int code);

#endif
