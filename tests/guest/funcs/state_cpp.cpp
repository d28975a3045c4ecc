// state_cpp: state from C++ as typed arrays: an int array through a shared
// pointer, summed after a copy read. Input: an int n (4 bytes, default 10).
// Expect: output "sum=<n*(n-1)/2>" (45 for the default), return 0.
#include <faasm/faasm.h>
#include <faasm/input.h>

#include <string>
#include <vector>

int main()
{
    int n = faasm::getTypedInput<int>(10);
    if (n <= 0 || n > 1024) {
        return 1;
    }
    long bytes = n * (long)sizeof(int);
    int *shared = reinterpret_cast<int *>(faasmReadStatePtr("cpp_ints", bytes));
    for (int i = 0; i < n; i++) {
        shared[i] = i;
    }
    faasmFlagStateDirty("cpp_ints", bytes);
    faasmPushState("cpp_ints");

    std::vector<int> copy(n);
    faasmReadState("cpp_ints", reinterpret_cast<unsigned char *>(copy.data()), bytes);
    long sum = 0;
    for (int v : copy) {
        sum += v;
    }
    faasm::setStringOutput(("sum=" + std::to_string(sum)).c_str());
    return 0;
}
