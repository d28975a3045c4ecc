// hello_cpp: C++ with libc++ (string, vector, iostream), the faasm/input.h
// helpers and a zygote that fills a global std::vector (a C++ constructor
// runs before the zygote; neither may run again per call).
// Expect: input "abc" -> output "cba|3|10", stdout "hello from C++";
// no input -> output "tupni-on|3|10". Return 0.
#include <faasm/faasm.h>
#include <faasm/input.h>

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

static std::vector<int> primed;

FAASM_ZYGOTE()
{
    primed = {1, 2, 3, 4};
    return 0;
}

int main()
{
    std::cout << "hello from C++" << std::endl;
    std::string in = faasm::getStringInput("no-input");
    std::reverse(in.begin(), in.end());
    int sum = 0;
    for (int v : primed) {
        sum += v;
    }
    std::string out = in + "|" + std::to_string(in.size()) + "|" + std::to_string(sum);
    faasm::setStringOutput(out.c_str());
    primed.push_back(100); // undone by the reset
    return 0;
}
