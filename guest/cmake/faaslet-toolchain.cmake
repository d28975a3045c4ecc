# faaslet-toolchain.cmake: build Faasm functions with CMake, e.g.
#   cmake -S myfuncs -B b -DCMAKE_TOOLCHAIN_FILE=<build>/guest/cmake/faaslet-toolchain.cmake
# (or this file in the source tree with -DFAASLET_BIN_DIR=<build>/bin).
# Executables come out as WASI commands ready to upload; name them *.wasm.
set(CMAKE_SYSTEM_NAME WASI)
set(CMAKE_SYSTEM_VERSION 1)
set(CMAKE_SYSTEM_PROCESSOR wasm32)

if(NOT FAASLET_BIN_DIR)
  if(DEFINED ENV{FAASLET_BIN_DIR})
    set(FAASLET_BIN_DIR $ENV{FAASLET_BIN_DIR})
  else()
    # Installed layout: <prefix>/guest/cmake/this file, <prefix>/bin/faaslet-cc.
    get_filename_component(FAASLET_BIN_DIR "${CMAKE_CURRENT_LIST_DIR}/../../bin" ABSOLUTE)
  endif()
endif()
set(FAASLET_BIN_DIR ${FAASLET_BIN_DIR} CACHE PATH "Folder holding faaslet-cc")

set(CMAKE_C_COMPILER ${FAASLET_BIN_DIR}/faaslet-cc)
set(CMAKE_CXX_COMPILER ${FAASLET_BIN_DIR}/faaslet-c++)
set(CMAKE_AR llvm-ar-14 CACHE FILEPATH "Archiver")
set(CMAKE_RANLIB llvm-ranlib-14 CACHE FILEPATH "Ranlib")
set(CMAKE_C_COMPILER_TARGET wasm32-wasi)
set(CMAKE_CXX_COMPILER_TARGET wasm32-wasi)
# Platform/WASI.cmake beside this file: .wasm executables, static libraries.
list(APPEND CMAKE_MODULE_PATH ${CMAKE_CURRENT_LIST_DIR})

# Compiler checks would try to run wasm on the host.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
