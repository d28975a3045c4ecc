/* host_interface.h: the raw host imports (module "env", names __faasm_*) that
 * libfaasm is built on. docs/GUEST-API.md is the contract for each one; most
 * function code should use the friendlier calls in faasm/core.h instead. */
#ifndef FAASM_HOST_INTERFACE_H
#define FAASM_HOST_INTERFACE_H

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __wasm__
/* Import from module "env" under the exact C name, so the linker never needs
 * to guess and the import list stays in step with docs/GUEST-API.md. */
#define FAASM_IMPORT(name) \
    __attribute__((import_module("env"), import_name(#name)))
#else
/* Natively (e.g. unit tests of function logic) nothing provides these. */
#define FAASM_IMPORT(name) __attribute__((weak))
#endif

/* Function input, output and chaining */
FAASM_IMPORT(__faasm_read_input)
long __faasm_read_input(unsigned char *buffer, long bufferLen);
FAASM_IMPORT(__faasm_write_output)
void __faasm_write_output(const unsigned char *output, long outputLen);
FAASM_IMPORT(__faasm_chain_name)
unsigned int __faasm_chain_name(const char *name, const unsigned char *inputData,
                                long inputDataSize);
FAASM_IMPORT(__faasm_chain_ptr)
unsigned int __faasm_chain_ptr(int (*funcPtr)(void), const unsigned char *inputData,
                               long inputDataSize);
FAASM_IMPORT(__faasm_await_call)
int __faasm_await_call(unsigned int callId);
FAASM_IMPORT(__faasm_await_call_output)
int __faasm_await_call_output(unsigned int callId, unsigned char *buffer,
                              long bufferLen);
FAASM_IMPORT(__faasm_conf_flag)
unsigned int __faasm_conf_flag(const char *key);
FAASM_IMPORT(__faasm_backtrace)
void __faasm_backtrace(int depth);

/* State: whole values */
FAASM_IMPORT(__faasm_read_state)
long __faasm_read_state(const char *key, unsigned char *buffer, long bufferLen);
FAASM_IMPORT(__faasm_read_state_ptr)
unsigned char *__faasm_read_state_ptr(const char *key, long totalLen);
FAASM_IMPORT(__faasm_write_state)
void __faasm_write_state(const char *key, const unsigned char *data, long dataLen);
FAASM_IMPORT(__faasm_write_state_from_file)
unsigned int __faasm_write_state_from_file(const char *key, const char *filePath);

/* State: chunks at an offset */
FAASM_IMPORT(__faasm_read_state_offset)
void __faasm_read_state_offset(const char *key, long totalLen, long offset,
                               unsigned char *buffer, long bufferLen);
FAASM_IMPORT(__faasm_read_state_offset_ptr)
unsigned char *__faasm_read_state_offset_ptr(const char *key, long totalLen,
                                             long offset, long len);
FAASM_IMPORT(__faasm_write_state_offset)
void __faasm_write_state_offset(const char *key, long totalLen, long offset,
                                const unsigned char *data, long dataLen);
FAASM_IMPORT(__faasm_flag_state_dirty)
void __faasm_flag_state_dirty(const char *key, long totalLen);
FAASM_IMPORT(__faasm_flag_state_offset_dirty)
void __faasm_flag_state_offset_dirty(const char *key, long totalLen, long offset,
                                     long len);

/* State: append-only values */
FAASM_IMPORT(__faasm_append_state)
void __faasm_append_state(const char *key, const unsigned char *data, long dataLen);
FAASM_IMPORT(__faasm_read_appended_state)
void __faasm_read_appended_state(const char *key, unsigned char *buffer,
                                 long bufferLen, long nElems);
FAASM_IMPORT(__faasm_clear_appended_state)
void __faasm_clear_appended_state(const char *key);

/* State: moving values between the host-local and the global tier */
FAASM_IMPORT(__faasm_push_state)
void __faasm_push_state(const char *key);
FAASM_IMPORT(__faasm_push_state_partial)
void __faasm_push_state_partial(const char *key);
FAASM_IMPORT(__faasm_push_state_partial_mask)
void __faasm_push_state_partial_mask(const char *key, const char *maskKey);
FAASM_IMPORT(__faasm_pull_state)
void __faasm_pull_state(const char *key, long stateLen);

/* State: locks */
FAASM_IMPORT(__faasm_lock_state_read)
void __faasm_lock_state_read(const char *key);
FAASM_IMPORT(__faasm_unlock_state_read)
void __faasm_unlock_state_read(const char *key);
FAASM_IMPORT(__faasm_lock_state_write)
void __faasm_lock_state_write(const char *key);
FAASM_IMPORT(__faasm_unlock_state_write)
void __faasm_unlock_state_write(const char *key);
FAASM_IMPORT(__faasm_lock_state_global)
void __faasm_lock_state_global(const char *key);
FAASM_IMPORT(__faasm_unlock_state_global)
void __faasm_unlock_state_global(const char *key);

#ifdef __cplusplus
}
#endif

#endif
