# What may differ between two honest runs of a chapter's commands, and only
# that (tutorials/AUTHORING.md, "Normalisation"). Applied to the page's block
# and to the real output alike before they are compared. The spaces before a
# number go with it, so a right-aligned column of numbers compares whatever
# their widths.
#
# 1. A measured quantity: a number followed by a unit of time or size.
s/ *[0-9]+(\.[0-9]+)? ?(ns|us|µs|ms|s|KiB|MiB|GiB|kB|B)([^A-Za-z0-9_]|$)/ # \2\3/g
# 2. A ratio of two measured quantities: 12.5x
s/ *[0-9]+(\.[0-9]+)?x([^A-Za-z0-9_]|$)/ #x\2/g
# 3. A TCP port the kernel chose (servers listen on port 0).
s/(127\.0\.0\.1|localhost|0\.0\.0\.0):[0-9]+/\1:PORT/g
s/([Pp]ort) [0-9]+/\1 PORT/g
# 4. A process id.
s/([Pp]id[ =:]*)[0-9]+/\1PID/g
# 5. A memory address (ASLR moves stacks and heaps on every run).
s/0x[0-9a-f]{6,}/0xADDR/g
