/* input.h: C++ helpers over faasm/core.h for typed and string input/output,
 * as in Faasm's faasm/input.h. Header-only, so libfaasm stays plain C. */
#ifndef FAASM_INPUT_H
#define FAASM_INPUT_H

#include "faasm/core.h"

#ifdef __cplusplus
#include <cstdlib>
#include <cstring>

namespace faasm {

/* Returns the input read as one T, or defaultValue if there is no input. */
template <typename T>
T getTypedInput(T defaultValue)
{
    if (faasmGetInputSize() == 0) {
        return defaultValue;
    }
    T value = defaultValue;
    faasmGetInput(reinterpret_cast<uint8_t *>(&value), (long)sizeof(T));
    return value;
}

/* Returns the input as a NUL-terminated string the caller owns (delete[]),
 * or defaultValue (not a copy) if there is no input. */
inline const char *getStringInput(const char *defaultValue)
{
    long size = faasmGetInputSize();
    if (size <= 0) {
        return defaultValue;
    }
    char *buffer = new char[(size_t)size + 1];
    faasmGetInput(reinterpret_cast<uint8_t *>(buffer), size);
    buffer[size] = '\0';
    return buffer;
}

/* Sets the output to the bytes of a NUL-terminated string (without the NUL). */
inline void setStringOutput(const char *value)
{
    faasmSetOutput(reinterpret_cast<const uint8_t *>(value), (long)std::strlen(value));
}

/* Parses up to `expected` space-separated integers; returns a new[] array of
 * `expected` ints the caller owns (missing ones are 0). */
inline int *parseStringToIntArray(const char *inStr, int expected)
{
    int *result = new int[expected > 0 ? expected : 1]();
    const char *p = inStr;
    for (int i = 0; i < expected && p != nullptr && *p != '\0'; i++) {
        char *end = nullptr;
        long v = std::strtol(p, &end, 10);
        if (end == p) {
            break;
        }
        result[i] = (int)v;
        p = end;
    }
    return result;
}

} // namespace faasm
#endif

#endif
