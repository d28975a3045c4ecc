/* cache.h: internals of the object cache shared with the loader. */
#ifndef FL_AOT_CACHE_H
#define FL_AOT_CACHE_H

#include <sys/stat.h>

#include "aot/aot.h"

/* SHA-256 of data as 64 hex digits. */
int aot_sha256(const void *data, size_t n, char hex[65]);

/* 0 if meta_path names key and so_path's bytes match its SHA-256 and size;
 * fills *st_out (may be NULL) with the verified file's identity. */
int aot_cache_verify(const char *so_path, const char *meta_path, const char *key, struct stat *st_out);

/* Like aot_cache_ensure, and fills *st with the identity of the verified .so. */
int aot_cache_ensure_stat(const struct wasm_module *module, const struct aot_options *opts, char *so_path,
                          size_t n, bool *rebuilt, struct stat *st, struct fl_error *err);

#endif
