/* A name taken from input passed as the format: the flags corolib exports
 * (-Wformat -Wformat-security) must make this a warning in the user's
 * build. install_test.sh compiles it and looks for the warning. */
#include <coro/coro.h>

void *body(void *arg);
coro_t *named_from_input(const char *input);

void *body(void *arg)
{
    return arg;
}

coro_t *named_from_input(const char *input)
{
    return coro_create(body, NULL, input); /* wrong: CORO_NAME(input) */
}
