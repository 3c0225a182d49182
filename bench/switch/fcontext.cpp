// fcontext.cpp - Boost.Context's jump_fcontext for bench_switch.c, with the
// same shape as the other cases: a context that switches straight back.
#include <boost/context/detail/fcontext.hpp>
#include <cstdlib>

namespace bc = boost::context::detail;

static bc::fcontext_t other;

static void body(bc::transfer_t t)
{
    for (;;) t = bc::jump_fcontext(t.fctx, nullptr);
}

extern "C" void boost_setup(void)
{
    const std::size_t size = 64 * 1024;
    char *stack = static_cast<char *>(std::malloc(size));
    other = bc::make_fcontext(stack + size, size, body);
}

extern "C" void boost_round_trip(void)
{
    other = bc::jump_fcontext(other, nullptr).fctx;
}
