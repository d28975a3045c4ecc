# Platform/WASI.cmake: what CMake needs to know about the WASI "system" that
# faaslet-toolchain.cmake selects: executables are .wasm, no shared libraries.
set(CMAKE_EXECUTABLE_SUFFIX .wasm)
set(CMAKE_STATIC_LIBRARY_PREFIX lib)
set(CMAKE_STATIC_LIBRARY_SUFFIX .a)
set_property(GLOBAL PROPERTY TARGET_SUPPORTS_SHARED_LIBS FALSE)
