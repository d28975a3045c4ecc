/* cli_wast.c: `faaslet wast`, the spec test script runner. Each .wast is
 * converted by wabt's wast2json into a command list plus binary modules,
 * then every command runs against a fresh store with the `spectest` host
 * module. Text-format modules (assert_malformed/assert_invalid on quoted
 * text) cannot reach a binary engine: wat2wasm must reject them, and they
 * are counted in their own column so nothing is silently skipped. */
#define _GNU_SOURCE /* mkdtemp */
#include "cli/cli.h"

#include "aot/aot.h"
#include "interp/interp.h"
#include "runtime/runtime.h"
#include "wasm/wasm.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* cJSON strings end at a NUL, but export names may hold NULs: before
 * parsing, each \u0000 escape becomes this private-use character (U+E000),
 * and names map it back, unless the script already used that character. */
#define NUL_MARKER "\xee\x80\x80"
#define NUL_MARKER_ESCAPE "\\uE000"

#define MAX_DETAILS 5      /* failure lines printed per script (all with -v) */
#define MAX_VALUES 1000    /* arguments / results of one action */

struct wast_totals {
    unsigned long passed, failed, text, superseded;
};

/* A loaded module and its compiled code, freed after the store. */
struct loaded {
    struct wasm_module *module;
    struct interp_module *code;
    struct aot_module *aot;   /* --tier=aot */
};

struct named {
    char *name;
    struct runtime_instance *instance;
};

struct script {
    const char *path;
    const char *dir;          /* temporary folder with the converted files */
    bool threads;             /* converted with --enable-threads */
    bool verbose;
    bool aot;                 /* --tier=aot: compiled code instead of the interpreter */
    bool nul_marked;          /* \u0000 was rewritten to NUL_MARKER */
    struct runtime_store *store;
    struct runtime_linker *linker;
    struct runtime_exec exec;
    bool exec_ready;
    struct runtime_instance *current;
    struct named *names;
    size_t name_count, name_cap;
    struct loaded *loaded;
    size_t loaded_count, loaded_cap;
    unsigned passed, failed, text, shown;
    unsigned superseded;      /* see cli_wast_superseded.c; always printed */
    char details[MAX_DETAILS][320];
};

/* A value as the runner sees it: type plus up to two cells. For expected
 * values, nan says "nan:canonical" (1) / "nan:arithmetic" (2) per lane and
 * any_ref says "any non-null reference". */
struct wast_value {
    uint8_t type;
    uint8_t lane_type; /* v128: 'b' i8, 'h' i16, 'i' i32, 'l' i64, 'f' f32, 'd' f64 */
    uint64_t cells[2];
    uint8_t nan[16];
    bool any_ref;
};

static void fail(struct script *s, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(struct script *s, int line, const char *fmt, ...)
{
    s->failed++;
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (s->verbose) {
        printf("      line %d: %s\n", line, msg);
    } else if (s->shown < MAX_DETAILS) {
        snprintf(s->details[s->shown], sizeof s->details[0], "line %d: %s", line, msg);
        s->shown++;
    }
}

/* Runs argv (a wabt tool) quietly; returns its exit status or -1. */
static int run_tool(char *const argv[], bool quiet)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (quiet) {
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    }
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return -1;
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    fclose(f);
    buf[len] = '\0';
    *size = len;
    return buf;
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char path[4096];
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* ---- the spectest module ---- */

static int spectest_print(struct runtime_exec *exec, struct runtime_instance *caller,
                          uint64_t *cells, void *data)
{
    (void)exec, (void)caller, (void)cells, (void)data;
    return RUNTIME_OK;
}

static int define_spectest(struct script *s, struct fl_error *err)
{
    static const struct {
        const char *name;
        uint8_t params[2];
        uint32_t count;
    } prints[] = {
        {"print", {0}, 0},
        {"print_i32", {WASM_TYPE_I32}, 1},
        {"print_i64", {WASM_TYPE_I64}, 1},
        {"print_f32", {WASM_TYPE_F32}, 1},
        {"print_f64", {WASM_TYPE_F64}, 1},
        {"print_i32_f32", {WASM_TYPE_I32, WASM_TYPE_F32}, 2},
        {"print_f64_f64", {WASM_TYPE_F64, WASM_TYPE_F64}, 2},
    };
    for (size_t i = 0; i < sizeof prints / sizeof prints[0]; i++) {
        struct wasm_functype t = {prints[i].count, 0, (uint8_t *)prints[i].params};
        struct runtime_extern ext = {.kind = WASM_EXTERN_FUNC};
        ext.as.func = runtime_host_func_create(s->store, &t, spectest_print, NULL, prints[i].name);
        if (!ext.as.func || runtime_linker_define(s->linker, "spectest", prints[i].name, &ext))
            return fl_error_set(err, FL_ERR_NOMEM, "spectest: out of memory");
    }
    float f32 = 666.6f;
    double f64 = 666.6;
    uint32_t f32_bits;
    memcpy(&f32_bits, &f32, 4);
    uint64_t f64_bits;
    memcpy(&f64_bits, &f64, 8);
    const struct {
        const char *name;
        uint8_t type;
        uint64_t value;
    } globals[] = {
        {"global_i32", WASM_TYPE_I32, 666},
        {"global_i64", WASM_TYPE_I64, 666},
        {"global_f32", WASM_TYPE_F32, f32_bits},
        {"global_f64", WASM_TYPE_F64, f64_bits},
    };
    for (size_t i = 0; i < sizeof globals / sizeof globals[0]; i++) {
        struct wasm_globaltype gt = {globals[i].type, false};
        uint64_t cells[2] = {globals[i].value, 0};
        struct runtime_extern ext = {.kind = WASM_EXTERN_GLOBAL};
        ext.as.global = runtime_global_create(s->store, &gt, cells);
        if (!ext.as.global || runtime_linker_define(s->linker, "spectest", globals[i].name, &ext))
            return fl_error_set(err, FL_ERR_NOMEM, "spectest: out of memory");
    }
    struct wasm_tabletype tt = {WASM_TYPE_FUNCREF, {.min = 10, .max = 20, .has_max = true}};
    struct runtime_extern table = {.kind = WASM_EXTERN_TABLE};
    table.as.table = runtime_table_create(s->store, &tt, err);
    if (!table.as.table || runtime_linker_define(s->linker, "spectest", "table", &table))
        return FL_ERR_NOMEM;
    struct wasm_limits ml = {.min = 1, .max = 2, .has_max = true};
    struct runtime_extern memory = {.kind = WASM_EXTERN_MEMORY};
    memory.as.memory = runtime_memory_create(s->store, &ml, err);
    if (!memory.as.memory || runtime_linker_define(s->linker, "spectest", "memory", &memory))
        return FL_ERR_NOMEM;
    if (s->threads) {
        struct wasm_limits sl = {.min = 1, .max = 1, .has_max = true, .shared = true};
        struct runtime_extern shared = {.kind = WASM_EXTERN_MEMORY};
        shared.as.memory = runtime_memory_create(s->store, &sl, err);
        if (!shared.as.memory ||
            runtime_linker_define(s->linker, "spectest", "shared_memory", &shared))
            return FL_ERR_NOMEM;
    }
    return FL_OK;
}

/* ---- modules ---- */

static struct runtime_instance *find_instance(struct script *s, const cJSON *name_item)
{
    if (!cJSON_IsString(name_item))
        return s->current;
    for (size_t i = s->name_count; i-- > 0;)
        if (!strcmp(s->names[i].name, name_item->valuestring))
            return s->names[i].instance;
    return NULL;
}

static bool set_name(struct script *s, const char *name, struct runtime_instance *instance)
{
    if (s->name_count == s->name_cap) {
        size_t cap = s->name_cap ? s->name_cap * 2 : 8;
        struct named *n = realloc(s->names, cap * sizeof *n);
        if (!n)
            return false;
        s->names = n;
        s->name_cap = cap;
    }
    char *copy = strdup(name);
    if (!copy)
        return false;
    s->names[s->name_count++] = (struct named){copy, instance};
    return true;
}

/* Loads (decode, validate, compile) a converted module file. The result is
 * kept until the script ends. */
static int load_module(struct script *s, const char *file, struct loaded **out,
                       struct fl_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", s->dir, file);
    size_t size;
    uint8_t *bytes = (uint8_t *)read_file(path, &size);
    if (!bytes)
        return fl_error_set(err, FL_ERR_IO, "cannot read %s", path);
    if (s->loaded_count == s->loaded_cap) {
        size_t cap = s->loaded_cap ? s->loaded_cap * 2 : 16;
        struct loaded *l = realloc(s->loaded, cap * sizeof *l);
        if (!l) {
            free(bytes);
            return fl_error_set(err, FL_ERR_NOMEM, "out of memory");
        }
        s->loaded = l;
        s->loaded_cap = cap;
    }
    struct loaded l = {0};
    /* Core scripts are WebAssembly 2.0 alone: there, shared limits are malformed. */
    int rc = wasm_module_load_features(
        bytes, size, s->threads ? WASM_FEATURES_ALL : WASM_FEATURES_ALL & ~WASM_FEATURE_THREADS,
        &l.module, err);
    free(bytes);
    if (rc)
        return rc;
    if (s->aot) {
        struct aot_options opts;
        aot_options_default(&opts);
        rc = aot_module_load(l.module, &opts, &l.aot, err);
    } else {
        l.code = interp_module_compile(l.module, err);
        rc = l.code ? FL_OK : FL_ERR_INTERNAL;
    }
    if (rc) {
        wasm_module_destroy(l.module);
        return err->code ? err->code : FL_ERR_INTERNAL;
    }
    s->loaded[s->loaded_count] = l;
    *out = &s->loaded[s->loaded_count++];
    return FL_OK;
}

static int instantiate(struct script *s, struct loaded *l, struct runtime_instance **out,
                       struct fl_error *err)
{
    if (l->aot)
        return runtime_linker_instantiate(s->linker, l->module, &aot_tier, l->aot, &s->exec, out, err);
    return runtime_linker_instantiate(s->linker, l->module, &interp_tier, l->code, &s->exec, out,
                                      err);
}

/* ---- values ---- */

static uint8_t type_of(const char *name)
{
    static const struct {
        const char *name;
        uint8_t type;
    } types[] = {
        {"i32", WASM_TYPE_I32},         {"i64", WASM_TYPE_I64},
        {"f32", WASM_TYPE_F32},         {"f64", WASM_TYPE_F64},
        {"v128", WASM_TYPE_V128},       {"funcref", WASM_TYPE_FUNCREF},
        {"externref", WASM_TYPE_EXTERNREF},
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(name, types[i].name))
            return types[i].type;
    return 0;
}

/* Parses an unsigned decimal string (wast2json writes every number so). */
static bool parse_u64(const char *str, uint64_t *out)
{
    if (!str || !*str)
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(str, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

static int nan_kind(const char *str)
{
    if (!strcmp(str, "nan:canonical"))
        return 1;
    if (!strcmp(str, "nan:arithmetic"))
        return 2;
    return 0;
}

/* Reads one JSON value ({"type":..,"value":..}); false if unsupported. */
static bool parse_value(const cJSON *j, struct wast_value *v, bool expected)
{
    memset(v, 0, sizeof *v);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "type");
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(j, "value");
    if (!cJSON_IsString(type) || !(v->type = type_of(type->valuestring)))
        return false;
    switch (v->type) {
    case WASM_TYPE_FUNCREF:
    case WASM_TYPE_EXTERNREF:
        if (!value) {
            v->any_ref = expected;
            return expected;
        }
        if (!cJSON_IsString(value))
            return false;
        if (!strcmp(value->valuestring, "null"))
            return true;
        /* ref.extern N is the cell N + 1, so that 0 stays null. */
        if (v->type != WASM_TYPE_EXTERNREF || !parse_u64(value->valuestring, &v->cells[0]))
            return false;
        v->cells[0]++;
        return true;
    case WASM_TYPE_V128: {
        const cJSON *lane = cJSON_GetObjectItemCaseSensitive(j, "lane_type");
        if (!cJSON_IsString(lane) || !cJSON_IsArray(value))
            return false;
        static const char *lanes[] = {"i8", "i16", "i32", "i64", "f32", "f64"};
        static const char codes[] = "bhilfd";
        static const unsigned widths[] = {1, 2, 4, 8, 4, 8};
        int k = -1;
        for (int i = 0; i < 6; i++)
            if (!strcmp(lane->valuestring, lanes[i]))
                k = i;
        if (k < 0)
            return false;
        v->lane_type = (uint8_t)codes[k];
        unsigned width = widths[k], n = 16 / width;
        if ((unsigned)cJSON_GetArraySize(value) != n)
            return false;
        uint8_t bytes[16];
        for (unsigned i = 0; i < n; i++) {
            const cJSON *item = cJSON_GetArrayItem(value, (int)i);
            if (!cJSON_IsString(item))
                return false;
            uint64_t x = 0;
            int nk = expected ? nan_kind(item->valuestring) : 0;
            if (nk)
                v->nan[i] = (uint8_t)nk;
            else if (!parse_u64(item->valuestring, &x))
                return false;
            memcpy(bytes + i * width, &x, width); /* little-endian host */
        }
        memcpy(v->cells, bytes, 16);
        return true;
    }
    default:
        if (!cJSON_IsString(value))
            return false;
        if (expected && (v->type == WASM_TYPE_F32 || v->type == WASM_TYPE_F64) &&
            (v->nan[0] = (uint8_t)nan_kind(value->valuestring)))
            return true;
        if (!parse_u64(value->valuestring, &v->cells[0]))
            return false;
        if (v->type == WASM_TYPE_I32 || v->type == WASM_TYPE_F32)
            v->cells[0] &= 0xFFFFFFFFu;
        return true;
    }
}

static void format_value(char *buf, size_t n, uint8_t type, const uint64_t *cells)
{
    switch (type) {
    case WASM_TYPE_I32: snprintf(buf, n, "i32:%" PRIu32, (uint32_t)cells[0]); break;
    case WASM_TYPE_I64: snprintf(buf, n, "i64:%" PRIu64, cells[0]); break;
    case WASM_TYPE_F32: {
        uint32_t bits = (uint32_t)cells[0];
        float f;
        memcpy(&f, &bits, 4);
        snprintf(buf, n, "f32:0x%08" PRIx32 "(%g)", bits, (double)f);
        break;
    }
    case WASM_TYPE_F64: {
        double d;
        memcpy(&d, cells, 8);
        snprintf(buf, n, "f64:0x%016" PRIx64 "(%g)", cells[0], d);
        break;
    }
    case WASM_TYPE_V128:
        snprintf(buf, n, "v128:0x%016" PRIx64 "%016" PRIx64, cells[1], cells[0]);
        break;
    case WASM_TYPE_FUNCREF: snprintf(buf, n, "funcref:%s", cells[0] ? "func" : "null"); break;
    case WASM_TYPE_EXTERNREF:
        if (cells[0])
            snprintf(buf, n, "externref:%" PRIu64, cells[0] - 1);
        else
            snprintf(buf, n, "externref:null");
        break;
    default: snprintf(buf, n, "?"); break;
    }
}

static void format_expected(char *buf, size_t n, const struct wast_value *v)
{
    if (v->any_ref)
        snprintf(buf, n, "%s:non-null", wasm_valtype_name(v->type));
    else if (v->type != WASM_TYPE_V128 && v->nan[0])
        snprintf(buf, n, "%s:%s", wasm_valtype_name(v->type),
                 v->nan[0] == 1 ? "nan:canonical" : "nan:arithmetic");
    else
        format_value(buf, n, v->type, v->cells);
}

static bool float_matches(uint64_t bits, uint64_t want, int nan, bool is64)
{
    uint64_t sign = is64 ? 0x8000000000000000ull : 0x80000000u;
    uint64_t quiet = is64 ? 0x7FF8000000000000ull : 0x7FC00000u;
    if (!is64)
        bits &= 0xFFFFFFFFu;
    if (nan == 1)
        return (bits & ~sign) == quiet;
    if (nan == 2)
        return (bits & quiet) == quiet;
    return bits == want;
}

static bool value_matches(const struct wast_value *want, uint8_t type, const uint64_t *cells)
{
    if (want->type != type)
        return false;
    switch (type) {
    case WASM_TYPE_I32: return (uint32_t)cells[0] == (uint32_t)want->cells[0];
    case WASM_TYPE_I64: return cells[0] == want->cells[0];
    case WASM_TYPE_F32: return float_matches(cells[0], want->cells[0], want->nan[0], false);
    case WASM_TYPE_F64: return float_matches(cells[0], want->cells[0], want->nan[0], true);
    case WASM_TYPE_FUNCREF:
    case WASM_TYPE_EXTERNREF:
        return want->any_ref ? cells[0] != 0 : cells[0] == want->cells[0];
    case WASM_TYPE_V128: {
        uint8_t got[16], exp[16];
        memcpy(got, cells, 16);
        memcpy(exp, want->cells, 16);
        unsigned width = strchr("bh", want->lane_type)  ? (want->lane_type == 'b' ? 1 : 2)
                         : strchr("if", want->lane_type) ? 4
                                                         : 8;
        for (unsigned i = 0; i < 16 / width; i++) {
            uint64_t g = 0, e = 0;
            memcpy(&g, got + i * width, width);
            memcpy(&e, exp + i * width, width);
            bool ok = want->lane_type == 'f'   ? float_matches(g, e, want->nan[i], false)
                      : want->lane_type == 'd' ? float_matches(g, e, want->nan[i], true)
                                               : g == e;
            if (!ok)
                return false;
        }
        return true;
    }
    default: return false;
    }
}

/* ---- actions ---- */

/* The outcome of an action: a trap, an error (cannot run it), or results. */
struct outcome {
    int error;          /* 0, or why the action could not run */
    char error_msg[280];
    int trap;
    uint32_t count;
    uint8_t types[MAX_VALUES];
    uint64_t *cells;    /* owned; count values laid out per the calling convention */
};

static void action_describe(const cJSON *action, char *buf, size_t n)
{
    const cJSON *field = cJSON_GetObjectItemCaseSensitive(action, "field");
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(action, "args");
    int len = snprintf(buf, n, "%s", cJSON_IsString(field) ? field->valuestring : "?");
    if (len < 0 || (size_t)len >= n)
        return;
    if (!args)
        return;
    size_t pos = (size_t)len;
    pos += (size_t)snprintf(buf + pos, n - pos, "(");
    const cJSON *a;
    int i = 0;
    cJSON_ArrayForEach(a, args)
    {
        struct wast_value v;
        char tmp[64] = "?";
        if (parse_value(a, &v, false))
            format_value(tmp, sizeof tmp, v.type, v.cells);
        if (pos < n)
            pos += (size_t)snprintf(buf + pos, n - pos, "%s%s", i++ ? " " : "", tmp);
    }
    if (pos < n)
        snprintf(buf + pos, n - pos, ")");
}

/* Copies a field name, turning NUL_MARKER back into NUL; returns its length. */
static size_t unmark_name(const struct script *s, const char *str, char *out, size_t cap)
{
    size_t n = 0, mlen = strlen(NUL_MARKER);
    while (*str && n + 1 < cap) {
        if (s->nul_marked && !strncmp(str, NUL_MARKER, mlen)) {
            out[n++] = '\0';
            str += mlen;
        } else {
            out[n++] = *str++;
        }
    }
    out[n] = '\0';
    return n;
}

/* Rewrites each \u0000 escape of json (in place; the marker escape has the
 * same length) unless the text already holds the marker. */
static bool mark_nuls(char *json)
{
    if (strstr(json, NUL_MARKER) || strcasestr(json, "\\ue000"))
        return false;
    bool any = false;
    for (char *p = json; (p = strstr(p, "\\u0000")); p += 6) {
        /* An escaped backslash before it would make it literal text. */
        size_t slashes = 0;
        for (char *q = p; q > json && q[-1] == '\\'; q--)
            slashes++;
        if (slashes % 2)
            continue;
        memcpy(p, NUL_MARKER_ESCAPE, 6);
        any = true;
    }
    return any;
}

static void run_action(struct script *s, const cJSON *action, struct outcome *o)
{
    memset(o, 0, sizeof *o);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(action, "type");
    const cJSON *field = cJSON_GetObjectItemCaseSensitive(action, "field");
    struct runtime_instance *in =
        find_instance(s, cJSON_GetObjectItemCaseSensitive(action, "module"));
    if (!cJSON_IsString(type) || !cJSON_IsString(field)) {
        o->error = 1;
        snprintf(o->error_msg, sizeof o->error_msg, "unsupported action");
        return;
    }
    if (!in) {
        o->error = 1;
        snprintf(o->error_msg, sizeof o->error_msg, "no module to act on");
        return;
    }
    struct runtime_extern ext;
    char name[1024];
    size_t name_len = unmark_name(s, field->valuestring, name, sizeof name);
    if (!runtime_instance_export_n(in, name, name_len, &ext)) {
        o->error = 1;
        snprintf(o->error_msg, sizeof o->error_msg, "no export '%s'", field->valuestring);
        return;
    }
    if (!strcmp(type->valuestring, "get")) {
        if (ext.kind != WASM_EXTERN_GLOBAL) {
            o->error = 1;
            snprintf(o->error_msg, sizeof o->error_msg, "export '%s' is not a global",
                     field->valuestring);
            return;
        }
        o->cells = calloc(2, sizeof *o->cells);
        if (!o->cells) {
            o->error = 1;
            snprintf(o->error_msg, sizeof o->error_msg, "out of memory");
            return;
        }
        o->count = 1;
        o->types[0] = ext.as.global->type;
        o->cells[0] = ext.as.global->cells[0];
        o->cells[1] = ext.as.global->cells[1];
        return;
    }
    if (strcmp(type->valuestring, "invoke") != 0 || ext.kind != WASM_EXTERN_FUNC) {
        o->error = 1;
        snprintf(o->error_msg, sizeof o->error_msg, "unsupported action '%s' on '%s'",
                 type->valuestring, field->valuestring);
        return;
    }
    struct runtime_func *f = ext.as.func;
    const struct wasm_functype *ft = f->type;
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(action, "args");
    if (cJSON_GetArraySize(args) != (int)ft->param_count || ft->result_count > MAX_VALUES) {
        o->error = 1;
        snprintf(o->error_msg, sizeof o->error_msg, "'%s' takes %u arguments, script gives %d",
                 field->valuestring, ft->param_count, cJSON_GetArraySize(args));
        return;
    }
    size_t ncells = f->param_cells > f->result_cells ? f->param_cells : f->result_cells;
    o->cells = calloc(ncells + 2, sizeof *o->cells);
    if (!o->cells) {
        o->error = 1;
        snprintf(o->error_msg, sizeof o->error_msg, "out of memory");
        return;
    }
    uint64_t *c = o->cells;
    uint32_t i = 0;
    const cJSON *a;
    cJSON_ArrayForEach(a, args)
    {
        struct wast_value v;
        if (!parse_value(a, &v, false) || v.type != ft->types[i]) {
            o->error = 1;
            snprintf(o->error_msg, sizeof o->error_msg, "argument %u: unsupported or mistyped", i);
            return;
        }
        memcpy(c, v.cells, wasm_valtype_cells(v.type) * sizeof *c);
        c += wasm_valtype_cells(v.type);
        i++;
    }
    o->trap = runtime_call(&s->exec, f, o->cells);
    if (!o->trap) {
        o->count = ft->result_count;
        memcpy(o->types, ft->types + ft->param_count, ft->result_count);
    }
}

/* ---- commands ---- */

static const char *json_str(const cJSON *obj, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(item) ? item->valuestring : NULL;
}

/* The message of the trap that ended the last action: the detailed one a tier
 * or host function left in exec->trap_msg if it fits the trap, else the
 * spec's text. */
static const char *trap_text(struct script *s, int trap)
{
    const char *base = runtime_trap_message(trap);
    const char *detail = s->exec.trap_msg;
    if (detail[0] && (trap == RUNTIME_TRAP_HOST || !strncmp(detail, base, strlen(base))))
        return detail;
    return base;
}

static void cmd_module(struct script *s, const cJSON *cmd, int line)
{
    const char *file = json_str(cmd, "filename");
    struct fl_error err = {0};
    struct loaded *l;
    struct runtime_instance *in = NULL;
    if (!file) {
        fail(s, line, "module: no file");
        return;
    }
    int rc = load_module(s, file, &l, &err);
    if (!rc)
        rc = instantiate(s, l, &in, &err);
    if (rc) {
        fail(s, line, "module %s: %s: %s", file, fl_error_name(rc), err.msg);
        return;
    }
    s->current = in;
    const char *name = json_str(cmd, "name");
    if (name && !set_name(s, name, in)) {
        fail(s, line, "module: out of memory");
        return;
    }
    s->passed++;
}

static void cmd_register(struct script *s, const cJSON *cmd, int line)
{
    const char *as = json_str(cmd, "as");
    struct runtime_instance *in = find_instance(s, cJSON_GetObjectItemCaseSensitive(cmd, "name"));
    if (!as || !in) {
        fail(s, line, "register: no such module");
        return;
    }
    if (runtime_linker_define_instance(s->linker, as, in) != FL_OK) {
        fail(s, line, "register: out of memory");
        return;
    }
    s->passed++;
}

static void cmd_assert_return(struct script *s, const cJSON *cmd, int line, bool check_results)
{
    const cJSON *action = cJSON_GetObjectItemCaseSensitive(cmd, "action");
    char what[160];
    action_describe(action, what, sizeof what);
    struct outcome o;
    run_action(s, action, &o);
    if (o.error) {
        fail(s, line, "%s: %s", what, o.error_msg);
    } else if (o.trap) {
        fail(s, line, "%s: trapped: %s", what, trap_text(s, o.trap));
    } else if (!check_results) {
        s->passed++;
    } else {
        const cJSON *expected = cJSON_GetObjectItemCaseSensitive(cmd, "expected");
        int n = cJSON_GetArraySize(expected);
        if (n != (int)o.count) {
            fail(s, line, "%s: expected %d results, got %u", what, n, o.count);
        } else {
            const uint64_t *c = o.cells;
            bool ok = true;
            for (int i = 0; i < n && ok; i++) {
                struct wast_value want;
                char got_s[80], want_s[80];
                format_value(got_s, sizeof got_s, o.types[i], c);
                if (!parse_value(cJSON_GetArrayItem(expected, i), &want, true)) {
                    fail(s, line, "%s: unsupported expected value", what);
                    ok = false;
                } else if (!value_matches(&want, o.types[i], c)) {
                    format_expected(want_s, sizeof want_s, &want);
                    fail(s, line, "%s: result %d: expected %s, got %s", what, i, want_s, got_s);
                    ok = false;
                }
                c += wasm_valtype_cells(o.types[i]);
            }
            if (ok)
                s->passed++;
        }
    }
    free(o.cells);
}

static bool message_matches(const char *got, const char *want)
{
    return !want || strncmp(got, want, strlen(want)) == 0;
}

static void cmd_assert_trap(struct script *s, const cJSON *cmd, int line, const char *kind)
{
    const cJSON *action = cJSON_GetObjectItemCaseSensitive(cmd, "action");
    const char *text = json_str(cmd, "text");
    char what[160];
    action_describe(action, what, sizeof what);
    struct outcome o;
    run_action(s, action, &o);
    if (o.error) {
        fail(s, line, "%s %s: %s", kind, what, o.error_msg);
    } else if (!o.trap) {
        fail(s, line, "%s %s: returned, expected trap \"%s\"", kind, what, text ? text : "");
    } else {
        const char *msg = trap_text(s, o.trap);
        if (message_matches(msg, text))
            s->passed++;
        else
            fail(s, line, "%s %s: trapped \"%s\", expected \"%s\"", kind, what, msg, text);
    }
    free(o.cells);
}

/* A text module: wat2wasm must reject it. */
static void check_text_module(struct script *s, const char *file, int line, const char *kind)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", s->dir, file);
    char *argv[] = {"wat2wasm", path, "-o", "/dev/null",
                    s->threads ? "--enable-threads" : NULL, NULL};
    int rc = run_tool(argv, true);
    if (rc > 0)
        s->text++;
    else if (rc == 0)
        fail(s, line, "%s (text) %s: wat2wasm accepted it", kind, file);
    else
        fail(s, line, "%s (text) %s: cannot run wat2wasm", kind, file);
}

static void cmd_assert_module(struct script *s, const cJSON *cmd, int line, const char *kind)
{
    const char *file = json_str(cmd, "filename");
    const char *text = json_str(cmd, "text");
    const char *module_type = json_str(cmd, "module_type");
    if (!file) {
        fail(s, line, "%s: no file", kind);
        return;
    }
    if (module_type && !strcmp(module_type, "text")) {
        check_text_module(s, file, line, kind);
        return;
    }
    bool want_malformed = !strcmp(kind, "assert_malformed");
    bool want_invalid = !strcmp(kind, "assert_invalid");
    struct fl_error err = {0};
    struct loaded *l;
    int rc = load_module(s, file, &l, &err);
    if (want_malformed || want_invalid) {
        const char *why = rc == 0 ? cli_wast_superseded(s->path, line, text) : NULL;
        if (why) {
            /* Listed like a failure (never silent), counted apart. */
            fail(s, line, "%s %s: loaded, expected \"%s\": superseded: %s", kind, file, text,
                 why);
            s->failed--;
            s->superseded++;
        } else if (rc == 0)
            fail(s, line, "%s %s: loaded, expected \"%s\"", kind, file, text);
        else if ((want_malformed && (rc == FL_ERR_MALFORMED || rc == FL_ERR_LIMIT)) ||
                 (want_invalid && rc == FL_ERR_INVALID))
            s->passed++;
        else
            fail(s, line, "%s %s: rejected as %s (%s), expected \"%s\"", kind, file,
                 fl_error_name(rc), err.msg, text);
        return;
    }
    if (rc) {
        fail(s, line, "%s %s: does not load: %s: %s", kind, file, fl_error_name(rc), err.msg);
        return;
    }
    struct runtime_instance *in;
    rc = instantiate(s, l, &in, &err);
    bool want_unlinkable = !strcmp(kind, "assert_unlinkable");
    bool kind_ok = want_unlinkable ? rc == FL_ERR_UNLINKABLE
                                   : rc == FL_ERR_UNINSTANTIABLE || rc == FL_ERR_TRAP;
    if (rc == 0)
        fail(s, line, "%s %s: instantiated, expected \"%s\"", kind, file, text);
    else if (kind_ok && message_matches(err.msg, text))
        s->passed++;
    else
        fail(s, line, "%s %s: failed as %s (%s), expected \"%s\"", kind, file, fl_error_name(rc),
             err.msg, text);
}

static void run_command(struct script *s, const cJSON *cmd)
{
    const char *type = json_str(cmd, "type");
    const cJSON *line_item = cJSON_GetObjectItemCaseSensitive(cmd, "line");
    int line = cJSON_IsNumber(line_item) ? line_item->valueint : 0;
    if (!type) {
        fail(s, line, "command without a type");
    } else if (!strcmp(type, "module")) {
        cmd_module(s, cmd, line);
    } else if (!strcmp(type, "register")) {
        cmd_register(s, cmd, line);
    } else if (!strcmp(type, "action")) {
        cmd_assert_return(s, cmd, line, false);
    } else if (!strcmp(type, "assert_return")) {
        cmd_assert_return(s, cmd, line, true);
    } else if (!strcmp(type, "assert_trap") || !strcmp(type, "assert_exhaustion")) {
        if (cJSON_GetObjectItemCaseSensitive(cmd, "filename"))
            cmd_assert_module(s, cmd, line, "assert_uninstantiable");
        else
            cmd_assert_trap(s, cmd, line, type);
    } else if (!strcmp(type, "assert_invalid") || !strcmp(type, "assert_malformed") ||
               !strcmp(type, "assert_unlinkable") || !strcmp(type, "assert_uninstantiable")) {
        cmd_assert_module(s, cmd, line, type);
    } else {
        fail(s, line, "unsupported command '%s'", type);
    }
}

static void script_fini(struct script *s)
{
    if (s->exec_ready)
        runtime_exec_fini(&s->exec);
    runtime_linker_destroy(s->linker);
    runtime_store_destroy(s->store);
    for (size_t i = 0; i < s->loaded_count; i++) {
        interp_module_destroy(s->loaded[i].code);
        aot_module_destroy(s->loaded[i].aot);
        wasm_module_destroy(s->loaded[i].module);
    }
    free(s->loaded);
    for (size_t i = 0; i < s->name_count; i++)
        free(s->names[i].name);
    free(s->names);
}

/* Converts and runs one script; adds its counts to totals. */
static void run_script(const char *path, bool verbose, bool aot, struct wast_totals *totals)
{
    struct script s = {.path = path, .verbose = verbose, .aot = aot};
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    s.threads = strstr(path, "/threads/") != NULL;
    if (verbose)
        printf("  %s\n", base);

    char dir[] = "/tmp/faaslet-wast-XXXXXX";
    char json_path[4096];
    char *json = NULL;
    cJSON *root = NULL;
    if (!mkdtemp(dir)) {
        fail(&s, 0, "cannot create a temporary folder: %s", strerror(errno));
        goto report;
    }
    s.dir = dir;
    snprintf(json_path, sizeof json_path, "%s/x.json", dir);
    char *argv[] = {"wast2json", (char *)path, "-o", json_path,
                    s.threads ? "--enable-threads" : NULL, NULL};
    int rc = run_tool(argv, false);
    size_t size;
    if (rc == 0 && (json = read_file(json_path, &size)))
        s.nul_marked = mark_nuls(json);
    if (rc != 0 || !json || !(root = cJSON_Parse(json))) {
        fail(&s, 0, "wast2json could not convert %s (status %d)", path, rc);
        goto cleanup;
    }
    struct fl_error err = {0};
    s.store = runtime_store_create();
    s.linker = s.store ? runtime_linker_create(s.store) : NULL;
    if (!s.linker || runtime_exec_init(&s.exec, s.store, 0, &err) != FL_OK) {
        fail(&s, 0, "cannot create a store: %s", err.msg);
        goto cleanup;
    }
    s.exec_ready = true;
    if (define_spectest(&s, &err) != FL_OK) {
        fail(&s, 0, "spectest: %s", err.msg);
        goto cleanup;
    }
    const cJSON *cmd;
    cJSON_ArrayForEach(cmd, cJSON_GetObjectItemCaseSensitive(root, "commands"))
    {
        run_command(&s, cmd);
    }
cleanup:
    script_fini(&s);
    cJSON_Delete(root);
    free(json);
    if (s.dir)
        remove_dir(dir);
report:
    printf("  %-4s %s: %u passed, %u failed", s.failed ? "FAIL" : "ok", base, s.passed, s.failed);
    if (s.text)
        printf(", %u text", s.text);
    if (s.superseded)
        printf(", %u superseded", s.superseded);
    printf("\n");
    for (unsigned i = 0; i < s.shown; i++)
        printf("      %s\n", s.details[i]);
    if (!verbose && s.failed + s.superseded > s.shown)
        printf("      ... and %u more (-v shows all)\n", s.failed + s.superseded - s.shown);
    fflush(stdout);
    totals->passed += s.passed;
    totals->failed += s.failed;
    totals->text += s.text;
    totals->superseded += s.superseded;
}

int cli_wast(int argc, char **argv)
{
    bool verbose = false, aot = false;
    int files = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
            verbose = true;
        } else if (!strncmp(argv[i], "--tier=", 7)) {
            aot = !strcmp(argv[i] + 7, "aot");
            if (strcmp(argv[i] + 7, "interp") != 0 && !aot) {
                fprintf(stderr, "faaslet wast: unknown tier '%s' (available: interp, aot)\n",
                        argv[i] + 7);
                return 2;
            }
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: faaslet wast [--tier=interp|aot] [-v] FILE.wast...\n");
            return 2;
        } else {
            files++;
        }
    }
    if (!files) {
        fprintf(stderr, "usage: faaslet wast [--tier=interp|aot] [-v] FILE.wast...\n");
        return 2;
    }
    struct wast_totals totals = {0};
    for (int i = 1; i < argc; i++)
        if (argv[i][0] != '-')
            run_script(argv[i], verbose, aot, &totals);
    printf("%lu passed, %lu failed", totals.passed, totals.failed);
    if (totals.text)
        printf(" (%lu text modules rejected by wat2wasm)", totals.text);
    if (totals.superseded)
        printf(", %lu superseded by WebAssembly 2.0 (listed above)", totals.superseded);
    printf("\n");
    return totals.failed ? 1 : 0;
}
