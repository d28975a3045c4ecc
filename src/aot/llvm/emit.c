/* emit.c: LLVM module -> optimised native object for the host CPU -> shared
 * object (linked by ld.lld). The object references nothing outside itself
 * except, possibly, libc's memcpy/memset that LLVM may call for copy loops;
 * those resolve against the host process at dlopen. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <llvm-c/Core.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include "aot/aot_internal.h"

extern char **environ;

int aot_codegen_module(LLVMContextRef ctx, const struct wasm_module *m, const struct aot_options *opts,
                       LLVMModuleRef *out, struct fl_error *err);

/* LLVM's target registry is process-wide and initialised once. */
static pthread_once_t llvm_once = PTHREAD_ONCE_INIT;
static bool llvm_ok;

static void llvm_init(void)
{
    llvm_ok = LLVMInitializeNativeTarget() == 0 && LLVMInitializeNativeAsmPrinter() == 0;
}

void aot_options_default(struct aot_options *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->opt_level = 2;
    opts->interrupt_checks = true;
}

void aot_host_cpu(char **name, char **features)
{
    *name = LLVMGetHostCPUName();
    *features = LLVMGetHostCPUFeatures();
}

static int make_target_machine(const struct aot_options *opts, LLVMTargetMachineRef *out,
                               char **triple_out, struct fl_error *err)
{
    pthread_once(&llvm_once, llvm_init);
    if (!llvm_ok)
        return fl_error_set(err, FL_ERR_INTERNAL, "aot: LLVM has no native target");
    char *triple = LLVMGetDefaultTargetTriple();
    LLVMTargetRef target;
    char *msg = NULL;
    if (LLVMGetTargetFromTriple(triple, &target, &msg)) {
        fl_error_set(err, FL_ERR_INTERNAL, "aot: no LLVM target for %s: %s", triple, msg ? msg : "?");
        LLVMDisposeMessage(msg);
        LLVMDisposeMessage(triple);
        return FL_ERR_INTERNAL;
    }
    char *cpu, *features;
    aot_host_cpu(&cpu, &features);
    LLVMCodeGenOptLevel level = opts->opt_level <= 0 ? LLVMCodeGenLevelNone
                              : opts->opt_level == 1 ? LLVMCodeGenLevelLess
                              : opts->opt_level == 2 ? LLVMCodeGenLevelDefault
                              : LLVMCodeGenLevelAggressive;
    *out = LLVMCreateTargetMachine(target, triple, cpu, features, level, LLVMRelocPIC,
                                   LLVMCodeModelDefault);
    LLVMDisposeMessage(cpu);
    LLVMDisposeMessage(features);
    if (!*out) {
        LLVMDisposeMessage(triple);
        return fl_error_set(err, FL_ERR_INTERNAL, "aot: cannot create an LLVM target machine");
    }
    *triple_out = triple;
    return FL_OK;
}

int aot_compile_object(const struct wasm_module *module, const struct aot_options *opts,
                       uint8_t **obj, size_t *obj_size, struct fl_error *err)
{
    LLVMTargetMachineRef tm = NULL;
    char *triple = NULL;
    int rc = make_target_machine(opts, &tm, &triple, err);
    if (rc)
        return rc;
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef mod = NULL;
    rc = aot_codegen_module(ctx, module, opts, &mod, err);
    if (!rc) {
        LLVMSetTarget(mod, triple);
        LLVMTargetDataRef layout = LLVMCreateTargetDataLayout(tm);
        LLVMSetModuleDataLayout(mod, layout);
        LLVMDisposeTargetData(layout);
        if (opts->opt_level > 0) {
            char pipeline[32];
            snprintf(pipeline, sizeof pipeline, "default<O%d>", opts->opt_level > 3 ? 3 : opts->opt_level);
            LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
            LLVMErrorRef e = LLVMRunPasses(mod, pipeline, tm, po);
            LLVMDisposePassBuilderOptions(po);
            if (e) {
                char *m = LLVMGetErrorMessage(e);
                rc = fl_error_set(err, FL_ERR_INTERNAL, "aot: optimisation failed: %s", m);
                LLVMDisposeErrorMessage(m);
            }
        }
    }
    if (!rc) {
        LLVMMemoryBufferRef buf = NULL;
        char *msg = NULL;
        if (LLVMTargetMachineEmitToMemoryBuffer(tm, mod, LLVMObjectFile, &msg, &buf)) {
            rc = fl_error_set(err, FL_ERR_INTERNAL, "aot: object emission failed: %s", msg ? msg : "?");
            LLVMDisposeMessage(msg);
        } else {
            size_t n = LLVMGetBufferSize(buf);
            *obj = malloc(n ? n : 1);
            if (!*obj) {
                rc = fl_error_set(err, FL_ERR_NOMEM, "aot: out of memory for a %zu-byte object", n);
            } else {
                memcpy(*obj, LLVMGetBufferStart(buf), n);
                *obj_size = n;
            }
            LLVMDisposeMemoryBuffer(buf);
        }
    }
    if (mod)
        LLVMDisposeModule(mod);
    LLVMContextDispose(ctx);
    LLVMDisposeTargetMachine(tm);
    LLVMDisposeMessage(triple);
    return rc;
}

static int write_file(const char *path, const uint8_t *data, size_t n, struct fl_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return fl_error_set(err, FL_ERR_IO, "aot: cannot create %s: %s", path, strerror(errno));
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, data + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            return fl_error_set(err, FL_ERR_IO, "aot: cannot write %s: %s", path, strerror(errno));
        }
        done += (size_t)w;
    }
    if (close(fd) != 0)
        return fl_error_set(err, FL_ERR_IO, "aot: cannot write %s: %s", path, strerror(errno));
    return FL_OK;
}

/* First line of a (small) file into buf, for linker messages. */
static void first_line(const char *path, char *buf, size_t n)
{
    buf[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    if (fgets(buf, (int)n, f)) {
        char *nl = strchr(buf, '\n');
        if (nl)
            *nl = 0;
    }
    fclose(f);
}

static int run_linker(const char *lld, const char *obj_path, const char *so_path,
                      const char *log_path, int *status)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    char *argv[] = {(char *)lld, "-shared", "--hash-style=gnu", "-z", "noexecstack",
                    "-o", (char *)so_path, (char *)obj_path, NULL};
    pid_t pid;
    int rc = posix_spawnp(&pid, lld, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return rc;
    while (waitpid(pid, status, 0) < 0)
        if (errno != EINTR)
            return errno;
    return 0;
}

int aot_link_shared(const uint8_t *obj, size_t obj_size, const char *so_path, struct fl_error *err)
{
    const char *tmp = getenv("TMPDIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/faaslet-aot-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return fl_error_set(err, FL_ERR_IO, "aot: cannot create a temporary folder in %s: %s",
                            tmp && *tmp ? tmp : "/tmp", strerror(errno));
    char obj_path[4200], log_path[4200];
    snprintf(obj_path, sizeof obj_path, "%s/module.o", dir);
    snprintf(log_path, sizeof log_path, "%s/ld.log", dir);
    int rc = write_file(obj_path, obj, obj_size, err);
    if (!rc) {
        /* Debian installs lld as ld.lld-14 (and ld.lld with the lld package). */
        const char *lld = getenv("FAASLET_LLD");
        int status = 0, spawn_rc;
        if (lld && *lld) {
            spawn_rc = run_linker(lld, obj_path, so_path, log_path, &status);
        } else {
            lld = "ld.lld-14";
            spawn_rc = run_linker(lld, obj_path, so_path, log_path, &status);
            if (spawn_rc == ENOENT) {
                lld = "ld.lld";
                spawn_rc = run_linker(lld, obj_path, so_path, log_path, &status);
            }
        }
        if (spawn_rc != 0) {
            rc = fl_error_set(err, FL_ERR_IO, "aot: cannot run the linker %s: %s (install lld-14)", lld,
                              strerror(spawn_rc));
        } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            char line[160];
            first_line(log_path, line, sizeof line);
            rc = fl_error_set(err, FL_ERR_INTERNAL, "aot: %s failed: %s", lld, line[0] ? line : "no message");
        }
    }
    unlink(obj_path);
    unlink(log_path);
    rmdir(dir);
    return rc;
}

int aot_compile(const struct wasm_module *module, const struct aot_options *opts,
                const char *so_path, struct fl_error *err)
{
    uint8_t *obj = NULL;
    size_t n = 0;
    int rc = aot_compile_object(module, opts, &obj, &n, err);
    if (!rc)
        rc = aot_link_shared(obj, n, so_path, err);
    free(obj);
    return rc;
}
