// im2col and col2im against the defining loops, over geometries that take the register-block
// path (unit stride, any padding, outputs narrower and wider than a register) and the general
// one (strides, dilation, patterns too wide for two registers), in float and double. Guard
// elements around the buffers catch writes out of place.

#include <catch2/catch.hpp>

#include <dendrite/linalg/conv.hpp>

#include "window_index.hpp"

#include <cmath>
#include <cstddef>
#include <limits>
#include <random>
#include <vector>

namespace {

using dendrite::linalg::conv_geometry;

struct unfold_case {
    std::size_t c, h, w, kh, kw, stride, pad, dilation;
};

std::vector<unfold_case> unfold_cases() {
    std::vector<unfold_case> cases;
    for (std::size_t hw : {1, 2, 5, 7, 8, 12, 15, 17, 28, 33})
        for (std::size_t k : {1, 2, 3, 5})
            for (std::size_t pad : {0, 1, 2})
                if (hw + 2 * pad >= k) cases.push_back({2, hw, hw == 12 ? 9 : hw, k, k, 1, pad, 1});
    // LeNet's two layers, an image wider than two registers, tall and flat planes, kernels
    // wider than tall, strides and dilation (the general path).
    cases.push_back({1, 28, 28, 5, 5, 1, 2, 1});
    cases.push_back({6, 12, 12, 5, 5, 1, 0, 1});
    cases.push_back({3, 4, 70, 3, 3, 1, 1, 1});
    cases.push_back({2, 40, 3, 3, 3, 1, 0, 1});
    cases.push_back({2, 9, 31, 1, 7, 1, 3, 1});
    cases.push_back({2, 9, 9, 3, 3, 2, 1, 1});
    cases.push_back({2, 11, 10, 3, 3, 1, 2, 2});
    cases.push_back({1, 6, 6, 3, 3, 1, 3, 1});  // padding wider than the kernel: ow > width
    return cases;
}

using dendrite::conv_testing::input_index;

}  // namespace

TEST_CASE("the register-block unfolding serves rows narrower than a register", "[conv][unfold]") {
    conv_geometry second;  // LeNet's second layer: 8-wide output rows
    second.channels = 6;
    second.height = second.width = 12;
    second.kernel_h = second.kernel_w = 5;
    conv_geometry first = second;  // its first: 24-wide rows, whole-register copies
    first.channels = 1;
    first.height = first.width = 28;
    conv_geometry strided = second;
    strided.stride_h = strided.stride_w = 2;
#if defined(__AVX512F__)
    CHECK(dendrite::linalg::detail::use_block_unfold<float>(second));
    CHECK_FALSE(
        dendrite::linalg::detail::use_block_unfold<double>(second));  // 8 doubles: one register
    conv_geometry narrow = second;                                    // 6-wide rows
    narrow.height = narrow.width = 10;
    CHECK(dendrite::linalg::detail::use_block_unfold<double>(narrow));
#endif
    CHECK_FALSE(dendrite::linalg::detail::use_block_unfold<float>(first));
    CHECK_FALSE(dendrite::linalg::detail::use_block_unfold<float>(strided));
}

TEMPLATE_TEST_CASE("im2col and col2im match the defining loops", "[conv][unfold]", float, double) {
    using T = TestType;
    std::mt19937 rng(17);
    std::uniform_real_distribution<T> u(T(-1), T(1));
    constexpr std::size_t guard = 40;
    const T mark = T(-1234.5);
    for (const unfold_case& cs : unfold_cases()) {
        const conv_geometry g{cs.c,      cs.h,   cs.w,   cs.kh,       cs.kw,      cs.stride,
                              cs.stride, cs.pad, cs.pad, cs.dilation, cs.dilation};
        const std::size_t oh = g.out_h(), ow = g.out_w(), p = g.positions(), k = g.taps();
        INFO("c " << cs.c << " h " << cs.h << " w " << cs.w << " kernel " << cs.kh << "x" << cs.kw
                  << " stride " << cs.stride << " pad " << cs.pad << " dilation " << cs.dilation);
        REQUIRE(p > 0);
        const std::size_t plane = cs.c * cs.h * cs.w;

        // im2col, written between guards.
        std::vector<T> x(plane);
        for (auto& v : x)
            v = u(rng);
        std::vector<T> col(guard + k * p + guard, mark);
        dendrite::linalg::im2col(g, x.data(), col.data() + guard);
        for (std::size_t e = 0; e < guard; ++e) {
            REQUIRE(col[e] == mark);
            REQUIRE(col[guard + k * p + e] == mark);
        }
        for (std::size_t c = 0; c < cs.c; ++c)
            for (std::size_t i = 0; i < cs.kh; ++i)
                for (std::size_t j = 0; j < cs.kw; ++j)
                    for (std::size_t r = 0; r < oh; ++r)
                        for (std::size_t s = 0; s < ow; ++s) {
                            const std::size_t row = (c * cs.kh + i) * cs.kw + j;
                            const long at = input_index(g, c, i, j, r, s);
                            REQUIRE(col[guard + row * p + r * ow + s] ==
                                    (at < 0 ? T(0) : x[static_cast<std::size_t>(at)]));
                        }

        // col2im accumulates onto what dx holds; the reference adds in a fixed order, so
        // compare with a tolerance of the number of terms per pixel.
        std::vector<T> dcol(k * p);
        for (auto& v : dcol)
            v = u(rng);
        std::vector<T> dx(guard + plane + guard, mark);
        std::vector<T> start(plane);
        for (std::size_t e = 0; e < plane; ++e)
            dx[guard + e] = start[e] = u(rng);
        dendrite::linalg::col2im(g, dcol.data(), dx.data() + guard);
        std::vector<long double> want(start.begin(), start.end());
        for (std::size_t c = 0; c < cs.c; ++c)
            for (std::size_t i = 0; i < cs.kh; ++i)
                for (std::size_t j = 0; j < cs.kw; ++j)
                    for (std::size_t r = 0; r < oh; ++r)
                        for (std::size_t s = 0; s < ow; ++s) {
                            const long at = input_index(g, c, i, j, r, s);
                            if (at >= 0)
                                want[static_cast<std::size_t>(at)] +=
                                    dcol[((c * cs.kh + i) * cs.kw + j) * p + r * ow + s];
                        }
        const long double eps = std::numeric_limits<T>::epsilon();
        for (std::size_t e = 0; e < guard; ++e) {
            REQUIRE(dx[e] == mark);
            REQUIRE(dx[guard + plane + e] == mark);
        }
        for (std::size_t e = 0; e < plane; ++e)
            REQUIRE(std::abs(static_cast<long double>(dx[guard + e]) - want[e]) <=
                    4 * eps * static_cast<long double>(cs.kh * cs.kw + 1) * 2);
    }
}
