# Top-level entry points. `make` builds into build/; `make check` runs every
# test (release and ASan+UBSan builds, spec suite, fuzz smoke); `make demo`
# runs the example functions. check and demo install missing packages first.
JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan

.PHONY: all setup configure check check-release check-asan demo bench clean

all: configure
	cmake --build $(BUILD) -j $(JOBS)

configure:
	@test -f $(BUILD)/CMakeCache.txt || cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

setup:
	scripts/setup

check: setup
	$(MAKE) all
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	@test -f $(ASAN_BUILD)/CMakeCache.txt || CC=clang-14 CXX=clang++-14 cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DFL_SANITIZE=ON -DFL_FUZZ=ON
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS) -LE noasan

demo: setup
	$(MAKE) all
	scripts/demo

bench: setup
	$(MAKE) all
	bench/run

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
