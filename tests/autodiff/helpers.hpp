#pragma once
// Inputs for gradient checks: values kept away from kinks and domain edges, at shapes that are
// not multiples of the SIMD width.

#include <catch2/catch.hpp>
#include <dendrite/dendrite.hpp>

#include <array>
#include <string>

namespace dendrite::testing {

/// Shapes whose sizes (21, 17, 30) leave a scalar remainder after every SIMD width.
inline const std::array<shape, 3> odd_shapes{shape{3, 7}, shape{17}, shape{2, 3, 5}};

/// Uniform magnitudes in [lo, hi) with random signs: never within lo of 0 (abs, relu, max).
inline tensor<double> away_from_zero(const shape& s, double lo, double hi, rng& g) {
    tensor<double> t = uniform<double>(s, lo, hi, g);
    for (double& v : t.span())
        if (g.below(2)) v = -v;
    return t;
}

/// `a` moved by at least `gap` in a random direction, element by element (ties of max/min).
inline tensor<double> apart_from(const tensor<double>& a, double gap, rng& g) {
    tensor<double> b = away_from_zero(a.shape(), gap, gap + 1.0, g);
    b.assign(a + b);
    return b;
}

/// Requires gradcheck's verdict, with its report in the failure message.
inline void require_gradcheck(const gradcheck_report& report, double tolerance) {
    INFO(report.str());
    REQUIRE(report.passed(tolerance));
}

}  // namespace dendrite::testing
