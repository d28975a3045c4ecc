/* cache.c: the on-disk object cache. An entry is KEY.so plus KEY.meta, a
 * small text sidecar holding the key and the SHA-256 and size of the .so.
 * The key hashes everything the code depends on (module bytes, engine and
 * ABI version, struct layout, LLVM version, CPU name and features, options),
 * so a stale entry is simply never looked up; a truncated or tampered .so
 * fails the sidecar check and is rebuilt, never loaded. Entries are written
 * to temporary names and renamed into place, so readers never see half a file. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <llvm/Config/llvm-config.h> /* LLVM_VERSION_STRING only: no LLVM library here */
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#include <openssl/evp.h>

#include "aot/aot_internal.h"
#include "aot/cache.h"

#define META_MAGIC "faaslet-aot-cache 1"

static void to_hex(const uint8_t *d, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * n] = 0;
}

int aot_sha256(const void *data, size_t n, char hex[65])
{
    uint8_t d[32];
    unsigned len = 0;
    if (!EVP_Digest(data, n, d, &len, EVP_sha256(), NULL) || len != 32)
        return FL_ERR_INTERNAL;
    to_hex(d, 32, hex);
    return FL_OK;
}

const char *aot_cache_dir_default(char *buf, size_t n)
{
    const char *v = getenv("FAASLET_CACHE");
    if (v && *v) {
        snprintf(buf, n, "%s", v);
        return buf;
    }
    v = getenv("XDG_CACHE_HOME");
    if (v && *v) {
        snprintf(buf, n, "%s/faaslet", v);
        return buf;
    }
    v = getenv("HOME");
    if (v && *v) {
        snprintf(buf, n, "%s/.cache/faaslet", v);
        return buf;
    }
    return NULL;
}

void aot_cpu_identity(char *buf, size_t n)
{
#if defined(__x86_64__) || defined(__i386__)
    unsigned a = 0, b = 0, c = 0, d = 0, max = __get_cpuid_max(0, NULL);
    char vendor[13] = {0};
    __cpuid(0, a, b, c, d);
    memcpy(vendor, &b, 4);
    memcpy(vendor + 4, &d, 4);
    memcpy(vendor + 8, &c, 4);
    unsigned l1[4] = {0}, l7[4] = {0}, e1[4] = {0};
    __cpuid(1, l1[0], l1[1], l1[2], l1[3]);
    if (max >= 7)
        __cpuid_count(7, 0, l7[0], l7[1], l7[2], l7[3]);
    if ((unsigned)__get_cpuid_max(0x80000000, NULL) >= 0x80000001u)
        __cpuid(0x80000001, e1[0], e1[1], e1[2], e1[3]);
    unsigned long long xcr0 = 0;
    if (l1[2] & (1u << 27)) { /* OSXSAVE: which register states the OS saves */
        unsigned lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        xcr0 = ((unsigned long long)hi << 32) | lo;
    }
    /* l1[1] holds the APIC id of the current core: leave it out. */
    snprintf(buf, n, "%s sig %08x f1 %08x.%08x f7 %08x.%08x.%08x e1 %08x.%08x xcr0 %llx", vendor, l1[0],
             l1[2], l1[3], l7[1], l7[2], l7[3], e1[2], e1[3], xcr0);
#else
    snprintf(buf, n, "unknown-cpu");
#endif
}

int aot_cache_key(const struct wasm_module *module, const struct aot_options *opts, char key[65],
                  struct fl_error *err)
{
    char module_hash[65];
    if (aot_sha256(module->bytes, module->size, module_hash))
        return fl_error_set(err, FL_ERR_INTERNAL, "aot: SHA-256 failed");
    char cpu[256];
    aot_cpu_identity(cpu, sizeof cpu);
    /* The offsets generated code hard-codes: a change in these structs
     * must never load old code. */
    char layout[160];
    snprintf(layout, sizeof layout, "%zu.%zu.%zu.%zu.%zu.%zu.%zu.%zu.%zu",
             offsetof(struct runtime_func, invoke), offsetof(struct runtime_func, code),
             offsetof(struct runtime_func, instance), offsetof(struct runtime_func, type_id),
             offsetof(struct runtime_instance, tier_instance), offsetof(struct runtime_table, size),
             offsetof(struct runtime_table, elems), offsetof(struct runtime_memory, size),
             sizeof(struct aot_vmctx));
    char text[1024];
    int len = snprintf(text, sizeof text, "%s\nabi %u\nlayout %s\nllvm %s\ncpu %s\nO%d b%d i%d\nmodule %s\n",
                       AOT_ENGINE_VERSION, AOT_ABI_VERSION, layout, LLVM_VERSION_STRING, cpu,
                       opts->opt_level, opts->bounds_checks, opts->interrupt_checks, module_hash);
    if (len < 0 || len >= (int)sizeof text)
        return fl_error_set(err, FL_ERR_INTERNAL, "aot: cache key text too long");
    int rc = aot_sha256(text, (size_t)len, key);
    if (rc)
        return fl_error_set(err, FL_ERR_INTERNAL, "aot: SHA-256 failed");
    return FL_OK;
}

/* Reads a whole (small) file; *out malloc'd. */
static int read_fd(int fd, uint8_t **out, size_t *n)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0 || st.st_size > (1ll << 32))
        return -1;
    size_t size = (size_t)st.st_size;
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return -1;
    size_t done = 0;
    while (done < size) {
        ssize_t r = read(fd, buf + done, size - done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        done += (size_t)r;
    }
    if (done != size) {
        free(buf);
        return -1;
    }
    *out = buf;
    *n = size;
    return 0;
}

static void entry_paths(const char *dir, const char *key, char *so, char *meta, size_t n)
{
    snprintf(so, n, "%s/%s.so", dir, key);
    snprintf(meta, n, "%s/%s.meta", dir, key);
}

int aot_cache_verify(const char *so_path, const char *meta_path, const char *key, struct stat *st_out)
{
    char meta[512];
    FILE *f = fopen(meta_path, "re");
    if (!f)
        return -1;
    size_t n = fread(meta, 1, sizeof meta - 1, f);
    fclose(f);
    meta[n] = 0;
    char want_key[65] = "", want_hash[65] = "";
    unsigned long long want_size = 0;
    char magic[64];
    if (sscanf(meta, "%63[^\n]\nkey %64s\nsha256 %64s\nsize %llu", magic, want_key, want_hash, &want_size) != 4 ||
        strcmp(magic, META_MAGIC) != 0 || strcmp(want_key, key) != 0)
        return -1;
    int fd = open(so_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    uint8_t *data = NULL;
    size_t size = 0;
    int rc = read_fd(fd, &data, &size);
    if (rc == 0 && st_out && fstat(fd, st_out) != 0)
        rc = -1;
    close(fd);
    if (rc != 0)
        return -1;
    char hash[65];
    rc = (size == want_size && aot_sha256(data, size, hash) == 0 && strcmp(hash, want_hash) == 0) ? 0 : -1;
    free(data);
    return rc;
}

/* mkdir -p with 0700 for the parts we create. */
static int make_dirs(const char *path, struct fl_error *err)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return fl_error_set(err, FL_ERR_ARG, "aot: cache path too long");
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == 0) {
            char c = *p;
            *p = 0;
            if (mkdir(buf, 0700) != 0 && errno != EEXIST)
                return fl_error_set(err, FL_ERR_IO, "aot: cannot create cache folder %s: %s", buf,
                                    strerror(errno));
            *p = c;
            if (c == 0)
                break;
        }
    }
    return FL_OK;
}

/* Compiles into a temporary name in dir, writes the sidecar, renames both. */
static int rebuild(const struct wasm_module *module, const struct aot_options *opts, const char *dir,
                   const char *so_path, const char *meta_path, const char *key, struct fl_error *err)
{
    char tmp_so[4200], tmp_meta[4300];
    snprintf(tmp_so, sizeof tmp_so, "%s/.tmp-%s-XXXXXX", dir, key);
    int fd = mkstemp(tmp_so);
    if (fd < 0)
        return fl_error_set(err, FL_ERR_IO, "aot: cannot write in cache folder %s: %s", dir, strerror(errno));
    close(fd);
    snprintf(tmp_meta, sizeof tmp_meta, "%s.meta", tmp_so);
    int rc = aot_compile(module, opts, tmp_so, err);
    uint8_t *data = NULL;
    size_t size = 0;
    char hash[65];
    if (!rc) {
        fd = open(tmp_so, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || read_fd(fd, &data, &size) != 0 || aot_sha256(data, size, hash) != 0)
            rc = fl_error_set(err, FL_ERR_IO, "aot: cannot read back %s", tmp_so);
        if (fd >= 0)
            close(fd);
        free(data);
    }
    if (!rc) {
        FILE *f = fopen(tmp_meta, "we");
        if (!f) {
            rc = fl_error_set(err, FL_ERR_IO, "aot: cannot write %s: %s", tmp_meta, strerror(errno));
        } else {
            fprintf(f, "%s\nkey %s\nsha256 %s\nsize %zu\n", META_MAGIC, key, hash, size);
            if (fclose(f) != 0)
                rc = fl_error_set(err, FL_ERR_IO, "aot: cannot write %s", tmp_meta);
        }
    }
    /* .so first: a reader that sees the new meta also sees the new .so. */
    if (!rc && (rename(tmp_so, so_path) != 0 || rename(tmp_meta, meta_path) != 0))
        rc = fl_error_set(err, FL_ERR_IO, "aot: cannot move the compiled object into %s: %s", dir,
                          strerror(errno));
    unlink(tmp_so);
    unlink(tmp_meta);
    return rc;
}

int aot_cache_ensure_stat(const struct wasm_module *module, const struct aot_options *opts, char *so_path,
                          size_t n, bool *rebuilt, struct stat *st, struct fl_error *err)
{
    if (rebuilt)
        *rebuilt = false;
    if (!opts->cache_dir || !*opts->cache_dir)
        return fl_error_set(err, FL_ERR_ARG, "aot: no cache folder given");
    char key[65];
    int rc = aot_cache_key(module, opts, key, err);
    if (rc)
        return rc;
    char so[4200], meta[4200];
    entry_paths(opts->cache_dir, key, so, meta, sizeof so);
    if (strlen(so) + 1 > n)
        return fl_error_set(err, FL_ERR_ARG, "aot: cache path too long");
    if (aot_cache_verify(so, meta, key, st) == 0) {
        snprintf(so_path, n, "%s", so);
        return FL_OK;
    }
    rc = make_dirs(opts->cache_dir, err);
    if (!rc)
        rc = rebuild(module, opts, opts->cache_dir, so, meta, key, err);
    if (!rc && st && stat(so, st) != 0)
        rc = fl_error_set(err, FL_ERR_IO, "aot: %s vanished: %s", so, strerror(errno));
    if (rc)
        return rc;
    if (rebuilt)
        *rebuilt = true;
    snprintf(so_path, n, "%s", so);
    return FL_OK;
}

int aot_cache_ensure(const struct wasm_module *module, const struct aot_options *opts, char *so_path,
                     size_t n, bool *rebuilt, struct fl_error *err)
{
    return aot_cache_ensure_stat(module, opts, so_path, n, rebuilt, NULL, err);
}
