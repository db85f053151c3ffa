// Every activation of nn/activations.hpp: values against the formula of its paper / the PyTorch
// documentation, written here in plain double; the same object on a scalar, a tensor and a var
// (float and double) agrees; and its derived gradient passes gradcheck in double away from kinks.
#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "helpers.hpp"

using namespace dendrite;

namespace {

// Representable in float, so the float and double runs see the same inputs; the point count (25)
// leaves a remainder after every SIMD width. Includes 0, -0, the kinks (0, +-3) and large
// magnitudes where exp overflows in float.
constexpr std::array<double, 25> points{
    -100.0, -30.0, -8.0, -3.5, -3.0, -2.5, -1.0, -0.5, -0.125, -1e-3f, -0.0, 0.0, 1e-3f,
    0.125,  0.5,   1.0,  2.5,  3.0,  3.5,  8.0,  30.0, 100.0,  -17.25, 0.75, 5.0};

constexpr double pi = 3.14159265358979323846;

double sigmoid_ref(double x) {
    return 1.0 / (1.0 + std::exp(-x));
}
// PyTorch's softplus (beta 1, threshold 20): log(1 + exp(x)), reverting to x above the threshold.
double softplus_ref(double x) {
    return x > 20 ? x : std::log1p(std::exp(x));
}
// Klambauer et al. 2017, the constants to 20 digits.
constexpr double selu_alpha = 1.6732632423543772848, selu_scale = 1.0507009873554804934;

/// Tolerances: |got - ref| <= rtol |ref| + atol. The double atol covers gelu's 1 + erf(x / sqrt 2),
/// which cancels for x << 0 (as PyTorch's formula does): a few ulp of erf, about 2e-15 at x = -3.5.
struct tolerance {
    double rtol, atol;
};
template <class T>
constexpr tolerance value_tolerance =
    std::is_same_v<T, float> ? tolerance{2e-6, 1e-7} : tolerance{1e-13, 1e-14};

bool close(double got, double ref, tolerance tol) {
    if (std::isnan(ref)) return std::isnan(got);
    return std::abs(got - ref) <= tol.rtol * std::abs(ref) + tol.atol;
}

/// Values of `act` on T scalars, a T tensor and a var<T>, each against `ref`.
template <class T, class Act, class Ref>
void check_values(const Act& act, Ref ref) {
    const tolerance tol = value_tolerance<T>;
    tensor<T> xs(shape{points.size()});
    for (std::size_t i = 0; i < points.size(); ++i)
        xs(i) = static_cast<T>(points[i]);

    const tensor<T> on_tensor = act(xs);
    tape t;
    const var<T> on_var = act(variable(t, xs));
    REQUIRE(on_tensor.shape() == xs.shape());
    REQUIRE(on_var.shape() == xs.shape());
    for (std::size_t i = 0; i < points.size(); ++i) {
        const T x = xs(i);
        const double expected = ref(static_cast<double>(x));
        const T on_scalar = static_cast<T>(act(x));
        INFO("x = " << x << ": scalar " << on_scalar << ", tensor " << on_tensor(i) << ", var "
                    << on_var.value()(i) << ", reference " << expected);
        CHECK(close(on_scalar, expected, tol));
        CHECK(close(on_tensor(i), expected, tol));
        CHECK(close(on_var.value()(i), expected, tol));
    }
}

/// Values in float and double, and gradcheck in double at every point at least 0.05 from a kink.
template <class Act, class Ref>
void check_activation(const Act& act, Ref ref, std::vector<double> kinks = {}) {
    SECTION("float values match the formula on scalars, tensors and vars (rtol 2e-6, atol 1e-7)") {
        check_values<float>(act, ref);
    }
    SECTION(
        "double values match the formula on scalars, tensors and vars (rtol 1e-13, atol 1e-14)") {
        check_values<double>(act, ref);
    }
    SECTION("the derived gradient passes gradcheck in double away from kinks (rel 1e-7)") {
        std::vector<double> smooth;
        for (double x : points) {
            bool near_kink = false;
            for (double k : kinks)
                near_kink = near_kink || std::abs(x - k) < 0.05;
            if (!near_kink) smooth.push_back(x);
        }
        tensor<double> x(shape{smooth.size()});
        for (std::size_t i = 0; i < smooth.size(); ++i)
            x(i) = smooth[i];
        const auto r = gradcheck(act, x);
        DENDRITE_NN_REQUIRE_GRADCHECK(r, 1e-7);
        // The gradient itself is finite everywhere, kinks and large magnitudes included.
        tensor<double> all(shape{points.size()});
        for (std::size_t i = 0; i < points.size(); ++i)
            all(i) = points[i];
        tape t;
        auto v = variable(t, all);
        sum(act(v)).backward();
        for (std::size_t i = 0; i < points.size(); ++i) {
            INFO("x = " << points[i] << ", gradient " << v.grad()(i));
            CHECK(std::isfinite(v.grad()(i)));
        }
    }
}

}  // namespace

TEST_CASE("identity returns its input", "[nn][activation]") {
    check_activation(nn::identity, [](double x) { return x; });
}

TEST_CASE("relu is max(0, x)", "[nn][activation]") {
    check_activation(nn::relu, [](double x) { return x > 0 ? x : 0.0; }, {0.0});
}

TEST_CASE("leaky_relu is x for x > 0 and 0.01 x otherwise", "[nn][activation]") {
    check_activation(nn::leaky_relu, [](double x) { return x > 0 ? x : 0.01 * x; }, {0.0});
}

TEST_CASE("leaky_relu_with(0.2) has negative slope 0.2", "[nn][activation]") {
    check_activation(nn::leaky_relu_with(0.2), [](double x) { return x > 0 ? x : 0.2 * x; }, {0.0});
}

TEST_CASE("elu is x for x > 0 and exp(x) - 1 otherwise (alpha 1)", "[nn][activation]") {
    check_activation(nn::elu, [](double x) { return x > 0 ? x : std::expm1(x); }, {0.0});
}

TEST_CASE("selu is scale * (x for x > 0, alpha (exp(x) - 1) otherwise)", "[nn][activation]") {
    check_activation(nn::selu,
                     [](double x) { return selu_scale * (x > 0 ? x : selu_alpha * std::expm1(x)); },
                     {0.0});
}

TEST_CASE("gelu is x Phi(x) with the exact normal CDF", "[nn][activation]") {
    // Phi(x) = erfc(-x / sqrt 2) / 2, accurate in the far left tail too.
    check_activation(nn::gelu, [](double x) { return 0.5 * x * std::erfc(-x / std::sqrt(2.0)); });
}

TEST_CASE("gelu_tanh is the tanh approximation of gelu", "[nn][activation]") {
    check_activation(nn::gelu_tanh, [](double x) {
        return 0.5 * x * (1 + std::tanh(std::sqrt(2 / pi) * (x + 0.044715 * x * x * x)));
    });
}

TEST_CASE("sigmoid is 1 / (1 + exp(-x))", "[nn][activation]") {
    check_activation(nn::sigmoid, sigmoid_ref);
}

TEST_CASE("tanh is the hyperbolic tangent", "[nn][activation]") {
    check_activation(nn::tanh, [](double x) { return std::tanh(x); });
}

TEST_CASE("softplus is log(1 + exp(x))", "[nn][activation]") {
    check_activation(nn::softplus, softplus_ref);
}

TEST_CASE("softsign is x / (1 + |x|)", "[nn][activation]") {
    check_activation(nn::softsign, [](double x) { return x / (1 + std::abs(x)); }, {0.0});
}

TEST_CASE("silu and swish are x sigmoid(x)", "[nn][activation]") {
    const auto ref = [](double x) { return x * sigmoid_ref(x); };
    SECTION("silu") {
        check_activation(nn::silu, ref);
    }
    SECTION("swish") {
        check_activation(nn::swish, ref);
    }
}

TEST_CASE("mish is x tanh(softplus(x))", "[nn][activation]") {
    check_activation(nn::mish, [](double x) { return x * std::tanh(softplus_ref(x)); });
}

TEST_CASE("hard_sigmoid is 0 below -3, 1 above 3 and x / 6 + 1 / 2 between", "[nn][activation]") {
    check_activation(nn::hard_sigmoid,
                     [](double x) { return x <= -3  ? 0.0
                                           : x >= 3 ? 1.0
                                                    : x / 6 + 0.5; },
                     {-3.0, 3.0});
}

TEST_CASE("hard_swish is x relu6(x + 3) / 6", "[nn][activation]") {
    check_activation(nn::hard_swish,
                     [](double x) { return x * std::min(std::max(x + 3, 0.0), 6.0) / 6; },
                     {-3.0, 3.0});
}

TEST_CASE("activations carry the names summaries print", "[nn][activation]") {
    CHECK(std::string(nn::relu.name) == "relu");
    CHECK(std::string(nn::gelu_tanh.name) == "gelu_tanh");
    CHECK(std::string(nn::swish.name) == "swish");
    CHECK(std::string(nn::leaky_relu_with(0.3).name) == "leaky_relu");
    CHECK(nn::leaky_relu_with(0.3).f.slope == 0.3);
}
