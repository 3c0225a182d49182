/*
 * cli.h - the examples' command lines: --help prints the usage and exits 0;
 * a mistake names the argument, shows the usage and exits 2.
 *
 *   cli_init("echo-server", "usage: echo-server [--port N]\n...");
 *   for (int i = 1; i < argc; i++)
 *       if (!strcmp(argv[i], "--port")) port = (int)cli_number(argc, argv, &i, 0, 65535);
 *       else cli_unknown(argv[i]);
 */
#ifndef EXAMPLES_CLI_H
#define EXAMPLES_CLI_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *cli_prog = "example", *cli_usage = "";

static inline void cli_init(const char *prog, const char *usage)
{
    cli_prog = prog;
    cli_usage = usage;
}

__attribute__((format(printf, 1, 2), noreturn)) static inline void cli_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", cli_prog);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n%s", cli_usage);
    exit(2);
}

/* An argument no option claimed: --help/-h, or a usage error. */
__attribute__((noreturn)) static inline void cli_unknown(const char *arg)
{
    if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
        fputs(cli_usage, stdout);
        exit(0);
    }
    cli_fail(arg[0] == '-' ? "unknown option '%s'" : "unexpected argument '%s'", arg);
}

/* The value of the option at argv[*i] (moving *i past it). */
static inline const char *cli_value(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) cli_fail("%s needs a value", argv[*i]);
    return argv[++*i];
}

/* s as a whole number from min to max; what names it in the error. */
static inline long cli_parse(const char *what, const char *s, long min, long max)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        cli_fail("%s must be a number from %ld to %ld, not '%s'", what, min, max, s);
    return v;
}

/* The value of the option at argv[*i] as a number from min to max. */
static inline long cli_number(int argc, char **argv, int *i, long min, long max)
{
    const char *opt = argv[*i];
    return cli_parse(opt, cli_value(argc, argv, i), min, max);
}

#endif /* EXAMPLES_CLI_H */
