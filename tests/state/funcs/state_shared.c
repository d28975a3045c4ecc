/* state_shared: drives the global state tier from separate faaslet
 * processes (tests/state/redis_processes.sh). The input picks the action:
 *   put:TEXT      write TEXT as "ss_text" and push it; output "put"
 *   get           pull "ss_text" and output it
 *   incr:N        N times: under the global lock, pull "ss_counter", add 1,
 *                 push; output "counter=<last value written>"
 *   append:TAG:N  append N 8-byte elements "TAG<i>" (zero-padded) to "ss_list"
 *   check:N       read N appended elements of "ss_list"; output
 *                 "appends=N distinct=<count of distinct elements>"
 * Returns 0, or 1 with output "bad input" for anything else. */
#include <faasm/faasm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ELEM 8

static int out(const char *s)
{
    faasmSetOutput((const uint8_t *)s, (long)strlen(s));
    return 0;
}

static int cmp_elem(const void *a, const void *b)
{
    return memcmp(a, b, ELEM);
}

int main(void)
{
    static char in[4096];
    long n = faasmGetInputSize();
    if (n <= 0 || n >= (long)sizeof in) {
        out("bad input");
        return 1;
    }
    faasmGetInput((uint8_t *)in, n);
    in[n] = '\0';
    char buf[128];

    if (!strncmp(in, "put:", 4)) {
        faasmWriteState("ss_text", (const uint8_t *)in + 4, n - 4);
        faasmPushState("ss_text");
        return out("put");
    }
    if (!strcmp(in, "get")) {
        long size = faasmReadStateSize("ss_text");
        if (size <= 0 || size >= (long)sizeof in)
            return out("(missing)");
        faasmPullState("ss_text", size);
        faasmReadState("ss_text", (uint8_t *)in, size);
        in[size] = '\0';
        return out(in);
    }
    if (!strncmp(in, "incr:", 5)) {
        int times = atoi(in + 5);
        uint32_t value = 0;
        for (int i = 0; i < times; i++) {
            faasmLockStateGlobal("ss_counter");
            faasmPullState("ss_counter", 4);
            faasmReadState("ss_counter", (uint8_t *)&value, 4);
            value++;
            faasmWriteState("ss_counter", (const uint8_t *)&value, 4);
            faasmPushState("ss_counter");
            faasmUnlockStateGlobal("ss_counter");
        }
        snprintf(buf, sizeof buf, "counter=%u", value);
        return out(buf);
    }
    if (!strncmp(in, "append:", 7)) {
        char tag = in[7];
        int times = atoi(in + 9);
        for (int i = 0; i < times; i++) {
            char elem[ELEM + 1];
            snprintf(elem, sizeof elem, "%c%07d", tag, i);
            faasmAppendState("ss_list", (const uint8_t *)elem, ELEM);
        }
        return out("appended");
    }
    if (!strncmp(in, "check:", 6)) {
        long count = atol(in + 6);
        if (count <= 0 || count > 100000)
            return out("bad input");
        char *all = malloc((size_t)count * ELEM);
        if (!all)
            return 1;
        faasmReadAppendedState("ss_list", (uint8_t *)all, count * ELEM, count);
        qsort(all, (size_t)count, ELEM, cmp_elem);
        long distinct = 1;
        for (long i = 1; i < count; i++)
            distinct += memcmp(all + (i - 1) * ELEM, all + i * ELEM, ELEM) != 0;
        snprintf(buf, sizeof buf, "appends=%ld distinct=%ld", count, distinct);
        free(all);
        return out(buf);
    }
    out("bad input");
    return 1;
}
