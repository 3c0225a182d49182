// fcontext.cpp - Boost.Context for bench_switch.c: the raw jump_fcontext and
// the public boost::context::fiber, each timed by a loop of the same shape
// as the corolib rows (the loop sits beside the switch; one round trip per
// iteration; nothing else in the loop body).
#include <boost/context/detail/fcontext.hpp>
#include <boost/context/fiber.hpp>
#include <boost/context/fixedsize_stack.hpp>
#include <cstdlib>

#include "bench_util.h"

namespace bc = boost::context;
namespace bcd = boost::context::detail;

static bcd::fcontext_t other;

static void body(bcd::transfer_t t)
{
    for (;;) t = bcd::jump_fcontext(t.fctx, nullptr);
}

extern "C" double boost_fcontext_rounds(long n)
{
    if (!other) {
        const std::size_t size = 64 * 1024;
        char *stack = static_cast<char *>(std::malloc(size));
        other = bcd::make_fcontext(stack + size, size, body);
    }
    double t0 = bench_now_ns();
    for (long i = 0; i < n; i++) other = bcd::jump_fcontext(other, nullptr).fctx;
    return (bench_now_ns() - t0) / (double)n;
}

static bc::fiber fib;

extern "C" double boost_fiber_rounds(long n)
{
    if (!fib)
        fib = bc::fiber{std::allocator_arg, bc::fixedsize_stack(64 * 1024), [](bc::fiber &&sink) {
                            for (;;) sink = std::move(sink).resume();
                            return std::move(sink);
                        }};
    double t0 = bench_now_ns();
    for (long i = 0; i < n; i++) fib = std::move(fib).resume();
    return (bench_now_ns() - t0) / (double)n;
}
