// Properties of reverse mode on random compositions of element-wise functions (seeded):
// additivity, linearity, and the chain rule, fused in one node against split over several.
#include <cstddef>
#include <tuple>
#include <utility>

#include "helpers.hpp"

using namespace dendrite;
using namespace dendrite::testing;

namespace {

// Smooth functions, finite on all of R (so any composition is defined everywhere).
const auto f0 = [](auto x) { return sin(x) * 1.5; };
const auto f1 = [](auto x) { return tanh(x) + 0.25 * x; };
const auto f2 = [](auto x) { return x * sigmoid(1.702 * x); };
const auto f3 = [](auto x) { return softplus(x) - 0.5; };
const auto f4 = [](auto x) { return exp(-square(x)) + cos(x); };
constexpr std::size_t function_count = 5;

/// Ten (f, h) pairs in which every function takes each role twice: each pair is its own set of
/// fused kernels, and all 25 pairs would double this unit's compile time (the slowest of the
/// suite) for no further coverage of the backward rules.
constexpr std::size_t pair_count = 10;
constexpr std::size_t pairs[pair_count][2] = {{0, 1}, {1, 2}, {2, 3}, {3, 4}, {4, 0},
                                              {0, 2}, {1, 3}, {2, 4}, {3, 0}, {4, 1}};
constexpr auto functions = std::make_tuple(f0, f1, f2, f3, f4);

/// Calls k(f, h) with the functions of pair p: a static dispatch so that compositions stay
/// fusable.
template <class K>
void with_pair(std::size_t p, K&& k) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        ((p == I ? k(std::get<pairs[I][0]>(functions), std::get<pairs[I][1]>(functions)) : void()),
         ...);
    }
    (std::make_index_sequence<pair_count>{});
}

/// d sum(f(x)) / dx, through one fused node.
template <class F>
tensor<double> grad_of(F f, const tensor<double>& xv) {
    tape t;
    auto x = variable(t, xv);
    sum(f(x)).backward();
    return x.grad().clone();
}

double max_abs_diff(const tensor<double>& a, const tensor<double>& b) {
    return amax(abs(a - b));
}

}  // namespace

TEST_CASE("grad(f + g) = grad f + grad g and linearity, on random pairs", "[autodiff][property]") {
    rng g(501);
    for (int trial = 0; trial < 25; ++trial) {
        const std::size_t p = trial < 10 ? static_cast<std::size_t>(trial) : g.below(pair_count);
        const double a = g.uniform(-2, 2), b = g.uniform(-2, 2);
        const tensor<double> xv = uniform<double>({g.below(40) + 1}, -3, 3, g);
        INFO("trial " << trial << ": f" << pairs[p][0] << ", f" << pairs[p][1] << ", a " << a
                      << ", b " << b);
        with_pair(p, [&](auto f, auto h) {
            const tensor<double> gf = grad_of(f, xv), gh = grad_of(h, xv);
            const tensor<double> sum_expected = gf + gh;
            const tensor<double> lin_expected = a * gf + b * gh;
            CHECK(max_abs_diff(grad_of([&](auto x) { return f(x) + h(x); }, xv), sum_expected) <
                  1e-12);
            CHECK(max_abs_diff(grad_of([&](auto x) { return a * f(x) + b * h(x); }, xv),
                               lin_expected) < 1e-12);
            // the same sum as two separate nodes added afterwards
            tape t;
            auto x = variable(t, xv);
            var<double> u = f(x), v = h(x);
            sum(u + v).backward();
            CHECK(max_abs_diff(x.grad(), sum_expected) < 1e-12);
        });
    }
}

TEST_CASE("chain rule: fused f(h(x)) = f(u) then u = h(x) = f'(h(x)) h'(x)",
          "[autodiff][property]") {
    rng g(502);
    for (int trial = 0; trial < 25; ++trial) {
        const std::size_t p = trial < 10 ? static_cast<std::size_t>(trial) : g.below(pair_count);
        const tensor<double> xv = uniform<double>({g.below(3) + 1, g.below(20) + 1}, -3, 3, g);
        INFO("trial " << trial << ": f" << pairs[p][0] << " of f" << pairs[p][1] << " at "
                      << xv.shape().str());
        with_pair(p, [&](auto f, auto h) {
            const tensor<double> fused = grad_of([&](auto x) { return f(h(x)); }, xv);
            // split: the inner function recorded as its own node
            tape t;
            auto x = variable(t, xv);
            var<double> u = h(x);
            var<double> y = f(u);
            sum(y).backward();
            CHECK(max_abs_diff(x.grad(), fused) < 1e-12);
            // by hand: f' at u times h' at x, each from its own backward pass
            const tensor<double> uv = u.value().clone();
            const tensor<double> chain = grad_of(f, uv) * grad_of(h, xv);
            CHECK(max_abs_diff(chain, fused) < 1e-12);
            require_gradcheck(gradcheck([&](auto z) { return f(h(z)); }, xv), 1e-6);
        });
    }
}

TEST_CASE("random deeper compositions with broadcasting and reductions pass gradcheck",
          "[autodiff][property]") {
    // Five (f, h, q) triples in which every function takes every role once: each triple is its
    // own set of fused kernels, and all 125 would make this the slowest unit of the suite to
    // compile for no further coverage of the backward rules.
    static constexpr std::size_t triples[function_count][3] = {
        {0, 1, 2}, {1, 2, 3}, {2, 3, 4}, {3, 4, 0}, {4, 0, 1}};
    rng g(503);
    for (int trial = 0; trial < 10; ++trial) {
        const std::size_t t = trial < 5 ? static_cast<std::size_t>(trial) : g.below(function_count);
        const std::size_t m = g.below(5) + 1, n = g.below(9) + 1;
        const tensor<double> xv = uniform<double>({m, n}, -2, 2, g);
        const tensor<double> bv = uniform<double>({n}, -1, 1, g);
        INFO("trial " << trial << ": f" << triples[t][0] << ", f" << triples[t][1] << ", f"
                      << triples[t][2] << " at [" << m << ", " << n << "]");
        const auto check = [&](auto f, auto h, auto q) {
            auto fn = [&](auto x, auto b) {
                var<double> s = sum(f(x + b), 1, true);  // a reduction between fused nodes
                return h(x) * q(s) - softmax(x * b, 1);
            };
            require_gradcheck(gradcheck(fn, xv, bv), 1e-6);
        };
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            ((t == I ? check(std::get<triples[I][0]>(functions), std::get<triples[I][1]>(functions),
                             std::get<triples[I][2]>(functions))
                     : void()),
             ...);
        }
        (std::make_index_sequence<function_count>{});
    }
}
