// A steady-state optimizer step, clip_grad_norm and clip_grad_value allocate nothing: counted with
// a replacement of the global operator new (this file's replacement serves the whole executable;
// it counts only while `counting` is set).

#include <atomic>
#include <cstdlib>
#include <new>

#include "../support/counting_new.hpp"

#include <catch2/catch.hpp>

#include "dendrite/optim/optim.hpp"
#include "helpers.hpp"

using dendrite_test::allocations;
using dendrite_test::counting;

using namespace dendrite;
using namespace optim_test;

namespace {

/// Allocations made by three steps (plus clipping) after two warm-up steps.
template <class T, class Opt>
std::size_t steady_state_allocations(Opt opt) {
    auto ps = make_params<T>();
    fill_grads(ps, 1);
    opt.step(ps);
    opt.step(ps);
    allocations = 0;
    counting = true;
    for (int s = 0; s < 3; ++s) {
        optim::clip_grad_norm(ps, 1.0);
        optim::clip_grad_value(ps, 0.5);
        opt.step(ps);
    }
    counting = false;
    return allocations.load();
}

}  // namespace

TEMPLATE_TEST_CASE("a steady-state step allocates nothing", "[optim][allocation]", float, double) {
    using T = TestType;
    // The replacement must see the library's allocations, or a 0 below would prove nothing.
    allocations = 0;
    counting = true;
    { tensor<T> t(shape{3}); }
    counting = false;
    REQUIRE(allocations.load() == 1);

    CHECK(steady_state_allocations<T>(optim::sgd<T>({.lr = 0.01, .weight_decay = 0.1})) == 0);
    CHECK(steady_state_allocations<T>(optim::sgd<T>(
              {.lr = 0.01, .momentum = 0.9, .nesterov = true, .weight_decay = 0.1})) == 0);
    CHECK(steady_state_allocations<T>(optim::adam<T>({.weight_decay = 0.1, .amsgrad = true})) == 0);
    CHECK(steady_state_allocations<T>(optim::adamw<T>()) == 0);
    CHECK(steady_state_allocations<T>(optim::rmsprop<T>({.momentum = 0.5, .centered = true})) == 0);
    CHECK(steady_state_allocations<T>(optim::adagrad<T>({.lr_decay = 0.01})) == 0);
}
