# SocialBank - a thin Makefile over CMake. Two commands set everything up:
#   make run    install what is missing, build, start the server with demo data
#   make test   install what is missing, build twice (release, and debug with
#               ASan+UBSan and the fuzzers), run every test in both; also
#               compile a gcc -O3 Release build (warnings only the optimiser sees)
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
RELEASE := build/release
ASAN := build/asan
O3 := build/o3
PORT ?= 8080
DATA ?= ./data

.PHONY: all deps build build-asan build-o3 run test test-release test-asan bench model clean format

all: build

deps:
	@scripts/deps.sh

$(RELEASE)/CMakeCache.txt:
	cmake -S . -B $(RELEASE) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

$(ASAN)/CMakeCache.txt:
	CC=clang cmake -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=Debug -DSB_SANITIZE=ON -DSB_FUZZ=ON >/dev/null

build: deps $(RELEASE)/CMakeCache.txt
	cmake --build $(RELEASE) -j $(JOBS)

build-asan: deps $(ASAN)/CMakeCache.txt
	cmake --build $(ASAN) -j $(JOBS)

$(O3)/CMakeCache.txt:
	cmake -S . -B $(O3) -DCMAKE_BUILD_TYPE=Release >/dev/null

# Compile only: gcc at -O3 reports some -Werror warnings no other build sees.
build-o3: deps $(O3)/CMakeCache.txt
	cmake --build $(O3) -j $(JOBS)

run: build
	scripts/run.sh $(RELEASE)/socialbank $(DATA) $(PORT)

test: build build-asan build-o3
	cd $(RELEASE) && ctest --output-on-failure -j $(JOBS) --timeout 900
	cd $(ASAN) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --output-on-failure -j $(JOBS) --timeout 900

bench: build
	bench/run.sh $(RELEASE) all

bench-%: build
	bench/run.sh $(RELEASE) $*

# The shipped classifier model, trained reproducibly from models/starter/
# into $(RELEASE)/models/default.sbm (see cmake/default_model.cmake).
model: deps $(RELEASE)/CMakeCache.txt
	cmake --build $(RELEASE) -j $(JOBS) --target default_model

clean:
	rm -rf build

format:
	clang-format -i $$(git ls-files '*.c' '*.h')
