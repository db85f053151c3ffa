// Pooling forward against the defining loops (padding, ties), gradients by finite differences.
#include <limits>
#include <utility>

#include "reference.hpp"

using namespace dendrite;
using namespace dendrite::conv_testing;

namespace {

/// Max (avg when !is_max) over each window of the padded input; padding never wins a max and
/// counts as zero in an average when count_include_pad.
template <class T>
tensor<T> reference_pool(const tensor<T>& x, std::size_t k, std::size_t s, std::size_t p,
                         bool is_max, bool count_include_pad) {
    const std::size_t n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
    const std::size_t oh = (h + 2 * p - k) / s + 1, ow = (w + 2 * p - k) / s + 1;
    tensor<T> y(shape{n, c, oh, ow});
    for (std::size_t a = 0; a < n; ++a)
        for (std::size_t b = 0; b < c; ++b)
            for (std::size_t r = 0; r < oh; ++r)
                for (std::size_t q = 0; q < ow; ++q) {
                    double best = -std::numeric_limits<double>::infinity(), sum = 0;
                    std::size_t inside = 0;
                    for (std::size_t i = 0; i < k; ++i)
                        for (std::size_t j = 0; j < k; ++j) {
                            const long ih = static_cast<long>(r * s + i) - static_cast<long>(p);
                            const long iw = static_cast<long>(q * s + j) - static_cast<long>(p);
                            if (ih < 0 || iw < 0 || ih >= static_cast<long>(h) ||
                                iw >= static_cast<long>(w))
                                continue;
                            const double v =
                                x(a, b, static_cast<std::size_t>(ih), static_cast<std::size_t>(iw));
                            best = std::max(best, v);
                            sum += v;
                            ++inside;
                        }
                    y(a, b, r, q) = static_cast<T>(
                        is_max ? best
                               : sum / static_cast<double>(count_include_pad ? k * k : inside));
                }
    return y;
}

}  // namespace

TEMPLATE_TEST_CASE("pooling matches the naive loops", "[conv][pool]", float, double) {
    using T = TestType;
    rng g(21);
    for (std::size_t hw : {1, 5, 7, 9})
        for (std::size_t k : {1, 2, 3})
            for (std::size_t s : {1, 2, 3})
                for (std::size_t p = 0; 2 * p <= k; ++p) {
                    if (hw + 2 * p < k) continue;
                    const tensor<T> x = uniform<T>(shape{2, 3, hw, hw + 2}, -1, 1, g);
                    INFO("x " << x.shape().str() << " k " << k << " s " << s << " p " << p);
                    tape t;
                    const auto xv = variable(t, x);
                    const pool2d_options o{k, s, p};
                    CHECK(max_abs_diff(max_pool2d(xv, o).value(),
                                       reference_pool(x, k, s, p, true, true)) == 0);
                    CHECK(max_abs_diff(avg_pool2d(xv, o).value(),
                                       reference_pool(x, k, s, p, false, true)) <= 1e-6);
                    CHECK(max_abs_diff(avg_pool2d(xv, o, false).value(),
                                       reference_pool(x, k, s, p, false, false)) <= 1e-6);
                }
}

TEST_CASE("max_pool2d sends the gradient to the first maximum on ties", "[conv][pool]") {
    tape t;
    const auto x = variable(t, tensor<double>(shape{1, 1, 2, 4}, {1, 1, 2, 5, 1, 1, 5, 5}));
    const auto y = max_pool2d(x, {2, 2, 0});
    CHECK(y.value()(0, 0, 0, 0) == 1);
    CHECK(y.value()(0, 0, 0, 1) == 5);
    y.backward(tensor<double>(shape{1, 1, 1, 2}, {10, 20}));
    const tensor<double> want(shape{1, 1, 2, 4}, {10, 0, 0, 20, 0, 0, 0, 0});
    CHECK(max_abs_diff(x.grad(), want) == 0);
    // Overlapping windows (stride 1) add their gradients into a shared maximum.
    tape t2;
    const auto x2 = variable(t2, tensor<double>(shape{1, 1, 1, 3}, {0, 9, 0}));
    const auto y2 = max_pool2d(reshape(x2, shape{1, 1, 3, 1}), {3, 1, 1});
    y2.backward(tensor<double>(shape{1, 1, 3, 1}, {1, 2, 3}));
    CHECK(max_abs_diff(x2.grad(), tensor<double>(shape{1, 1, 1, 3}, {0, 6, 0})) == 0);
}

TEMPLATE_TEST_CASE("2x2 max pooling routes each gradient to its window's first maximum",
                   "[conv][pool]", float, double) {
    using T = TestType;
    rng g(29);
    // Even extents (the windows tile the image: a fresh gradient is overwritten), odd ones (the
    // last row or column belongs to no window) and rows wider than a SIMD register.
    for (const auto& [h, w] :
         {std::pair<std::size_t, std::size_t>{2, 2}, {3, 7}, {4, 34}, {7, 33}, {6, 66}, {3, 257}}) {
        tensor<T> x = uniform<T>(shape{2, 3, h, w}, -1, 1, g);
        // Plant ties: equal pixels must send the gradient to the first in row-major order.
        for (std::size_t i = 0; i + 3 < x.size(); i += 7)
            x.data()[i + 1] = x.data()[i];
        INFO("x " << x.shape().str());
        const std::size_t oh = h / 2, ow = w / 2;
        const tensor<T> dy = uniform<T>(shape{2, 3, oh, ow}, -1, 1, g);
        tensor<T> want(x.shape());
        want.fill(T(0));
        for (std::size_t a = 0; a < 2; ++a)
            for (std::size_t b = 0; b < 3; ++b)
                for (std::size_t r = 0; r < oh; ++r)
                    for (std::size_t q = 0; q < ow; ++q) {
                        std::size_t bi = 2 * r, bj = 2 * q;
                        for (std::size_t i = 2 * r; i < 2 * r + 2; ++i)
                            for (std::size_t j = 2 * q; j < 2 * q + 2; ++j)
                                if (x(a, b, i, j) > x(a, b, bi, bj)) bi = i, bj = j;
                        want(a, b, bi, bj) += dy(a, b, r, q);
                    }
        tape t;
        const auto xv = variable(t, x);
        max_pool2d(xv, {2, 2, 0}).backward(dy);
        CHECK(max_abs_diff(xv.grad(), want) == 0);
        // Used twice, the second pooling adds to the first one's gradient.
        tape t2;
        const auto xv2 = variable(t2, x);
        var<T> twice = max_pool2d(xv2, {2, 2, 0}) + max_pool2d(xv2, {2, 2, 0});
        twice.backward(dy);
        tensor<T> want2 = want;
        for (std::size_t i = 0; i < want2.size(); ++i)
            want2.data()[i] *= 2;
        CHECK(max_abs_diff(xv2.grad(), want2) <= 1e-6);
    }
}

TEST_CASE("pooling gradients match finite differences", "[conv][pool][gradcheck]") {
    rng g(23);
    // Distinct values a step apart, so no finite-difference step crosses a tie of max.
    tensor<double> x(shape{2, 2, 7, 5});
    {
        std::vector<double> v(x.size());
        for (std::size_t i = 0; i < v.size(); ++i)
            v[i] = 0.1 * static_cast<double>(i);
        for (std::size_t i = v.size(); i-- > 1;)
            std::swap(v[i], v[g.below(i + 1)]);
        std::copy(v.begin(), v.end(), x.data());
    }
    for (const pool2d_options o : {pool2d_options{2, 2, 0}, pool2d_options{3, 2, 1},
                                   pool2d_options{3, 1, 1}, pool2d_options{2, 1, 1}}) {
        INFO("kernel " << o.kernel << " stride " << o.stride << " padding " << o.padding);
        DENDRITE_CONV_REQUIRE_GRADCHECK(
            gradcheck([o](const auto& v) { return max_pool2d(v, o); }, x), 1e-6);
        DENDRITE_CONV_REQUIRE_GRADCHECK(
            gradcheck([o](const auto& v) { return avg_pool2d(v, o); }, x), 1e-6);
        DENDRITE_CONV_REQUIRE_GRADCHECK(
            gradcheck([o](const auto& v) { return avg_pool2d(v, o, false); }, x), 1e-6);
    }
    DENDRITE_CONV_REQUIRE_GRADCHECK(
        gradcheck([](const auto& v) { return global_avg_pool2d(v); }, x), 1e-6);
}

TEST_CASE("global_avg_pool2d averages each plane", "[conv][pool]") {
    tape t;
    const auto x = variable(t, tensor<float>(shape{1, 2, 2, 2}, {1, 2, 3, 4, -1, -1, -1, 5}));
    const auto y = global_avg_pool2d(x);
    REQUIRE(y.shape() == shape{1, 2});
    CHECK(y.value()(0, 0) == 2.5f);
    CHECK(y.value()(0, 1) == 0.5f);
}

TEST_CASE("pooling rejects windows that do not fit", "[conv][pool]") {
    tape t;
    const auto x = variable(t, tensor<float>(shape{1, 1, 3, 3}));
    CHECK_THROWS_WITH(max_pool2d(x, {5, 1, 0}), Catch::Contains("[1, 1, 3, 3]"));
    CHECK_THROWS_AS(avg_pool2d(x, {2, 1, 2}), shape_error);
    CHECK_THROWS_AS(global_avg_pool2d(variable(t, tensor<float>(shape{3, 3}))), shape_error);
}
