// chain_cpp: the C++ spellings newer Faasm code uses: char buffers for
// faasmChainNamed / faasmChain / faasmSetOutput / faasmAwaitCallOutput, and
// nullptr inputs. Expect: output "echo:hi child:7", return 0.
#include <faasm/faasm.h>
#include <faasm/input.h>

#include <cstring>
#include <string>

static int child()
{
    int value = faasm::getTypedInput<int>(0);
    std::string out = std::to_string(value);
    faasmSetOutput(out.c_str(), (long)out.size());
    return 0;
}

int main()
{
    const char *hi = "hi";
    unsigned int echoId = faasmChainNamed("echo", hi, 2);
    char echoed[16] = {};
    if (faasmAwaitCallOutput(echoId, echoed, sizeof echoed - 1) != 0) {
        return 1;
    }
    int seven = 7;
    unsigned int childId = faasmChain(child, BYTES(&seven), sizeof seven);
    char childOut[16] = {};
    if (faasmAwaitCallOutput(childId, childOut, sizeof childOut - 1) != 0) {
        return 2;
    }
    unsigned int empty = faasmChainNamed("echo", nullptr, 0);
    if (faasmAwaitCall(empty) != 0) {
        return 3;
    }
    std::string out = std::string("echo:") + echoed + " child:" + childOut;
    faasmSetOutput(out.c_str(), (long)out.size());
    return 0;
}
