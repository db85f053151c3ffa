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

TEST_CASE("a chain of deferred nodes differentiates as the eager graph", "[autodiff][deferred]") {
    tape t;
    auto x = variable(t, inputs);
    var<double> u = tanh(x) * 2.0;
    var<double> v = u * u + x;  // reads u only when its own value or backward is needed
    CHECK(u.node().pending);
    CHECK(v.node().pending);
    sum(v).backward();
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        const double th = std::tanh(inputs(i)), uu = 2 * th;
        CHECK(v.value()(i) == Approx(uu * uu + inputs(i)).epsilon(1e-14));
        CHECK(u.value()(i) == Approx(uu).epsilon(1e-14));
        CHECK(x.grad()(i) == Approx(2 * uu * 2 * (1 - th * th) + 1).epsilon(1e-13));
    }
    require_gradcheck(
        gradcheck([](auto a) { return sum(tanh(a) * 2.0 * (tanh(a) * 2.0) + a); }, inputs), 1e-8);
}

TEST_CASE("nodes the backward pass does not reach are computed before it returns",
          "[autodiff][deferred]") {
    tensor<double> w = inputs.clone(), w_grad(inputs.shape());
    tape t;
    auto p = parameter(t, w, w_grad);
    var<double> off_path = exp(p * 0.5);  // before the root, not on its path
    auto root = sum(p * p);
    var<double> after = p * 3.0;  // after the root: never swept
    CHECK(off_path.node().pending);
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
