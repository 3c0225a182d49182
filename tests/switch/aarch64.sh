#!/usr/bin/env bash
# Cross-compiles the aarch64 switch and its test with Debian's
# aarch64-linux-gnu-gcc and runs it under qemu-user: the assembly is
# tested, not just written.
#   aarch64.sh SOURCE_DIR WORK_DIR
set -euo pipefail
src=$1
work=$2
mkdir -p "$work"
s=$src/corolib/src
aarch64-linux-gnu-gcc -std=c17 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -I"$s" \
  "$src/tests/switch/test_switch.c" "$s/switch_asm.c" "$s/switch_aarch64.S" \
  -o "$work/test_switch_aarch64" -lm
file "$work/test_switch_aarch64" 2>/dev/null | grep -q aarch64 || true
qemu-aarch64-static -L /usr/aarch64-linux-gnu "$work/test_switch_aarch64"
