# Splits a chapter page into its fenced blocks, for check_chapter.sh.
#   awk -v out=DIR -f blocks.awk README.md
# Writes DIR/N (the lines inside block N) and prints one line per block:
#   N <TAB> lang <TAB> open-line <TAB> close-line <TAB> exit <TAB> adjacent <TAB> source
# exit:     the status a `<!-- exit N -->` line just before the block expects (default 0),
#           or "skip" after a `<!-- skip: why -->` line (the set-up commands of README.md);
#           for an output block, "vary" when `<!-- numbers vary -->` precedes it
# adjacent: 1 when only blank lines separate the block from the previous one
# source:   "path:A-B" when the line before the block is a link [..](path#LA-LB)
BEGIN { n = 0; inside = 0; exitc = 0; gap = 1; prev = "" }
{
    line = $0
    if (inside) {
        if (line ~ /^```[ \t]*$/) {
            inside = 0
            close(file)
            print n "\t" lang "\t" open "\t" NR "\t" bexit "\t" adj "\t" src
            gap = 0
            prev = ""
            next
        }
        print line > file
        next
    }
    if (line ~ /^```/) {
        n++
        inside = 1
        lang = substr(line, 4)
        gsub(/[ \t]/, "", lang)
        open = NR
        file = out "/" n
        printf "" > file
        bexit = exitc
        exitc = 0
        adj = (n > 1 && gap == 0) ? 1 : 0
        src = ""
        if (prev ~ /\]\([^)#]*#L[0-9]+-L[0-9]+\)/) {
            s = prev
            sub(/^.*\]\(/, "", s)
            sub(/\).*$/, "", s)
            split(s, parts, "#")
            rng = parts[2]
            gsub(/L/, "", rng)
            src = parts[1] ":" rng
        }
        next
    }
    if (line ~ /^<!-- skip: .* -->[ \t]*$/) {
        exitc = "skip"
        next
    }
    if (line ~ /^<!-- numbers vary -->[ \t]*$/) {
        exitc = "vary"
        next
    }
    if (line ~ /^<!-- exit [0-9]+ -->[ \t]*$/) {
        exitc = line
        gsub(/[^0-9]/, "", exitc)
        next
    }
    if (line !~ /^[ \t]*$/) {
        gap = 1
        prev = line
    }
}
END {
    if (inside) {
        print FILENAME ":" open ": a ``` block that never closes" > "/dev/stderr"
        exit 1
    }
}
