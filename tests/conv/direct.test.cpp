// The direct convolution (forward with its epilogue, and the weight gradient) against the
// defining loops, over every output width it accepts (1 to two registers), padding wider than the
// kernel, strides between rows, dilation, several input channels and output-channel counts that
// split into unequal blocks, in float and double. NaN guards around the image catch a load
// outside it; marked guards around the outputs catch a store outside them.

#include <catch2/catch.hpp>

#include <dendrite/linalg/direct_conv.hpp>
#include <dendrite/linalg/operand.hpp>

#include "window_index.hpp"

#include <cmath>
#include <cstddef>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace {

using dendrite::linalg::conv_geometry;

struct direct_case {
    std::size_t c, h, w, kh, kw, stride_h, pad_h, pad_w, dilation_h, dilation_w, out_channels;
};

// Output widths from 1 to two registers, each with an even and an odd number of output rows (an
// odd count leaves the second unit of the last two-row step empty); the fixed cases wider than
// two registers of doubles are for float only.
std::vector<direct_case> direct_cases(std::size_t lanes) {
    std::vector<direct_case> cases;
    for (std::size_t ow : {std::size_t{1}, std::size_t{3}, lanes / 2, lanes / 2 + 1, lanes - 1,
                           lanes, lanes + 1, lanes + 7, 2 * lanes - 1, 2 * lanes})
        for (std::size_t k : {1, 3, 5})
            for (std::size_t pad : {0, 2})
                for (std::size_t extra_row : {0, 1}) {
                    // Width chosen to give `ow` output columns, height `ow` (+ 1) output rows.
                    if (ow + k - 1 < 2 * pad + 1) continue;
                    const std::size_t w = ow + k - 1 - 2 * pad;
                    cases.push_back({2, w + extra_row, w, k, k, 1, pad, pad, 1, 1,
                                     ow % 3 == 0 ? std::size_t{6} : std::size_t{17}});
                }
    cases.push_back({1, 28, 28, 5, 5, 1, 0, 0, 1, 1, 6});   // LeNet's first layer
    cases.push_back({3, 32, 32, 5, 5, 1, 2, 2, 1, 1, 16});  // a colour first layer
    cases.push_back({2, 13, 20, 3, 3, 2, 1, 1, 1, 1, 9});   // stride 2 between rows, row halves
    cases.push_back({2, 13, 12, 3, 3, 2, 1, 1, 1, 1, 9});   // the same, two rows a step
    cases.push_back({2, 14, 9, 3, 3, 3, 2, 0, 1, 1, 4});    // stride 3, padding on rows only
    cases.push_back({2, 14, 21, 3, 3, 1, 2, 2, 2, 2, 8});   // dilation
    cases.push_back({2, 15, 11, 3, 3, 1, 0, 3, 3, 1, 5});   // dilated rows, padded columns
    cases.push_back({1, 9, 12, 2, 7, 1, 3, 3, 1, 1, 3});    // a wide, flat kernel
    cases.push_back({1, 4, 10, 3, 3, 1, 3, 3, 1, 1, 2});    // padding wider than the kernel
    cases.push_back({2, 11, 15, 8, 8, 1, 4, 4, 1, 1, 5});   // 64 taps: the most it takes
    return cases;
}

conv_geometry geometry_of(const direct_case& cs) {
    return {.channels = cs.c,
            .height = cs.h,
            .width = cs.w,
            .kernel_h = cs.kh,
            .kernel_w = cs.kw,
            .stride_h = cs.stride_h,
            .stride_w = 1,
            .pad_h = cs.pad_h,
            .pad_w = cs.pad_w,
            .dilation_h = cs.dilation_h,
            .dilation_w = cs.dilation_w};
}

using dendrite::conv_testing::input_index;

}  // namespace

TEST_CASE("the direct convolution serves rows of one or two registers", "[conv][direct]") {
    using dendrite::linalg::use_direct_conv;
    conv_geometry first;  // LeNet's first layer: 24-wide rows
    first.height = first.width = 28;
    first.kernel_h = first.kernel_w = 5;
    conv_geometry second = first;  // its second: 8-wide rows, the register-block unfolding's
    second.channels = 6;
    second.height = second.width = 12;
    conv_geometry strided = first;
    strided.stride_w = 2;
    conv_geometry wide = first;  // 60-wide rows: im2col and the GEMM
    wide.height = wide.width = 64;
    conv_geometry deep = first;  // 32 channels x 3x3 = 288 taps: im2col and the GEMM
    deep.channels = 32;
    deep.height = deep.width = 14;
    deep.kernel_h = deep.kernel_w = 3;
    deep.pad_h = deep.pad_w = 1;
#if defined(__AVX512F__)
    CHECK(use_direct_conv<float>(first));
    conv_geometry narrow = first;  // 12-wide rows: two registers of doubles, one of floats
    narrow.height = narrow.width = 16;
    CHECK(use_direct_conv<double>(narrow));
    CHECK(use_direct_conv<float>(narrow));
    strided.stride_w = 1;
    strided.stride_h = 2;
    CHECK(use_direct_conv<float>(strided));
    strided.stride_w = 2;
#endif
    CHECK_FALSE(use_direct_conv<float>(second));
    CHECK_FALSE(use_direct_conv<float>(strided));
    CHECK_FALSE(use_direct_conv<float>(wide));
    CHECK_FALSE(use_direct_conv<float>(deep));
    CHECK_FALSE(use_direct_conv<double>(first));
}

TEMPLATE_TEST_CASE("the direct convolution matches the defining loops", "[conv][direct]", float,
                   double) {
    using T = TestType;
    constexpr std::size_t lanes = dendrite::simd::width<T>;
    std::mt19937 rng(29);
    std::uniform_real_distribution<T> u(T(-1), T(1));
    constexpr std::size_t guard = 3 * lanes;
    const T mark = T(-1234.5);
    const T nan = std::numeric_limits<T>::quiet_NaN();
    const long double eps = std::numeric_limits<T>::epsilon();
    for (const direct_case& cs : direct_cases(lanes)) {
        const conv_geometry g = geometry_of(cs);
        const std::size_t oh = g.out_h(), ow = g.out_w(), p = g.positions(), k = g.taps();
        const std::size_t o = cs.out_channels, plane = cs.h * cs.w;
        INFO("c " << cs.c << " h " << cs.h << " w " << cs.w << " kernel " << cs.kh << "x" << cs.kw
                  << " stride_h " << cs.stride_h << " pad " << cs.pad_h << "," << cs.pad_w
                  << " dilation " << cs.dilation_h << "," << cs.dilation_w << " out channels " << o
                  << " out " << oh << "x" << ow);
        REQUIRE(p > 0);
        if (ow > 2 * lanes) continue;

        // Two images side by side: the weight gradient accumulates over both.
        std::vector<T> x(guard + 2 * cs.c * plane + guard, nan);
        for (std::size_t e = 0; e < 2 * cs.c * plane; ++e)
            x[guard + e] = u(rng);
        std::vector<T> wt(o * k), bias(o);
        for (auto& v : wt)
            v = u(rng);
        for (auto& v : bias)
            v = u(rng);

        // Forward, with an epilogue that adds a bias and keeps its input on the side, like
        // conv2d's: both outputs between guards.
        std::vector<T> y(guard + o * p + guard, mark), side(guard + o * p + guard, mark);
        T* yp = y.data() + guard;
        T* sp = side.data() + guard;
        dendrite::linalg::conv_direct(g, x.data() + guard, wt.data(), o, yp,
                                      [&](auto v, std::size_t r, std::size_t j, auto... n) {
                                          using X = decltype(v);
                                          const X pre = v + X(bias[r]);
                                          dendrite::linalg::store_lanes(sp + r * p + j, pre, n...);
                                          return pre * X(T(2));
                                      });
        for (std::size_t e = 0; e < guard; ++e) {
            REQUIRE(y[e] == mark);
            REQUIRE(y[guard + o * p + e] == mark);
            REQUIRE(side[e] == mark);
            REQUIRE(side[guard + o * p + e] == mark);
        }
        for (std::size_t r = 0; r < o; ++r)
            for (std::size_t q = 0; q < p; ++q) {
                long double want = bias[r];
                for (std::size_t c = 0; c < cs.c; ++c)
                    for (std::size_t i = 0; i < cs.kh; ++i)
                        for (std::size_t j = 0; j < cs.kw; ++j) {
                            const long at = input_index(g, c, i, j, q / ow, q % ow);
                            if (at >= 0)
                                want += static_cast<long double>(
                                            wt[r * k + (c * cs.kh + i) * cs.kw + j]) *
                                        x[guard + static_cast<std::size_t>(at)];
                        }
                const long double tol = 4 * eps * static_cast<long double>(k + 1) * 2;
                REQUIRE(std::abs(sp[r * p + q] - want) <= tol);
                REQUIRE(std::abs(yp[r * p + q] - 2 * want) <= 2 * tol);
            }

        // Weight gradient over both images, added onto what dW holds.
        std::vector<T> dz(2 * o * p);
        for (auto& v : dz)
            v = u(rng);
        std::vector<T> partial(dendrite::linalg::direct_weight_partials<T>(g, o), T(0));
        for (std::size_t img = 0; img < 2; ++img)
            dendrite::linalg::direct_weight_grad(g, x.data() + guard + img * cs.c * plane,
                                                 dz.data() + img * o * p, o, partial.data());
        std::vector<T> dw(guard + o * k + guard, mark);
        std::vector<long double> want(o * k);
        for (std::size_t e = 0; e < o * k; ++e)
            want[e] = dw[guard + e] = u(rng);
        dendrite::linalg::direct_weight_grad_finish(g, o, partial.data(), dw.data() + guard);
        for (std::size_t e = 0; e < guard; ++e) {
            REQUIRE(dw[e] == mark);
            REQUIRE(dw[guard + o * k + e] == mark);
        }
        for (std::size_t img = 0; img < 2; ++img)
            for (std::size_t r = 0; r < o; ++r)
                for (std::size_t c = 0; c < cs.c; ++c)
                    for (std::size_t i = 0; i < cs.kh; ++i)
                        for (std::size_t j = 0; j < cs.kw; ++j)
                            for (std::size_t q = 0; q < p; ++q) {
                                const long at = input_index(g, c, i, j, q / ow, q % ow);
                                if (at >= 0)
                                    want[r * k + (c * cs.kh + i) * cs.kw + j] +=
                                        static_cast<long double>(dz[img * o * p + r * p + q]) *
                                        x[guard + img * cs.c * plane +
                                          static_cast<std::size_t>(at)];
                            }
        for (std::size_t e = 0; e < o * k; ++e)
            REQUIRE(std::abs(dw[guard + e] - want[e]) <=
                    4 * eps * static_cast<long double>(2 * p + 1) * 2);
    }
}

TEST_CASE("the direct convolution names a geometry it cannot take", "[conv][direct]") {
    constexpr std::size_t lanes = dendrite::simd::width<float>;
    conv_geometry g;
    g.height = 8;
    g.width = 2 * lanes + 3;  // 2 lanes + 1 output columns
    g.kernel_h = g.kernel_w = 3;
    std::vector<float> x(g.height * g.width), w(9), y(g.positions());
    const auto keep = [](auto v, std::size_t, std::size_t, auto...) { return v; };
    REQUIRE_THROWS_WITH(dendrite::linalg::conv_direct(g, x.data(), w.data(), 1, y.data(), keep),
                        Catch::Contains("output 6x" + std::to_string(2 * lanes + 1)));
    g.width = 10;
    g.stride_w = 2;
    REQUIRE_THROWS_WITH(dendrite::linalg::direct_weight_partials<float>(g, 1),
                        Catch::Contains("column stride 2"));
    g.stride_w = 1;
    g.kernel_h = g.kernel_w = 9;  // 81 taps
    g.height = g.width = 12;
    REQUIRE_THROWS_WITH(dendrite::linalg::direct_weight_partials<float>(g, 1),
                        Catch::Contains("window 9x9"));
}
