#!/usr/bin/env bash
# Installs the built corolib into a scratch prefix and builds a program
# outside the project against it, with find_package and with pkg-config.
#   install_test.sh BUILD_DIR WORK_DIR
set -euo pipefail
build=$1
work=$2
src=$(cd "$(dirname "$0")" && pwd)/consumer
rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix

cmake --install "$build" --prefix "$prefix" >/dev/null
for f in include/coro/coro.h include/coro/trace.h include/coro/config.h \
         lib/libcoro.a lib/libcoro.so lib/cmake/corolib/corolibConfig.cmake \
         lib/pkgconfig/corolib.pc; do
  [ -e "$prefix/$f" ] || { echo "not installed: $f" >&2; exit 1; }
done

# 1. CMake: find_package(corolib), shared and static.
cmake -S "$src" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
cmake --build "$work/cmake-build" >/dev/null
LD_LIBRARY_PATH="$prefix/lib" "$work/cmake-build/consumer_shared" | grep -qx "answer returned 42"
"$work/cmake-build/consumer_static" | grep -qx "answer returned 42"
if ldd "$work/cmake-build/consumer_static" | grep -q libcoro; then
  echo "static consumer links libcoro.so" >&2; exit 1
fi

# 2. pkg-config, with the compiler by hand.
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
cc -std=c17 -o "$work/pc_shared" "$src/main.c" $(pkg-config --cflags --libs corolib)
LD_LIBRARY_PATH="$prefix/lib" "$work/pc_shared" | grep -qx "answer returned 42"
cc -std=c17 -o "$work/pc_static" "$src/main.c" $(pkg-config --cflags corolib) \
   "$prefix/lib/libcoro.a" $(pkg-config --static --libs-only-l corolib | sed 's/-lcoro//')
"$work/pc_static" | grep -qx "answer returned 42"

# 3. Names are printf formats: the exported flags make a name from input
#    passed as the format a warning, with find_package and with pkg-config.
cmake --build "$work/cmake-build" --target name_from_input > "$work/name_warn.cmake" 2>&1
cc -std=c17 -c -o "$work/name_from_input.o" "$src/name_from_input.c" $(pkg-config --cflags corolib) \
   2> "$work/name_warn.pc"
for how in cmake pc; do
  grep -q 'Wformat-security' "$work/name_warn.$how" || {
    echo "no -Wformat-security warning for a name from input ($how):" >&2
    cat "$work/name_warn.$how" >&2; exit 1; }
done
# 4. Code on coroutine stacks must probe big frames: -fstack-clash-protection
#    is a usage requirement of both targets and in corolib.pc's Cflags.
n=$(grep -c -- '-fstack-clash-protection' "$work/cmake-build/compile_commands.json" || true)
[ "$n" -ge 2 ] || { echo "find_package consumers not built with -fstack-clash-protection" >&2; exit 1; }
pkg-config --cflags corolib | grep -q -- '-fstack-clash-protection' || {
  echo "corolib.pc Cflags lack -fstack-clash-protection" >&2; exit 1; }
echo "install test: find_package and pkg-config consumers ran, shared and static; names warn; stack-clash probing exported"
