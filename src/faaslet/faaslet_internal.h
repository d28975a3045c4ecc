/* faaslet_internal.h: the layout of proto-faaslets and Faaslets, shared by
 * the files of src/faaslet and nobody else. */
#ifndef FL_FAASLET_FAASLET_INTERNAL_H
#define FL_FAASLET_FAASLET_INTERNAL_H

#include "aot/aot.h"
#include "faaslet/faaslet.h"
#include "interp/interp.h"
#include "wasi/wasi.h"

#ifdef FL_HAVE_HOST_STATE
#include "faaslet/host_state.h"
#endif

/* A snapshot of one defined table: function index per entry (-1 = null). */
struct faaslet_table_snapshot {
    uint32_t size;
    int64_t *funcs;
};

struct runtime_memory_pool;

struct faaslet_proto {
    char user[FAASLET_MAX_NAME + 1];
    char function[FAASLET_MAX_NAME + 1];
    struct faaslet_config config;   /* root_dir points at root_dir_copy */
    char *root_dir_copy;
    struct wasm_module *module;     /* owned; memory limits already capped by max_memory */
    struct interp_module *code;     /* owned; NULL when aot runs the function */
    struct aot_module *aot;         /* owned; compiled code, NULL on the interpreter */
    /* snapshot */
    int memfd;                      /* -1 without a memory */
    uint64_t memory_bytes;
    uint64_t (*globals)[2];         /* defined globals' values */
    struct faaslet_table_snapshot *tables; /* defined tables */
    uint8_t *elem_dropped, *data_dropped;
    bool has_init, has_zygote;
    /* Non-zero 4 KiB pages of the memory image, copied in by restores when
     * copy_restore (image up to 256 KiB, memory not shared): no mapping
     * changes per restore. Otherwise restores map memfd copy-on-write. */
    bool copy_restore;
    uint32_t page_count;
    uint64_t *page_offsets;
    uint8_t *page_data;
    /* Shared by every Faaslet of the function: one store (types, host
     * functions, memory reservations), the template instance Faaslets are
     * cloned from, the imports (host functions that find their Faaslet
     * through the caller instance's user_data) and the memory slots. */
    struct runtime_store *store;
    struct faaslet *tmpl;
    struct runtime_func **imports;  /* by function index < import_func_count */
    struct runtime_memory_pool *pool;
    int64_t start_index, call_ptr_index, init_index, zygote_index; /* -1: absent */
};

struct faaslet {
    struct faaslet_proto *proto;
    struct runtime_store *store;    /* the proto's; not owned */
    struct runtime_instance *instance;
    bool cloned;                    /* instance is a clone (else the template, in the store) */
    struct runtime_memory *memory;  /* from proto->pool when cloned */
    bool fresh_memory;              /* memory came from the pool already restored */
    bool pristine;                  /* memory is as restored (no call since the reset) */
    struct runtime_exec exec;       /* stack: the call's value stack, or own_stack */
    uint64_t *own_stack;            /* allocated on the first call that brings none */
    struct wasi_ctx *wasi;
    int pristine_fds[8];            /* host fds of the first slots after a reset */
    uint32_t pristine_fd_count;
    struct runtime_func *start, *call_ptr, *init, *zygote;
    struct faaslet_call *call;      /* the running call, NULL between calls */
    struct faaslet_call idle_call;  /* stands in while no call runs (init, zygote) */
#ifdef FL_HAVE_HOST_STATE
    struct faaslet_state_ctx state;
    bool state_ready;
#endif
};

/* Defines the env.__faasm_* imports (non-state, and state or its stand-ins)
 * for f in linker. */
int faaslet_host_define(struct faaslet *f, struct runtime_linker *linker, struct fl_error *err);

/* Builds proto's template Faaslet: a full instantiation in proto->store
 * through a linker (data segments, start function). */
struct faaslet *faaslet_instantiate(struct faaslet_proto *proto, struct fl_error *err);

/* Makes proto->imports from the template's resolved imports: every host
 * function bound to the template's WASI context, Faaslet or state context
 * gets a shared stand-in that passes the calling Faaslet's instead (and
 * WASI poll_oneoff clock sleeps go to the host's sleep, so they yield). */
int faaslet_share_imports(struct faaslet_proto *proto, struct fl_error *err);

/* Makes sure f->exec has a value stack for a call that brings none. */
int faaslet_own_stack(struct faaslet *f, struct fl_error *err);

/* Runs func (no params, 0 or 1 i32 results) as a host-initiated call on f,
 * outside any message; fills call-like error text into err on a trap. */
int faaslet_invoke_raw(struct faaslet *f, struct runtime_func *func, uint64_t *cells,
                       struct fl_error *err);

/* A guest-friendly description of a trap on f's exec into buf. */
void faaslet_describe_trap(struct faaslet *f, int trap, char *buf, size_t n);

#endif
