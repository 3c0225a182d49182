# Finds the commands a page shows and the output blocks that show what they
# print, for tests/docs/performance_test.sh (its header gives the rules).
#   awk -v out=DIR -f commands.awk PAGE
# Writes DIR/block.N (the lines of the output block opened at line N) and
# prints, in page order, one tab-separated line per finding:
#   cmd    ID  LINE  TEXT           a command (numbered from 1), run as written
#   form   LINE  WHY  TEXT          a span that looks like a command but is not run
#   block  OPEN  CLOSE  EXCERPT  IDS
#       an output block (EXCERPT 1 after `<!-- excerpt -->`), with the ids of
#       the commands whose output it shows, comma-separated: the last command
#       of the paragraph right before it, or every line of a ```sh block right
#       before it; empty when there is none
BEGIN { fence = ""; para = ""; nlines = 0; prevcmds = ""; excerpt = 0; ncmd = 0 }

# The prefixes of an inline span that a reader would run.
function runnable_prefix(s) {
    return s ~ /^(bash bench\/|taskset |bench\/|build\/release\/|make |cmake |R=\$PWD|for n in )/
}

# "" when the span is a command, else why it is not (a name is silently not).
function why_not(s,    w, n, i) {
    n = split(s, w, / +/)
    if (s ~ /^bench\// && n == 1) return "name"
    if (s ~ /^taskset( -c)? [0-9][0-9,-]*$/) return "name"
    for (i = 1; i <= n; i++) {
        if (w[i] ~ /\.\.\./) return "it has a placeholder (...)"
        if (w[i] ~ /^[A-Z][A-Z0-9_]*$/) return "it has a placeholder (" w[i] ")"
    }
    return ""
}

# The inline spans of the paragraph just read: its text is the paragraph's
# lines joined by spaces (a span may break across lines); start[i] is where
# line i begins in it.
function end_paragraph(    rest, pos, at, i, line, s, w, found) {
    if (nlines == 0) return
    found = ""
    rest = para
    pos = 0
    while ((at = index(rest, "`")) > 0) {
        rest = substr(rest, at + 1)
        pos += at
        i = index(rest, "`")
        if (i == 0) break
        s = substr(rest, 1, i - 1)
        for (line = nlines; line > 1 && start[line] > pos; line--) {}
        rest = substr(rest, i + 1)
        pos += i
        gsub(/[ \t]+/, " ", s)
        sub(/^ /, "", s)
        sub(/ $/, "", s)
        if (!runnable_prefix(s)) continue
        w = why_not(s)
        if (w == "name") continue
        if (w != "") {
            print "form\t" (first + line - 1) "\t" w "\t" s
            continue
        }
        print "cmd\t" (++ncmd) "\t" (first + line - 1) "\t" s
        found = ncmd # the last command of the paragraph
    }
    prevcmds = found
    para = ""
    nlines = 0
}

{ line = $0 }

fence == "sh" {
    if (line ~ /^```[ \t]*$/) { fence = ""; prevcmds = shcmds; next }
    if (line ~ /^[ \t]*(#|$)/) next
    if (cont != "") { sub(/^[ \t]+/, "", line); line = cont " " line; cont = "" }
    if (line ~ /\\$/) { cont = substr(line, 1, length(line) - 1); if (shfirst == "") shfirst = NR; next }
    at = shfirst != "" ? shfirst : NR
    shfirst = ""
    sub(/^[ \t]+/, "", line)
    print "cmd\t" (++ncmd) "\t" at "\t" line
    shcmds = shcmds (shcmds == "" ? "" : ",") ncmd
    next
}
fence == "out" {
    if (line ~ /^```[ \t]*$/) {
        fence = ""
        close(file)
        print "block\t" open "\t" NR "\t" bexcerpt "\t" bcmds
        prevcmds = ""
        next
    }
    print line > file
    next
}
fence == "other" {
    if (line ~ /^```[ \t]*$/) { fence = ""; prevcmds = "" }
    next
}
line ~ /^```/ {
    end_paragraph()
    lang = substr(line, 4)
    gsub(/[ \t]/, "", lang)
    if (lang == "sh") {
        fence = "sh"; shcmds = ""; cont = ""; shfirst = ""
    } else if (lang == "") {
        fence = "out"; open = NR; file = out "/block." NR
        printf "" > file
        bexcerpt = excerpt
        bcmds = prevcmds
    } else {
        fence = "other"
    }
    excerpt = 0
    next
}
line ~ /^<!-- excerpt(:.*)? -->[ \t]*$/ { end_paragraph(); excerpt = 1; next }
line ~ /^[ \t]*$/ { end_paragraph(); next }
line ~ /^#/ { end_paragraph() } # a heading is a paragraph of its own
{
    if (nlines == 0) { first = NR; para = "" }
    nlines++
    start[nlines] = length(para) + (nlines > 1 ? 2 : 1)
    para = para (nlines > 1 ? " " : "") line
    excerpt = 0
    if (line ~ /^#/) end_paragraph()
}
END {
    end_paragraph()
    if (fence != "") { print FILENAME ": a ``` block that never closes" > "/dev/stderr"; exit 1 }
}
