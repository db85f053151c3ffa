#pragma once
// Naive references for the convolution tests: the defining loops, nothing shared with the
// library's kernels.

#include <catch2/catch.hpp>
#include <dendrite/dendrite.hpp>
#include <dendrite/nn/layers/conv2d.hpp>

#include <cstddef>
#include <vector>

namespace dendrite::conv_testing {

/// y[n][o][oh][ow] = b[o] + sum over c in o's group, i, j of w[o][c][i][j] x[n][c][ih][iw].
template <class T>
tensor<T> reference_conv2d(const tensor<T>& x, const tensor<T>& w, const tensor<T>* b,
                           const conv2d_options& o) {
    const std::size_t n = x.dim(0), c = x.dim(1), h = x.dim(2), wd = x.dim(3);
    const std::size_t oc = w.dim(0), cg = w.dim(1), kh = w.dim(2), kw = w.dim(3);
    const std::size_t og = oc / o.groups;
    const std::size_t oh = (h + 2 * o.pad_h - o.dilation_h * (kh - 1) - 1) / o.stride_h + 1;
    const std::size_t ow = (wd + 2 * o.pad_w - o.dilation_w * (kw - 1) - 1) / o.stride_w + 1;
    (void)c;
    tensor<T> y(shape{n, oc, oh, ow});
    for (std::size_t in = 0; in < n; ++in)
        for (std::size_t oo = 0; oo < oc; ++oo)
            for (std::size_t r = 0; r < oh; ++r)
                for (std::size_t s = 0; s < ow; ++s) {
                    double acc = b ? static_cast<double>((*b)(oo)) : 0.0;
                    const std::size_t grp = oo / og;
                    for (std::size_t cc = 0; cc < cg; ++cc)
                        for (std::size_t i = 0; i < kh; ++i)
                            for (std::size_t j = 0; j < kw; ++j) {
                                const long ih =
                                    static_cast<long>(r * o.stride_h + i * o.dilation_h) -
                                    static_cast<long>(o.pad_h);
                                const long iw =
                                    static_cast<long>(s * o.stride_w + j * o.dilation_w) -
                                    static_cast<long>(o.pad_w);
                                if (ih < 0 || iw < 0 || ih >= static_cast<long>(h) ||
                                    iw >= static_cast<long>(wd))
                                    continue;
                                acc += static_cast<double>(w(oo, cc, i, j)) *
                                       static_cast<double>(x(in, grp * cg + cc,
                                                             static_cast<std::size_t>(ih),
                                                             static_cast<std::size_t>(iw)));
                            }
                    y(in, oo, r, s) = static_cast<T>(acc);
                }
    return y;
}

template <class T>
double max_abs_diff(const tensor<T>& a, const tensor<T>& b) {
    REQUIRE(a.shape() == b.shape());
    double m = 0;
    const auto as = a.span();
    const auto bs = b.span();
    for (std::size_t i = 0; i < as.size(); ++i)
        m = std::max(m, std::abs(static_cast<double>(as[i]) - static_cast<double>(bs[i])));
    return m;
}

#define DENDRITE_CONV_REQUIRE_GRADCHECK(report, tolerance) \
    do {                                                   \
        const auto& r_ = (report);                         \
        INFO(r_.str());                                    \
        REQUIRE(r_.passed(tolerance));                     \
    } while (false)

}  // namespace dendrite::conv_testing
