#!/usr/bin/env bash
# Resident memory against live coroutines, per stack mode: runs
# `bench_stacks memory MODE N --in-use 1024` for N from 1,000 to MAXN (a
# fresh process each), writes the table and draws it with gnuplot.
#   bench/stacks/plot.sh BUILD_DIR OUT_DIR      (MAXN=1000000 by default)
# Writes OUT_DIR/stack_modes_rss.dat and OUT_DIR/stack_modes_rss.svg.
set -euo pipefail
build=${1:-build/release}
out=${2:-docs/img}
maxn=${MAXN:-1000000}
bin=$build/bench/stacks/bench_stacks
[ -x "$bin" ] || { echo "bench/stacks: $bin not built" >&2; exit 1; }
command -v gnuplot >/dev/null || { echo "bench/stacks: gnuplot not installed (BENCH=1 scripts/deps.sh)" >&2; exit 1; }
mkdir -p "$out"
dat=$out/stack_modes_rss.dat
{
  echo "# live_coroutines resident_MiB per mode (1 KiB of stack in use each; bench_stacks memory MODE N --in-use 1024)"
  echo "# mode N MiB bytes_each   (a guarded row that stopped at the mapping limit is left out)"
  for mode in guarded slab copy; do
    for n in 1000 3000 10000 30000 100000 300000 1000000; do
      [ "$n" -le "$maxn" ] || continue
      line=$("$bin" memory "$mode" "$n" --in-use 1024 || true)
      echo "$line" >&2
      case $line in
        *"stopped at"*) break ;;
        *live*) echo "$line" | awk '{ for (i = 1; i <= NF; i++) if ($i == "MiB" && $(i+1) == "in") mib = $(i-1);
                                      printf "%s %s %s %s\n", $1, $2, mib, $4 }' ;;
      esac
    done
    echo; echo
  done
} > "$dat"
limit=$(cat /proc/sys/vm/max_map_count 2>/dev/null || echo 65530)
gnuplot <<GP
set terminal svg size 720,440 font "sans,12"
set output "$out/stack_modes_rss.svg"
set termoption noenhanced
set title "Resident memory of live coroutines, 1 KiB of stack in use each"
set xlabel "live coroutines"
set ylabel "resident memory (MiB)"
set logscale xy
set key top left
set grid
set arrow from $((limit / 2)), graph 0 to $((limit / 2)), graph 1 nohead dashtype 2
set label noenhanced "guarded stops here:\nvm.max_map_count=$limit,\n2 mappings each" at $((limit / 2)), graph 0.2 left offset 0.5,0
plot "$dat" index 0 using 2:3 with linespoints title "guarded (8 KiB each)", \
     "$dat" index 1 using 2:3 with linespoints title "slab (5.5 KiB each)", \
     "$dat" index 2 using 2:3 with linespoints title "copy (1.4 KiB each)"
GP
echo "wrote $dat and $out/stack_modes_rss.svg"
