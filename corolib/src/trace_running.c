/*
 * trace_running.c - tells the tracer which coroutine is running on this
 * thread, for the crash event it records from a signal handler
 * (tracer/src/endings.c). Reads thread-local state only: safe in a handler.
 */
#include "coro_int.h"

void coro__trace_running(coro_trace_ref *co, int *depth);

void coro__trace_running(coro_trace_ref *co, int *depth)
{
    coro__thread *t = &coro__t;
    if (!t->ready || !t->current) return;
    *co = coro_named_ref(&t->current->named);
    *depth = t->current->depth;
}
