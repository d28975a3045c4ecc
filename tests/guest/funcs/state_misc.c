/* state_misc: global locks, partial push with a mask, state from a file.
 * Expect: output "misc ok", return 0. Afterwards key "sm_masked" (global
 * tier) holds "AbCd": the value "abcd" was pushed, then "ABCD" written
 * locally with mask "1010" (non-zero at bytes 0 and 2) pushed with
 * faasmPushStatePartialMask. Key "sm_file" holds the 6 bytes "faasm\n" that
 * the function wrote to /tmp/sm_file.txt (its sandboxed filesystem). */
#include <faasm/faasm.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    faasmLockStateGlobal("sm_masked");
    faasmWriteState("sm_masked", (const uint8_t *)"abcd", 4);
    faasmPushState("sm_masked");
    const uint8_t mask[4] = {1, 0, 1, 0};
    faasmWriteState("sm_mask", mask, 4);
    faasmWriteState("sm_masked", (const uint8_t *)"ABCD", 4);
    faasmPushStatePartialMask("sm_masked", "sm_mask");
    faasmUnlockStateGlobal("sm_masked");

    FILE *f = fopen("/tmp/sm_file.txt", "w");
    if (f == NULL) {
        return 1;
    }
    fputs("faasm\n", f);
    fclose(f);
    unsigned long written = faasmWriteStateFromFile("sm_file", "/tmp/sm_file.txt");
    if (written != 6) {
        return 2;
    }
    uint8_t buf[8] = {0};
    faasmReadState("sm_file", buf, 6);
    if (memcmp(buf, "faasm\n", 6) != 0) {
        return 3;
    }
    const char *out = "misc ok";
    faasmSetOutput((const uint8_t *)out, (long)strlen(out));
    return 0;
}
