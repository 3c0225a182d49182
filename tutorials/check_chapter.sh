#!/usr/bin/env bash
# A chapter page tells the truth: every ```sh block on it is run exactly as
# written, from the repository root, and what it prints must be the ```text
# block that follows it; every excerpt of a program must be the lines its
# link names; every diagram must be what the shown commands draw; the
# chapter's exercise must catch its wrong first guess and accept its solution.
# The rules are in tutorials/AUTHORING.md.
#
#   check_chapter.sh CHAPTER_DIR SOURCE_ROOT BUILD_DIR [--update]
# (CHAPTER_DIR may be any folder with a README.md, such as the repository
# root and tutorials/, or a page's path, such as docs/using-corolib.md.)
#
# --update rewrites the page's output blocks, excerpts and diagrams from this
# run (review the diff with git before committing).
set -uo pipefail
src=$(cd "$2" && pwd) build=$(cd "$3" && pwd) mode=${4:-}
here=$(cd "$(dirname "$0")" && pwd)
if [ -f "$1" ]; then # a page of docs/: its folder holds what it links
  chapter=$(cd "$(dirname "$1")" && pwd) page=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
else
  chapter=$(cd "$1" && pwd) page=$(cd "$1" && pwd)/README.md
fi
name=$(basename "$chapter")
num=${name%%-*}
[ -f "$page" ] || { echo "$page: no such page" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The commands run in a copy of the repository root: the source tree's
# entries linked in, build/dev pointing at this build, so a shown command
# that writes a file writes it here and not into the source tree.
root=$work/root
mkdir -p "$root/build" "$work/blocks"
for e in "$src"/* "$src"/.[!.]*; do
  [ -e "$e" ] || continue
  case $(basename "$e") in build | .git) continue ;; esac
  ln -s "$e" "$root/$(basename "$e")"
done
ln -s "$build" "$root/build/dev"

# Descriptors inherited from the harness (make's jobserver, ctest's pipes)
# would shift every fd number a program prints: a learner's shell has 0-2.
for fd in $(ls /proc/$$/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null; done

plan=$work/plan
awk -v out="$work/blocks" -f "$here/blocks.awk" "$page" > "$plan" || exit 1
mapfile -t rows < "$plan"

fail=0
edits=$work/edits
: > "$edits"
norm() { sed -E -f "$here/normalise.sed" "$1"; }
problem() { echo "$page:$1: $2" >&2; fail=1; }
is_output() { case $1 in text | console | output) return 0 ;; esac; return 1; }

for ((k = 0; k < ${#rows[@]}; k++)); do
  IFS=$'\t' read -r n lang open close want adj source <<< "${rows[k]}"
  body=$work/blocks/$n
  if [ "$lang" = sh ] && [ "$want" = skip ]; then
    next=${rows[k + 1]:-}
    IFS=$'\t' read -r _ lang2 _ _ _ adj2 _ <<< "$next"
    if [ -n "$next" ] && is_output "$lang2" && [ "$adj2" = 1 ]; then k=$((k + 1)); fi
  elif [ "$lang" = sh ]; then
    got=$work/out.$n
    # A learner's terminal: a clean environment, stdout line-buffered. (The
    # outer 2>/dev/null only hides this shell's "Aborted" notice when a page
    # shows a program that dies of a signal; the program's own output is in $got.)
    { (cd "$root" && env -i PATH="$PATH" HOME="$HOME" LANG=C.UTF-8 TERM=dumb NO_COLOR=1 \
       ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}verify_asan_link_order=0" \
       TSAN_OPTIONS="${TSAN_OPTIONS:-}" \
       timeout 300 stdbuf -oL -eL bash -c "$(cat "$body")") > "$got" 2>&1 < /dev/null; } 2> /dev/null
    status=$?
    if [ "$status" != "$want" ]; then
      problem "$open" "the command exited with status $status, the page expects $want:"
      sed 's/^/    | /' "$got" | head -20 >&2
    fi
    next=${rows[k + 1]:-}
    IFS=$'\t' read -r n2 lang2 open2 close2 vary2 adj2 _ <<< "$next"
    if [ -n "$next" ] && is_output "$lang2" && [ "$adj2" = 1 ]; then
      # <!-- numbers vary --> (a run on several threads): numbers and spacing may differ.
      if [ "$vary2" = vary ]; then
        norm() { sed -E -f "$here/normalise.sed" "$1" | sed -E 's/[0-9]+/#/g; s/[[:space:]]+/ /g'; }
      else
        norm() { sed -E -f "$here/normalise.sed" "$1"; }
      fi
      if ! diff -q <(norm "$work/blocks/$n2") <(norm "$got") > /dev/null; then
        if [ "$mode" = --update ]; then
          echo "$((open2 + 1)) $((close2 - 1)) $got" >> "$edits"
        else
          problem "$open2" "the page shows output that is not what its command prints (- page, + run):"
          diff -u <(norm "$work/blocks/$n2") <(norm "$got") | tail -n +3 >&2
        fi
      fi
      k=$((k + 1))
    elif [ -s "$got" ]; then
      if [ "$mode" = --update ]; then
        { echo; echo '```text'; cat "$got"; echo '```'; } > "$got.block"
        echo "$((close + 1)) $close $got.block" >> "$edits"
      else
        problem "$close" "the command prints output the page does not show (add a \`\`\`text block after it):"
        sed 's/^/    | /' "$got" | head -20 >&2
      fi
    fi
  elif is_output "$lang"; then
    problem "$open" "an output block with no command before it"
  elif [ -n "$source" ]; then
    file=${source%:*} range=${source##*:}
    a=${range%-*} b=${range#*-}
    path=$chapter/$file
    if [ ! -f "$path" ]; then problem "$open" "the excerpt's link names $file, which does not exist"; continue; fi
    if ! cmp -s <(sed -n "${a},${b}p" "$path") "$body"; then
      if [ "$mode" = --update ]; then
        # The code moved (same length, found elsewhere in the file)? Follow
        # it. Otherwise the link is what the author means: refresh the text.
        len=$(wc -l < "$body")
        at=
        [ -s "$body" ] && [ "$len" = $((b - a + 1)) ] && at=$(awk -v len="$len" -v want="$(cat "$body")" '
          { l[NR] = $0 } END {
            for (i = 1; i + len - 1 <= NR; i++) {
              s = l[i]; for (j = 1; j < len; j++) s = s "\n" l[i + j]
              if (s == want) { print i; exit } } }' "$path")
        if [ -n "$at" ]; then
          echo "$open: the excerpt of $file moved to lines $at-$((at + len - 1))" >&2
          sed -n "1,$((open - 1))p" "$page" | grep -n "#L$a-L$b)" | tail -1 | cut -d: -f1 > "$work/linkline"
          ln=$(cat "$work/linkline")
          sed -n "${ln}p" "$page" | sed "s/:$a-$b\]/:$at-$((at + len - 1))]/; s/#L$a-L$b)/#L$at-L$((at + len - 1)))/" > "$work/link.$n"
          echo "$ln $ln $work/link.$n" >> "$edits"
        else
          sed -n "${a},${b}p" "$path" > "$work/excerpt.$n"
          echo "$((open + 1)) $((close - 1)) $work/excerpt.$n" >> "$edits"
        fi
      else
        problem "$open" "this excerpt is not lines $a-$b of $file (if the code only moved, tutorials/regenerate.sh $num follows it; - page, + file):"
        diff -u "$body" <(sed -n "${a},${b}p" "$path") | tail -n +3 >&2
      fi
    fi
  fi
done

# Diagrams: each image the page shows is one its commands drew.
for img in $(grep -oE '!\[[^]]*\]\([^)]+\.svg\)' "$page" | sed -E 's/.*\(([^)]+)\)/\1/'); do
  drawn=$root/$(basename "$img")
  if [ ! -s "$drawn" ]; then
    problem 1 "the page shows $img, but none of its commands writes $(basename "$img")"
    continue
  fi
  # The diagram's text is normalised as the output blocks are (a port in a socket's name).
  strip() { grep -v '^<!-- Generated by graphviz' "$1" 2>/dev/null | sed -E -f "$here/normalise.sed"; }
  if ! cmp -s <(strip "$chapter/$img") <(strip "$drawn"); then
    if [ "$mode" = --update ]; then
      cp "$drawn" "$chapter/$img"
      echo "updated $chapter/$img"
    else
      problem 1 "$img is not the diagram its command draws now (run tutorials/regenerate.sh $num)"
    fi
  fi
done

# The exercise: the wrong first guess is caught, the solution accepted.
viewer=$build/viz/coroscope
if [ -f "$chapter/exercise/first-guess.txt" ]; then
  for f in first-guess:4 solution:0; do
    file=$chapter/exercise/${f%:*}.txt
    if [ ! -f "$file" ]; then problem 1 "exercise/${f%:*}.txt is missing"; continue; fi
    (cd "$root" && "$viewer" tutorial check "$num" "$file") > "$work/ex" 2>&1
    st=$?
    if [ "$st" != "${f#*:}" ]; then
      problem 1 "coroscope tutorial check $num exercise/${f%:*}.txt exited $st, not ${f#*:}:"
      sed 's/^/    | /' "$work/ex" >&2
    fi
  done
fi

if [ "$mode" = --update ] && [ -s "$edits" ]; then
  sort -n -k1,1 "$edits" > "$edits.sorted"
  awk -v edits="$edits.sorted" '
    BEGIN { while ((getline e < edits) > 0) { m++; split(e, f, " "); s[m] = f[1]; t[m] = f[2]; p[m] = f[3] } i = 1 }
    {
      while (i <= m && s[i] == NR) {
        while ((getline l < p[i]) > 0) print l
        close(p[i])
        skip = t[i]; i++
      }
      if (NR <= skip) next
      print
    }
    END { while (i <= m) { while ((getline l < p[i]) > 0) print l; i++ } }' "$page" > "$work/page.new"
  cp "$work/page.new" "$page"
  echo "updated $page (review: git diff $page)"
fi
[ "$mode" = --update ] && exit 0
[ $fail = 0 ] && echo "${page#"$src"/}: every command, excerpt, diagram and exercise on the page is true"
exit $fail
