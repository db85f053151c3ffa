// Run-time activations (parsed expressions) and the activation lab's measurements and outputs.
#include "../support/text.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "../data/expect_error.hpp"
#include "../data/temp_dir.hpp"
#include "dendrite/autodiff/autodiff.hpp"
#include "dendrite/autodiff/gradcheck.hpp"
#include "dendrite/expr/describe.hpp"
#include "dendrite/expr/taylor.hpp"
#include "dendrite/nn/activation_expression.hpp"
#include "dendrite/nn/activation_lab.hpp"

using namespace dendrite;
using Catch::Matchers::Contains;

using dendrite::testing::count_occurrences;

namespace {

bool close(double a, double b, double rtol) {
    return std::abs(a - b) <= rtol * std::max(1.0, std::abs(b));
}

std::string read(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

const std::vector<double> points = {-7.3, -3.1, -1.0, -0.25, 0.0, 0.4, 1.7, 2.9, 6.2};

}  // namespace

TEST_CASE("a parsed activation computes what the compiled one does, derivatives included",
          "[nn][activation_expression]") {
    const nn::activation_expression written("x * tanh(softplus(x))");
    const nn::activation_expression named("mish");
    for (const double x : points) {
        INFO("x = " << x);
        const auto want = value_and_derivatives<3>(nn::mish, x);
        const auto got = value_and_derivatives<3>(written, x);
        const auto by_name = value_and_derivatives<3>(named, x);
        for (int k = 0; k <= 3; ++k) {
            CHECK(close(got[k], want[k], 1e-14));
            CHECK(close(by_name[k], want[k], 1e-14));
        }
    }
    // The same formulas as the compiled function.
    CHECK(describe(derivative<1>(written)) == describe(derivative<1>(nn::mish)));
    CHECK(describe(nn::activation_expression("x * sigmoid(1.702 x)")) == "x sigmoid(1.702 x)");
}

TEST_CASE("a parsed activation over vars is one fused op whose gradient checks",
          "[nn][activation_expression]") {
    const nn::activation_expression f("where(x > 0, x, 0.1 x) + 0.2 sin(3 x) - square(x) / 7");
    for (const std::size_t n : {1, 7, 17, 33, 257}) {
        INFO("n = " << n);
        tensor<double> x(shape{n});
        for (std::size_t i = 0; i < n; ++i)  // away from the kink at 0
            x(i) = (i % 2 ? 1.0 : -1.0) *
                   (0.1 + 2.9 * static_cast<double>(i) / static_cast<double>(n));
        const gradcheck_report r = gradcheck(f, x);
        INFO(r.str());
        CHECK(r.passed(1e-7));
        tape t;
        const var<double> v = variable(t, x);
        const var<double> y = f(v);
        CHECK(t.size() == 2);  // the leaf and one fused node
        for (std::size_t i = 0; i < n; ++i)
            CHECK(close(y.value()(i), f(x(i)), 1e-15));
    }
}

TEST_CASE("the expression grammar: precedence, juxtaposition, functions, where",
          "[nn][activation_expression]") {
    const auto at = [](const char* text, double x) { return nn::activation_expression(text)(x); };
    CHECK(at("2 + 3 * x ^ 2", 2.0) == 14.0);
    CHECK(at("-x^2", 3.0) == -9.0);
    CHECK(at("(2 + x) (x - 1)", 3.0) == 10.0);
    CHECK(at("0.5x", 3.0) == 1.5);
    CHECK(at("x / 2 / 2", 8.0) == 2.0);
    CHECK(at("pow(x, 3) - max(x, 1) + min(x, 1)", 2.0) == 7.0);
    CHECK(at("where(x > 0, x, 0.1 x)", -2.0) == Approx(-0.2).epsilon(1e-15));
    CHECK(at("where(x > 0, x, 0.1 x)", 2.0) == 2.0);
    CHECK(at("x >= 1", 1.0) == 1.0);
    CHECK(at("x != 1", 1.0) == 0.0);
    CHECK(at("exp(log(x)) + sqrt(square(x)) + abs(-x)", 2.5) == Approx(7.5).epsilon(1e-15));
    CHECK(at("gelu(2 x)", 0.5) == Approx(nn::gelu(1.0)).epsilon(1e-15));
    CHECK(at("sin(pi x)", 0.5) == Approx(1.0).epsilon(1e-15));
    CHECK(at("e", 0.0) == Approx(std::exp(1.0)).epsilon(1e-15));
    // On SIMD lanes, each lane as on a number.
    const simd::batch<float> lanes(1.25f);
    const simd::batch<float> y = nn::activation_expression("x * sigmoid(x)")(lanes);
    CHECK(y.get(0) == Approx(1.25 / (1 + std::exp(-1.25))).epsilon(1e-6));
}

TEST_CASE("a malformed expression is rejected with where and what", "[nn][activation_expression]") {
    using test_support::message_of;
    const auto error = [](const char* text) {
        return message_of<std::invalid_argument>([&] { nn::activation_expression e(text); });
    };
    CHECK_THAT(error("x *"),
               Contains("\"x *\"") && Contains("found the end") && Contains("column 4"));
    CHECK_THAT(error("frobnicate(x)"),
               Contains("unknown name 'frobnicate'") && Contains("mish") && Contains("column 1"));
    CHECK_THAT(error("pow(x)"), Contains("'pow' takes 2 arguments, given 1"));
    CHECK_THAT(error("where(x, 1)"), Contains("'where' takes 3 arguments, given 2"));
    CHECK_THAT(error("x + (1"), Contains("expected ')'") && Contains("column 7"));
    CHECK_THAT(error("3..2"), Contains("malformed number"));
    CHECK_THAT(error(""), Contains("found the end"));
    CHECK_THAT(error("x ) "), Contains("unexpected ')'") && Contains("column 3"));
    CHECK_THAT(error("x $ 2"), Contains("unexpected '$'"));
}

TEST_CASE("the lab measures what is known of ReLU, tanh and GELU", "[nn][activation_lab]") {
    const auto relu = nn::profile_activation(nn::relu, "relu");
    CHECK(relu.formulas[0] == "relu(x)");
    CHECK(relu.formulas[1] == "[x > 0]");
    CHECK(relu.formulas[2] == "0");
    CHECK(relu.value_at_0 == 0);
    CHECK(relu.slope_at_0 == 0);  // the convention at the kink
    CHECK(relu.monotonic == 1);
    REQUIRE(relu.lower_bound);
    CHECK(*relu.lower_bound == 0);
    CHECK_FALSE(relu.upper_bound);
    CHECK(relu.max_abs_slope == 1);
    const double inv_sqrt_2pi = 0.3989422804014327;
    CHECK(relu.gaussian_mean == Approx(inv_sqrt_2pi).epsilon(1e-9));
    CHECK(relu.gaussian_second_moment == Approx(0.5).epsilon(1e-9));
    CHECK(relu.gaussian_slope_moment == Approx(0.5).epsilon(1e-9));
    CHECK(relu.init_gain == Approx(std::sqrt(2.0)).epsilon(1e-9));  // He initialisation
    REQUIRE(relu.x.size() == 481);
    CHECK(relu.x.front() == -6);
    CHECK(relu.x.back() == 6);

    const auto tanh = nn::profile_activation(nn::tanh, "tanh", {-4, 4, 101});
    CHECK(tanh.monotonic == 1);
    REQUIRE(tanh.lower_bound);
    REQUIRE(tanh.upper_bound);
    CHECK(*tanh.lower_bound == Approx(-1).epsilon(1e-12));
    CHECK(*tanh.upper_bound == Approx(1).epsilon(1e-12));
    CHECK(std::abs(tanh.gaussian_mean) < 1e-14);  // odd
    CHECK(tanh.slope_at_0 == 1);
    CHECK(tanh.minimum == Approx(std::tanh(-4.0)).epsilon(1e-12));
    CHECK(tanh.argmin == -4);

    // GELU's minimum: x Phi(x) is smallest where Phi(x) + x phi(x) = 0. At a minimum f is flat,
    // so its argument is found to about sqrt(eps), its value to eps.
    const auto gelu = nn::profile_activation(nn::gelu, "gelu");
    CHECK(gelu.argmin == Approx(-0.7517915246935645).epsilon(1e-7));
    CHECK(gelu.minimum == Approx(-0.16997120747990369).epsilon(1e-13));
    CHECK(gelu.monotonic == 0);
    CHECK_FALSE(gelu.upper_bound);
    REQUIRE(gelu.lower_bound);
    CHECK(*gelu.lower_bound == Approx(gelu.minimum).epsilon(1e-9));
    // E[x Phi(x)] = 1 / (2 sqrt(pi)) for x ~ N(0, 1).
    CHECK(gelu.gaussian_mean == Approx(0.5 / std::sqrt(3.14159265358979323846)).epsilon(1e-9));

    // A run-time expression profiles as its compiled twin.
    const auto parsed =
        nn::profile_activation(nn::activation_expression("0.5 x (1 + erf(x / sqrt(2)))"), "g");
    CHECK(parsed.gaussian_second_moment == Approx(gelu.gaussian_second_moment).epsilon(1e-12));
    CHECK(parsed.minimum == Approx(gelu.minimum).epsilon(1e-13));
}

TEST_CASE("the lab writes one picture per activation and a report", "[nn][activation_lab]") {
    test_support::temp_dir dir;
    const std::vector<nn::activation_profile> profiles = {
        nn::profile_activation(nn::relu, "relu"),
        nn::profile_activation(nn::activation_expression("x * tanh(softplus(x))"),
                               "x * tanh(softplus(x))")};
    nn::write_activation_lab(dir / "lab", profiles);
    const std::string report = read(dir / "lab" / "activations.md");
    CHECK_THAT(report, Contains("| activation | f(0) | f'(0) |"));
    CHECK_THAT(report, Contains("| relu | 0 | 0 |"));
    CHECK_THAT(report,
               Contains("f'(x) = t + x sigmoid(x) (1 - t^2)   where t = tanh(softplus(x))"));
    CHECK_THAT(report, Contains("\\operatorname{relu}"));
    for (const char* file : {"relu.svg", "x_tanh_softplus_x.svg"}) {
        INFO(file);
        const std::string svg = read(dir / "lab" / file);
        CHECK(svg.rfind("<?xml", 0) == 0);
        CHECK(count_occurrences(svg, "<path ") == 3);  // f, f', f''
        CHECK(count_occurrences(svg, "<g>") == count_occurrences(svg, "</g>"));
        CHECK(svg.find("nan") == std::string::npos);
    }
    CHECK_THROWS_AS(nn::profile_activation(nn::relu, "relu", {1, 1, 10}), std::invalid_argument);
    CHECK_THROWS_AS(nn::profile_activation(nn::relu, "relu", {0, 1, 2}), std::invalid_argument);
}
