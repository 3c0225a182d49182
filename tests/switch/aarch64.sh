#!/usr/bin/env bash
# Cross-compiles the aarch64 switch and its test with Debian's
# aarch64-linux-gnu-gcc and runs it under qemu-user: the assembly is
# tested, not just written. cmocka is not installed for arm64, so the test
# is built with its built-in shim (-DSWITCH_TEST_NO_CMOCKA).
#   aarch64.sh SOURCE_DIR WORK_DIR
set -euo pipefail
src=$1
work=$2
mkdir -p "$work"
s=$src/corolib/src
bin=$work/test_switch_aarch64
aarch64-linux-gnu-gcc -std=c17 -O2 -Wall -Wextra -Wno-unused-parameter -Werror -D_GNU_SOURCE \
  -DSWITCH_TEST_NO_CMOCKA -I"$s" \
  "$src/tests/switch/test_switch.c" "$s/switch_asm.c" "$s/switch_aarch64.S" -o "$bin" -lm
# Refuse to "pass" on a host binary: it must be the aarch64 code under qemu.
aarch64-linux-gnu-readelf -h "$bin" | grep -q 'Machine:.*AArch64' || {
  echo "aarch64.sh: $bin is not an AArch64 executable" >&2
  exit 1
}
aarch64-linux-gnu-nm "$bin" | grep -q ' coro__switch_asm$' || {
  echo "aarch64.sh: coro__switch_asm missing from $bin" >&2
  exit 1
}
exec qemu-aarch64-static -L /usr/aarch64-linux-gnu "$bin"
