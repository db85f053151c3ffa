// Tape behaviour: leaves used twice, custom activations, hand-written derivatives, accumulation,
// parameters, no_grad, detach, and the errors users meet.
#include <string>

#include "helpers.hpp"

using namespace dendrite;
using namespace dendrite::testing;

TEST_CASE("a leaf used twice in one expression gets both contributions", "[autodiff][tape]") {
    tape t;
    const tensor<double> xv{-2.0, -0.5, 0.0, 0.3, 1.0, 4.0};
    auto x = variable(t, xv);
    var<double> y = x * sigmoid(x);
    CHECK(t.size() == 2);  // the leaf and ONE fused node
    sum(y).backward();
    for (std::size_t i = 0; i < xv.size(); ++i) {
        const double s = 1 / (1 + std::exp(-xv(i)));
        CHECK(x.grad()(i) == Approx(s + xv(i) * s * (1 - s)).epsilon(1e-14));
    }
    require_gradcheck(gradcheck([](auto a) { return a * sigmoid(a); }, xv), 1e-8);
}

TEST_CASE("a custom activation works on a float, a tensor and a var", "[autodiff][custom]") {
    const auto mish = [](auto x) { return x * tanh(softplus(x)); };
    rng g(601);
    const tensor<float> xf = uniform<float>({37}, -4, 4, g);
    const tensor<float> yf = mish(xf);  // one fused pass
    for (std::size_t i = 0; i < xf.size(); ++i) {
        const float scalar = mish(xf(i));
        CHECK(yf(i) == Approx(scalar).epsilon(2e-6).margin(1e-6));
        const double reference =
            xf(i) * std::tanh(std::log1p(std::exp(static_cast<double>(xf(i)))));
        CHECK(scalar == Approx(reference).epsilon(1e-5).margin(1e-6));
    }
    const tensor<double> xd = uniform<double>({3, 7}, -4, 4, g);
    require_gradcheck(gradcheck(mish, xd), 1e-7);
    tape t;
    auto x = variable(t, xd);
    var<double> y = mish(x);
    CHECK(t.size() == 2);
    for (std::size_t i = 0; i < xd.size(); ++i)
        CHECK(y.value().data()[i] == Approx(mish(xd.data()[i])).epsilon(1e-14));
}

TEST_CASE("with_derivative uses the hand-written derivative inside the fused node",
          "[autodiff][custom]") {
    const tensor<double> xv{-1.5, -0.2, 0.4, 2.0, 3.3};
    // deliberately wrong: value sin, derivative the constant 3; the tape must report 3 * upstream
    const auto fake = with_derivative([](auto x) { return sin(x); },
                                      [](auto x, auto) { return simd::constant<decltype(x)>(3); });
    tape t;
    auto x = variable(t, xv);
    var<double> y = 2.0 * fake(x);
    sum(y).backward();
    for (std::size_t i = 0; i < xv.size(); ++i) {
        CHECK(y.value()(i) == Approx(2 * std::sin(xv(i))));
        CHECK(x.grad()(i) == 6.0);
    }
    // a correct hand-written derivative (reusing y = f(x)) passes gradcheck
    const auto swish = with_derivative([](auto x) { return x * sigmoid(x); },
                                       [](auto x, auto y) {
                                           const auto s = sigmoid(x);
                                           return y + s * (1.0 - y);
                                       });
    require_gradcheck(gradcheck([&](auto a) { return swish(a) * a; }, xv), 1e-8);
}

TEST_CASE("gradients accumulate across backward calls", "[autodiff][tape]") {
    const tensor<double> xv{1.0, -2.0, 3.0};
    tape t;
    auto x = variable(t, xv);
    auto y = sum(x * x);
    y.backward(/*retain_graph=*/true);
    y.backward();
    for (std::size_t i = 0; i < 3; ++i)
        CHECK(x.grad()(i) == 2 * 2 * xv(i));  // twice 2x, not more

    // an interior root with a seed, twice: the seed is not written and counts once per pass
    tape t2;
    auto z = variable(t2, xv);
    var<double> w = z * 3.0;
    const tensor<double> seed{1.0, 1.0, 1.0};
    w.backward(seed, true);
    w.backward(seed);
    CHECK(seed(0) == 1.0);
    for (std::size_t i = 0; i < 3; ++i)
        CHECK(z.grad()(i) == 6.0);
}

TEST_CASE("parameter gradients accumulate into the caller's tensor across recordings",
          "[autodiff][tape]") {
    tensor<double> w{0.5, -1.0}, w_grad(shape{2});
    tape t;
    for (int step = 0; step < 3; ++step) {
        t.clear();
        auto p = parameter(t, w, w_grad);
        auto x = constant(t, tensor<double>{2.0, 3.0});
        sum(p * x).backward();
    }
    CHECK(w_grad(0) == 6.0);
    CHECK(w_grad(1) == 9.0);
    CHECK_THROWS_AS(parameter(t, w, tensor<double>(shape{3})), shape_error);
}

TEST_CASE("no_grad_guard records constants and detach stops gradients", "[autodiff][tape]") {
    tape t;
    auto x = variable(t, tensor<double>{1.0, 2.0});
    {
        no_grad_guard guard;
        var<double> y = x * 2.0;
        CHECK_FALSE(y.requires_grad());
        CHECK_FALSE(sum(y).requires_grad());
        CHECK_FALSE(variable(t, tensor<double>{1.0}).requires_grad());
        CHECK_THROWS_AS(sum(y).backward(), autodiff_error);
    }
    var<double> z = x * x.detach();  // d/dx = x.detach(), not 2x
    CHECK(z.requires_grad());
    sum(z).backward();
    CHECK(x.grad()(0) == 1.0);
    CHECK(x.grad()(1) == 2.0);
}

namespace {
template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "(no exception)";
}
}  // namespace

TEST_CASE("misuse throws autodiff_error or shape_error with a clear message",
          "[autodiff][errors]") {
    tape t;
    auto x = variable(t, tensor<double>{1.0, 2.0, 3.0});
    auto y = sum(x * x);
    y.backward();
    CHECK_THROWS_AS(y.backward(), autodiff_error);
    CHECK_THAT(error_of([&] { y.backward(); }),
               Catch::Contains("already freed") && Catch::Contains("retain_graph"));

    tape t2;
    auto v = variable(t2, tensor<double>{1.0, 2.0});
    var<double> w = v * 2.0;
    CHECK_THROWS_AS(w.backward(), autodiff_error);
    CHECK_THAT(error_of([&] { w.backward(); }),
               Catch::Contains("not a scalar") && Catch::Contains("[2]"));
    CHECK_THAT(error_of([&] { w.backward(tensor<double>{1.0}); }),
               Catch::Contains("seed of shape [1]"));

    tape other;
    auto u = variable(other, tensor<double>{1.0, 2.0});
    CHECK_THROWS_AS(var<double>(u + v), autodiff_error);
    CHECK_THAT(error_of([&] { (void)var<double>(u * v); }), Catch::Contains("different tapes"));
    auto a = variable(t2, tensor<double>(shape{2, 3}));
    auto b = variable(other, tensor<double>(shape{3, 2}));
    CHECK_THAT(error_of([&] { matmul(a, b); }), Catch::Contains("different tapes"));
    CHECK_THAT(error_of([&] { concat({v, u}, 0); }), Catch::Contains("different tapes"));

    auto c = variable(t2, tensor<double>(shape{4, 5}));
    CHECK_THROWS_AS(matmul(a, c), shape_error);
    CHECK_THAT(error_of([&] { matmul(a, c); }),
               Catch::Contains("[2, 3]") && Catch::Contains("[4, 5]"));
    CHECK_THAT(error_of([&] { matmul(a, c, false, true); }), Catch::Contains("[4, 5]^T"));
    CHECK_THAT(error_of([&] { softmax(a, 2); }), Catch::Contains("axis 2"));
}

TEST_CASE("anomaly mode names the first node producing a NaN or an infinity",
          "[autodiff][anomaly]") {
    tape t;
    auto x = variable(t, tensor<double>{1.0, -1.0, 2.0});
    var<double> quiet = log(x);  // off by default: NaN passes silently
    CHECK(std::isnan(quiet.value()(1)));
    t.set_anomaly_detection(true);
    const std::string msg = error_of([&] {
        var<double> y = log(x) * 2.0;
        (void)var<double>(exp(y));  // never reached: the first bad node throws
    });
    CHECK_THAT(msg, Catch::Contains("anomaly") && Catch::Contains("log(variable[3])"));
    auto big = variable(t, tensor<double>{800.0});
    CHECK_THAT(error_of([&] { sum(exp(big)); }), Catch::Contains("exp"));
    auto zero = variable(t, tensor<double>{0.0, 1.0});
    CHECK_NOTHROW(sum(x * 2.0));
    CHECK_THAT(error_of([&] { log_softmax(log(zero), 0); }), Catch::Contains("log(variable[2])"));
}
