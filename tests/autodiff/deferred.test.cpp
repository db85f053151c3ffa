// Deferred element-wise nodes: a fused node on the gradient path computes its value on first
// read, or in the same pass as its backward when nothing read it before. Whichever happens, the
// value and the gradients are those of eager evaluation, and no value is left to be computed
// after a backward pass (when an optimizer may change the inputs).
#include "helpers.hpp"

using namespace dendrite;
using namespace dendrite::testing;

namespace {

const tensor<double> inputs{-3.0, -1.25, -0.5, 0.0, 0.25, 0.75, 1.5,  2.0, 4.0,
                            -2.0, 0.5,   1.0,  3.0, -4.0, 0.1,  -0.1, 2.5};

double swish(double x) {
    return x / (1 + std::exp(-1.702 * x));
}
double swish_derivative(double x) {
    const double s = 1 / (1 + std::exp(-1.702 * x));
    return s + 1.702 * x * s * (1 - s);
}

}  // namespace

TEST_CASE("a node read only by backward gets its value in the backward pass",
          "[autodiff][deferred]") {
    tape t;
    auto x = variable(t, inputs);
    var<double> y = x * sigmoid(1.702 * x);
    CHECK(y.node().pending);  // nothing computed yet
    rng g(5);
    const tensor<double> seed = uniform<double>(inputs.shape(), -1, 1, g);
    y.backward(seed);
    CHECK_FALSE(y.node().pending);
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        CHECK(y.value()(i) == Approx(swish(inputs(i))).epsilon(1e-14));
        CHECK(x.grad()(i) == Approx(seed(i) * swish_derivative(inputs(i))).epsilon(1e-13));
    }
}

TEST_CASE("reading a value before backward computes it then, not again", "[autodiff][deferred]") {
    tape t;
    auto x = variable(t, inputs);
    var<double> y = x * sigmoid(1.702 * x);
    CHECK(y.value()(4) == Approx(swish(inputs(4))).epsilon(1e-14));
    CHECK_FALSE(y.node().pending);
    sum(y).backward();
    for (std::size_t i = 0; i < inputs.size(); ++i)
        CHECK(x.grad()(i) == Approx(swish_derivative(inputs(i))).epsilon(1e-13));
}

TEST_CASE("recording the next node computes the deferred one", "[autodiff][deferred]") {
    tape t;
    auto x = variable(t, inputs);
    var<double> u = tanh(x) * 2.0;
    CHECK(u.node().pending);
    var<double> v = u * u + x;  // a new node: u is computed, v is the one deferred now
    CHECK_FALSE(u.node().pending);
    CHECK(v.node().pending);
    const tensor<double> seed(inputs.shape(), 1.0);
    v.backward(seed);
    CHECK_FALSE(v.node().pending);
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        const double th = std::tanh(inputs(i)), uu = 2 * th;
        // u * u + x cancels where x is near -u * u: the bound is relative to the terms' size.
        CHECK(v.value()(i) == Approx(uu * uu + inputs(i))
                                  .epsilon(1e-14)
                                  .margin(1e-14 * (uu * uu + std::abs(inputs(i)))));
        CHECK(u.value()(i) == Approx(uu).epsilon(1e-14));
        CHECK(x.grad()(i) == Approx(2 * uu * 2 * (1 - th * th) + 1).epsilon(1e-13));
    }
}

// The deferred sweep against the eager one (its value read before backward): a size split over
// threads, and a row broadcast, whose sweep stays on one thread.
TEST_CASE("deferred sweeps match eager ones, threaded and broadcast", "[autodiff][deferred]") {
    rng g(11);
    const tensor<double> big = uniform<double>(shape{300, 301}, -3, 3, g);
    const tensor<double> row = uniform<double>(shape{1, 301}, -1, 1, g);
    const tensor<double> seed = uniform<double>(shape{300, 301}, -1, 1, g);
    for (const bool broadcast : {false, true}) {
        INFO((broadcast ? "broadcast" : "threaded"));
        tensor<double> values[2], grads[2], row_grads[2];
        for (const bool eager : {false, true}) {
            tape t;
            auto x = variable(t, big);
            auto r = variable(t, row);
            var<double> y =
                broadcast ? var<double>(r * x + x) : var<double>(x * sigmoid(1.702 * x));
            CHECK(y.node().pending);
            if (eager) {
                (void)y.value();
                CHECK_FALSE(y.node().pending);
            }
            y.backward(seed);
            values[eager] = y.value().clone();
            grads[eager] = x.grad().clone();
            if (broadcast) row_grads[eager] = r.grad().clone();
        }
        for (std::size_t i = 0; i < big.size(); ++i) {
            const double xv = big.data()[i], rv = row.data()[i % 301];
            const double want = broadcast ? rv * xv + xv : xv / (1 + std::exp(-1.702 * xv));
            REQUIRE(values[0].data()[i] == Approx(want).epsilon(1e-13));
            REQUIRE(values[0].data()[i] == values[1].data()[i]);
            REQUIRE(grads[0].data()[i] == grads[1].data()[i]);
        }
        if (broadcast)
            for (std::size_t j = 0; j < 301; ++j)
                REQUIRE(row_grads[0].data()[j] == row_grads[1].data()[j]);
    }
}

TEST_CASE("a deferred node the backward pass does not reach is computed before it returns",
          "[autodiff][deferred]") {
    tensor<double> w = inputs.clone(), w_grad(inputs.shape());
    tape t;
    auto p = parameter(t, w, w_grad);
    var<double> off_path = exp(p * 0.5);  // before the root, not on its path
    auto root = sum(p * p);
    var<double> after = p * 3.0;           // after the root: never swept
    CHECK_FALSE(off_path.node().pending);  // computed when the next node was recorded
    CHECK(after.node().pending);
    root.backward();
    CHECK_FALSE(off_path.node().pending);
    CHECK_FALSE(after.node().pending);
    // An optimizer step changes the parameter in place; the values recorded before it stand.
    w.fill(100.0);
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        CHECK(off_path.value()(i) == Approx(std::exp(inputs(i) * 0.5)).epsilon(1e-14));
        CHECK(after.value()(i) == Approx(inputs(i) * 3.0).epsilon(1e-14));
    }
}

TEST_CASE("nodes off the gradient path, under no_grad and in anomaly mode are eager",
          "[autodiff][deferred]") {
    tape t;
    auto c = constant(t, inputs);
    var<double> y = c * 2.0;
    CHECK_FALSE(y.node().pending);
    auto x = variable(t, inputs);
    {
        no_grad_guard guard;
        var<double> z = x * 2.0;
        CHECK_FALSE(z.node().pending);
    }
    t.set_anomaly_detection(true);
    var<double> a = x * 2.0;
    CHECK_FALSE(a.node().pending);
    CHECK_THROWS_AS(var<double>(log(x)), autodiff_error);  // log of negatives, caught at record
}

TEST_CASE("a retained graph's second pass sees the value of the first", "[autodiff][deferred]") {
    tape t;
    auto x = variable(t, inputs);
    var<double> y = x * sigmoid(1.702 * x);
    const tensor<double> seed(inputs.shape(), 1.0);
    y.backward(seed, /*retain_graph=*/true);
    y.backward(seed);
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        CHECK(y.value()(i) == Approx(swish(inputs(i))).epsilon(1e-14));
        CHECK(x.grad()(i) == Approx(2 * swish_derivative(inputs(i))).epsilon(1e-13));
    }
}
