#!/usr/bin/env bash
# A chapter stays true: its program's trace and log match the chapter's
# files, and the README shows exactly that log between <!-- log --> marks.
#   check_chapter.sh PROGRAM CHAPTER_DIR NAME GOLDEN_SH CHECKER [--update]
set -euo pipefail
prog=$1 dir=$2 name=$3 golden=$4 checker=$5 mode=${6:-}
bash "$golden" "$prog" "$name" "$dir" "$checker" $mode
[ "$mode" = --update ] && exit 0
shown=$(awk '/<!-- log -->/{f=1; next} /<!-- \/log -->/{f=0} f' "$dir/README.md" | sed '/^```/d')
if [ "$shown" != "$(cat "$dir/$name.log")" ]; then
  echo "$dir/README.md shows a log that is not what $name prints now:" >&2
  diff <(echo "$shown") "$dir/$name.log" >&2 || true
  exit 1
fi
