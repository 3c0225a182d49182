/* Emits two events; tracing is switched on (or not) by the environment. */
#include "coro/trace.h"

int main(void)
{
    coro_trace_ev ev = {.kind = CORO_EV_LOG, .co = {1, "main"}, .detail = "hello from the child"};
    if (CORO_TRACE_ON()) coro_trace_emit(&ev);
    coro_trace_ev ev2 = {.kind = CORO_EV_LOG, .co = {1, "main"}, .detail = "bye"};
    if (CORO_TRACE_ON()) coro_trace_emit(&ev2);
    return 0;
}
