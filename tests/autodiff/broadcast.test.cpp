// Broadcasting in the backward pass: a smaller operand receives the sum of the gradient over the
// axes it was broadcast along, inside the one fused sweep.
#include "helpers.hpp"

using namespace dendrite;
using namespace dendrite::testing;

namespace {
// Both operands differentiated, each appearing twice, through a non-linear function.
const auto f = [](auto a, auto b) { return a * sigmoid(b) + sin(a - b) * b; };
}  // namespace

TEST_CASE("broadcast operands get gradients summed over the broadcast axes",
          "[autodiff][gradcheck][broadcast]") {
    struct shapes {
        shape a, b;
    };
    const shapes cases[] = {
        {{5, 7}, {7}},                // bias row onto a matrix
        {{5, 7}, {5, 1}},             // column
        {{5, 7}, {}},                 // rank-0 scalar
        {{5, 7}, {1, 1}},             // one-element matrix
        {{3, 1}, {1, 4}},             // both broadcast: [3,1] + [1,4] -> [3,4]
        {{2, 3, 5}, {3, 1}},          // rank 3 against a column
        {{2, 3, 5}, {5}},             // rank 3 against a row
        {{2, 3, 5}, {2, 1, 5}},       // rank 3, middle axis
        {{2, 1, 3, 17}, {4, 1, 17}},  // rank 4, both sides broadcast
    };
    rng g(303);
    for (const auto& c : cases) {
        INFO("a " << c.a.str() << ", b " << c.b.str());
        const tensor<double> a = uniform<double>(c.a, -1.5, 1.5, g);
        const tensor<double> b = uniform<double>(c.b, -1.5, 1.5, g);
        require_gradcheck(gradcheck(f, a, b), 1e-6);
        require_gradcheck(gradcheck(f, b, a), 1e-6);  // the small operand on the left
    }
}

TEST_CASE("a bias's gradient is the column sum of the upstream gradient", "[autodiff][broadcast]") {
    rng g(4);
    const tensor<double> xv = uniform<double>({33, 19}, -1, 1, g);
    const tensor<double> seed = uniform<double>({33, 19}, -1, 1, g);
    tape t;
    auto x = variable(t, xv);
    auto b = variable(t, tensor<double>(shape{19}, 0.25));
    var<double> y = x + b;
    y.backward(seed);
    const tensor<double> expected = sum(seed, 0);
    for (std::size_t j = 0; j < 19; ++j)
        CHECK(b.grad()(j) == Approx(expected(j)).epsilon(1e-12));
    for (std::size_t i = 0; i < xv.size(); ++i)
        CHECK(x.grad().data()[i] == seed.data()[i]);
}

TEST_CASE("large broadcast gradients are exact when the sweep is split over threads",
          "[autodiff][broadcast]") {
    // 2^17 elements: above the threshold where element-wise passes use every thread.
    rng g(8);
    const tensor<double> xv = uniform<double>({512, 256}, -1, 1, g);
    const tensor<double> cv = uniform<double>({512, 1}, -1, 1, g);
    tape t;
    auto x = variable(t, xv);
    auto c = variable(t, cv);
    sum(x * c + c).backward();
    const tensor<double> row_sums = sum(xv, 1, true);
    for (std::size_t i = 0; i < 512; ++i)
        CHECK(c.grad()(i, 0) == Approx(row_sums(i, 0) + 256.0).epsilon(1e-12));
    for (std::size_t i = 0; i < 512; ++i)
        CHECK(x.grad()(i, 7) == cv(i, 0));
}
