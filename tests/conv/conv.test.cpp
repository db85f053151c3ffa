// conv2d forward against the defining loops over strides, padding, dilation, groups (depthwise
// included), odd sizes, with and without bias, in float and double; gradients by finite
// differences in double.
#include "reference.hpp"

using namespace dendrite;
using namespace dendrite::conv_testing;

namespace {

struct conv_case {
    std::size_t n, c, h, w, o, k;
    conv2d_options opt;
};

std::vector<conv_case> forward_cases() {
    std::vector<conv_case> cases;
    for (std::size_t hw : {1, 5, 7, 9})
        for (std::size_t c : {1, 3})
            for (std::size_t o : {1, 4})
                for (std::size_t k : {1, 3})
                    for (std::size_t s : {1, 2})
                        for (std::size_t p : {0, 1})
                            for (std::size_t d : {1, 2}) {
                                if (hw + 2 * p < d * (k - 1) + 1) continue;
                                cases.push_back(
                                    {2, c, hw, hw == 5 ? 7 : hw, o, k, {s, s, p, p, d, d, 1}});
                            }
    // Asymmetric strides, padding and dilation.
    cases.push_back({2, 3, 9, 7, 4, 3, {2, 1, 1, 0, 1, 2, 1}});
    cases.push_back({1, 3, 5, 9, 4, 3, {1, 3, 2, 1, 2, 1, 1}});
    // Groups, depthwise and depthwise with a channel multiplier.
    cases.push_back({2, 4, 7, 7, 4, 3, {1, 1, 1, 1, 1, 1, 2}});
    cases.push_back({2, 3, 9, 9, 3, 3, {1, 1, 1, 1, 1, 1, 3}});
    cases.push_back({2, 3, 9, 5, 6, 3, {2, 2, 1, 1, 1, 1, 3}});
    cases.push_back({3, 6, 5, 5, 4, 1, {1, 1, 0, 0, 1, 1, 2}});
    // Wider than a register and a micro-tile: LeNet's second layer, one image.
    cases.push_back({3, 6, 12, 12, 16, 5, {}});
    cases.push_back({2, 1, 28, 28, 6, 5, {1, 1, 2, 2, 1, 1, 1}});
    return cases;
}

template <class T>
tensor<T> conv_value(const tensor<T>& x, const tensor<T>& w, const tensor<T>* b,
                     const conv2d_options& o) {
    tape t;
    const auto xv = variable(t, x);
    const auto wv = variable(t, w);
    if (b) return conv2d(xv, wv, variable(t, *b), o).value().clone();
    return conv2d(xv, wv, o).value().clone();
}

}  // namespace

TEMPLATE_TEST_CASE("conv2d matches the naive loops", "[conv]", float, double) {
    using T = TestType;
    rng g(7);
    const double tol = std::is_same_v<T, float> ? 2e-5 : 1e-12;
    for (const conv_case& cs : forward_cases()) {
        const tensor<T> x = uniform<T>(shape{cs.n, cs.c, cs.h, cs.w}, -1, 1, g);
        const tensor<T> w = uniform<T>(shape{cs.o, cs.c / cs.opt.groups, cs.k, cs.k}, -1, 1, g);
        const tensor<T> b = uniform<T>(shape{cs.o}, -1, 1, g);
        for (bool with_bias : {false, true}) {
            INFO("x " << x.shape().str() << " w " << w.shape().str() << " stride "
                      << cs.opt.stride_h << "," << cs.opt.stride_w << " pad " << cs.opt.pad_h << ","
                      << cs.opt.pad_w << " dilation " << cs.opt.dilation_h << ","
                      << cs.opt.dilation_w << " groups " << cs.opt.groups << " bias " << with_bias);
            const tensor<T>* bp = with_bias ? &b : nullptr;
            const tensor<T> want = reference_conv2d(x, w, bp, cs.opt);
            const tensor<T> got = conv_value(x, w, bp, cs.opt);
            REQUIRE(max_abs_diff(got, want) <= tol * static_cast<double>(cs.c * cs.k * cs.k));
        }
    }
}

TEST_CASE("conv2d fuses its activation", "[conv]") {
    rng g(11);
    const tensor<float> x = uniform<float>(shape{2, 3, 9, 9}, -1, 1, g);
    const tensor<float> w = uniform<float>(shape{4, 3, 3, 3}, -1, 1, g);
    const tensor<float> b = uniform<float>(shape{4}, -1, 1, g);
    const conv2d_options o{1, 1, 1, 1, 1, 1, 1};
    tensor<float> want = reference_conv2d(x, w, &b, o);
    for (float& v : want.span())
        v = std::max(v, 0.0f);
    tape t;
    const auto y = conv2d(variable(t, x), variable(t, w), variable(t, b), o, nn::fn::relu);
    CHECK(max_abs_diff(y.value(), want) <= 1e-5);
}

TEST_CASE("conv2d names both shapes when they do not fit", "[conv]") {
    tape t;
    const auto x = variable(t, tensor<float>(shape{2, 3, 5, 5}));
    const auto w = variable(t, tensor<float>(shape{4, 2, 3, 3}));
    const auto b = variable(t, tensor<float>(shape{4}));
    CHECK_THROWS_WITH(conv2d(x, w, b),
                      Catch::Contains("[2, 3, 5, 5]") && Catch::Contains("[4, 2, 3, 3]"));
    const auto big = variable(t, tensor<float>(shape{4, 3, 7, 7}));
    CHECK_THROWS_AS(conv2d(x, big), shape_error);
    CHECK_THROWS_AS(conv2d(x, variable(t, tensor<float>(shape{4, 1, 3, 3})),
                           conv2d_options{1, 1, 0, 0, 1, 1, 2}),
                    shape_error);
    CHECK_THROWS_AS(conv2d(x, variable(t, tensor<float>(shape{4, 3, 3, 3})),
                           variable(t, tensor<float>(shape{3}))),
                    shape_error);
}

TEST_CASE("conv2d gradients match finite differences", "[conv][gradcheck]") {
    rng g(13);
    struct grad_case {
        std::size_t n, c, h, w, o, k;
        conv2d_options opt;
    };
    const grad_case cases[] = {
        {2, 3, 5, 7, 4, 3, {}},
        {2, 3, 7, 5, 4, 3, {2, 1, 1, 2, 1, 1, 1}},
        {1, 1, 9, 9, 1, 3, {2, 2, 1, 1, 2, 2, 1}},
        {2, 4, 5, 5, 4, 3, {1, 1, 1, 1, 1, 1, 2}},
        {2, 3, 5, 5, 3, 3, {1, 1, 1, 1, 1, 1, 3}},
        {2, 3, 5, 5, 6, 1, {1, 1, 0, 0, 1, 1, 3}},
        {1, 3, 1, 1, 4, 1, {}},
        {2, 1, 6, 6, 4, 5, {1, 1, 2, 2, 1, 1, 1}},
        // The direct convolution (rows of 5 to 16 doubles): two rows a step, row halves, stride
        // between rows, dilation, groups.
        {2, 2, 7, 10, 3, 3, {2, 1, 1, 1, 1, 1, 1}},
        {2, 2, 6, 9, 4, 3, {1, 1, 1, 1, 2, 2, 2}},
        {1, 1, 5, 14, 7, 3, {}},
    };
    for (const grad_case& cs : cases) {
        INFO("x [" << cs.n << ", " << cs.c << ", " << cs.h << ", " << cs.w << "], o " << cs.o
                   << ", k " << cs.k << ", groups " << cs.opt.groups << ", stride "
                   << cs.opt.stride_h << ", pad " << cs.opt.pad_h);
        const tensor<double> x = uniform<double>(shape{cs.n, cs.c, cs.h, cs.w}, -1, 1, g);
        const tensor<double> w =
            uniform<double>(shape{cs.o, cs.c / cs.opt.groups, cs.k, cs.k}, -1, 1, g);
        const tensor<double> b = uniform<double>(shape{cs.o}, -1, 1, g);
        const conv2d_options o = cs.opt;
        DENDRITE_CONV_REQUIRE_GRADCHECK(
            gradcheck([o](const auto& xv, const auto& wv,
                          const auto& bv) { return conv2d(xv, wv, bv, o); },
                      x, w, b),
            1e-6);
        DENDRITE_CONV_REQUIRE_GRADCHECK(
            gradcheck([o](const auto& xv, const auto& wv) { return conv2d(xv, wv, o); }, x, w),
            1e-6);
        // The activation's derivative is fused into backward (tanh: smooth everywhere).
        DENDRITE_CONV_REQUIRE_GRADCHECK(
            gradcheck([o](const auto& xv, const auto& wv,
                          const auto& bv) { return conv2d(xv, wv, bv, o, nn::fn::tanh); },
                      x, w, b),
            1e-6);
    }
}

TEST_CASE("conv2d gradients with threads match one thread", "[conv]") {
    rng g(17);
    // LeNet's second layer (register-block unfolding), then its first (direct convolution).
    for (const std::size_t layer : {2, 1}) {
        const std::size_t c = layer == 2 ? 6 : 1, hw = layer == 2 ? 12 : 28,
                          o = layer == 2 ? 16 : 6;
        const tensor<float> x = uniform<float>(shape{8, c, hw, hw}, -1, 1, g);
        const tensor<float> w = uniform<float>(shape{o, c, 5, 5}, -1, 1, g);
        const tensor<float> b = uniform<float>(shape{o}, -1, 1, g);
        const tensor<float> seed = uniform<float>(shape{8, o, hw - 4, hw - 4}, -1, 1, g);
        std::vector<tensor<float>> grads[2];
        for (int threads : {1, 2}) {
            const int saved = num_threads();
            set_num_threads(threads);
            tape t;
            const auto xv = variable(t, x);
            const auto wv = variable(t, w);
            const auto bv = variable(t, b);
            conv2d(xv, wv, bv, {}, nn::fn::relu).backward(seed);
            grads[threads - 1] = {xv.grad().clone(), wv.grad().clone(), bv.grad().clone()};
            set_num_threads(saved);
        }
        for (std::size_t i = 0; i < 3; ++i)
            CHECK(max_abs_diff(grads[0][i], grads[1][i]) <= 1e-3);
    }
}
