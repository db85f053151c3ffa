// Sanity on f(w) = sum (w - c)^2, gradient 2 (w - c): every optimizer drives w near c.

#include <algorithm>
#include <cmath>

#include <catch2/catch.hpp>

#include "dendrite/optim/optim.hpp"
#include "helpers.hpp"

using namespace dendrite;

namespace {

template <class T>
tensor<T> target() {
    rng g(21);
    return uniform<T>(shape{33}, T(-1), T(1), g);
}

/// max |w - c| after `steps` steps of `opt` from w = 0, with c uniform in [-1, 1) over 33
/// elements (two registers and a tail), the rate set each step from `rate(step)`.
template <class T, class Opt, class Rate>
double distance_after(Opt opt, std::size_t steps, Rate rate) {
    nn::parameter_list<T> ps{nn::parameter<T>(shape{33}, "w")};
    const tensor<T> c = target<T>();
    for (std::size_t s = 0; s < steps; ++s) {
        opt.set_learning_rate(rate(s));
        for (std::size_t i = 0; i < 33; ++i)
            ps[0].grad.data()[i] = T(2) * (ps[0].value.data()[i] - c.data()[i]);
        opt.step(ps);
    }
    double d = 0;
    for (std::size_t i = 0; i < 33; ++i)
        d = std::max(d, std::abs(static_cast<double>(ps[0].value.data()[i] - c.data()[i])));
    return d;
}

}  // namespace

TEMPLATE_TEST_CASE("every optimizer minimises a quadratic", "[optim][quadratic]", float, double) {
    using T = TestType;
    const optim::constant_rate fixed_01(0.1);
    CHECK(distance_after<T>(optim::sgd<T>(), 100, fixed_01) < 1e-5);
    CHECK(distance_after<T>(optim::sgd<T>({.momentum = 0.9}), 300, optim::constant_rate(0.02)) <
          1e-4);
    CHECK(distance_after<T>(optim::sgd<T>({.momentum = 0.9, .nesterov = true}), 300,
                            optim::constant_rate(0.02)) < 1e-4);
    // The sign-like steps of the adaptive methods oscillate at the scale of the rate: anneal it.
    const optim::cosine_annealing annealed(0.1, 500, 1e-4);
    CHECK(distance_after<T>(optim::adam<T>(), 500, annealed) < 1e-2);
    CHECK(distance_after<T>(optim::adam<T>({.amsgrad = true}), 500, annealed) < 1e-2);
    CHECK(distance_after<T>(optim::adamw<T>({.weight_decay = 0}), 500, annealed) < 1e-2);
    CHECK(distance_after<T>(optim::rmsprop<T>(), 500, optim::cosine_annealing(0.05, 500, 1e-4)) <
          1e-2);
    CHECK(distance_after<T>(optim::rmsprop<T>({.momentum = 0.5, .centered = true}), 500,
                            optim::cosine_annealing(0.02, 500, 1e-4)) < 1e-2);
    CHECK(distance_after<T>(optim::adagrad<T>(), 300, optim::constant_rate(0.5)) < 1e-3);
}
