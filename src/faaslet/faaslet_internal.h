/* faaslet_internal.h: the layout of proto-faaslets and Faaslets, shared by
 * the files of src/faaslet and nobody else. */
#ifndef FL_FAASLET_FAASLET_INTERNAL_H
#define FL_FAASLET_FAASLET_INTERNAL_H

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

struct faaslet_proto {
    char user[FAASLET_MAX_NAME + 1];
    char function[FAASLET_MAX_NAME + 1];
    struct faaslet_config config;   /* root_dir points at root_dir_copy */
    char *root_dir_copy;
    struct wasm_module *module;     /* owned; memory limits already capped by max_memory */
    struct interp_module *code;     /* owned */
    /* snapshot */
    int memfd;                      /* -1 without a memory */
    uint64_t memory_bytes;
    uint64_t (*globals)[2];         /* defined globals' values */
    struct faaslet_table_snapshot *tables; /* defined tables */
    uint8_t *elem_dropped, *data_dropped;
    bool has_init, has_zygote;
};

struct faaslet {
    struct faaslet_proto *proto;
    struct runtime_store *store;
    struct runtime_linker *linker;
    struct runtime_instance *instance;
    struct runtime_exec exec;
    bool exec_ready;
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
 * for f in f->linker. */
int faaslet_host_define(struct faaslet *f, struct fl_error *err);

/* Builds a Faaslet's instance from proto without applying the snapshot
 * (data segments as in the module). */
struct faaslet *faaslet_instantiate(struct faaslet_proto *proto, struct fl_error *err);

/* Runs func (no params, 0 or 1 i32 results) as a host-initiated call on f,
 * outside any message; fills call-like error text into err on a trap. */
int faaslet_invoke_raw(struct faaslet *f, struct runtime_func *func, uint64_t *cells,
                       struct fl_error *err);

/* A guest-friendly description of a trap on f's exec into buf. */
void faaslet_describe_trap(struct faaslet *f, int trap, char *buf, size_t n);

#endif
