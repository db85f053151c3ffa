#pragma once
// Checks hvp against central differences of gradients, in double, with the five-point stencil
// (g(-2e) - 8 g(-e) + 8 g(e) - g(2e)) / 12e along v: its error is O(e^4), so e = 1e-4 keeps both
// truncation and rounding far below the tolerance even where normalisation over a batch of two
// makes the third derivatives large.

#include <catch2/catch.hpp>
#include <dendrite/dendrite.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace dendrite::testing {

/// The gradient of loss(tape&) with respect to params, each as a fresh tensor.
template <class Loss>
std::vector<tensor<double>> gradients(Loss& loss, nn::parameter_list<double>& params) {
    for (auto& p : params)
        p.zero_grad();
    tape t;
    loss(t).backward();
    std::vector<tensor<double>> g;
    for (auto& p : params)
        g.push_back(p.grad.clone());
    return g;
}

/// Largest |hvp - finite difference| relative to the largest |finite difference|, along a random
/// direction; requires it below `tolerance` and returns it.
template <class Loss>
double require_hvp_matches_differences(Loss loss, nn::parameter_list<double>& params,
                                       std::uint64_t seed, double tolerance = 1e-6) {
    rng g(seed);
    std::vector<tensor<double>> v;
    for (auto& p : params)
        v.push_back(normal<double>(p.value.shape(), 0.0, 1.0, g));
    for (auto& p : params)
        p.zero_grad();
    const auto r = hvp(loss, params, v);

    const double e = 1e-4;
    std::vector<tensor<double>> base;
    for (auto& p : params)
        base.push_back(p.value.clone());
    const auto gradients_at = [&](double s) {
        for (std::size_t i = 0; i < params.size(); ++i)
            params[i].value.assign(base[i] + s * v[i]);
        return gradients(loss, params);
    };
    const auto up2 = gradients_at(2 * e), up = gradients_at(e), down = gradients_at(-e),
               down2 = gradients_at(-2 * e);
    for (std::size_t i = 0; i < params.size(); ++i)
        params[i].value.assign(base[i]);

    double worst = 0, scale = 0;
    for (std::size_t i = 0; i < params.size(); ++i)
        for (std::size_t k = 0; k < v[i].size(); ++k) {
            const double fd = (down2[i].data()[k] - 8 * down[i].data()[k] + 8 * up[i].data()[k] -
                               up2[i].data()[k]) /
                              (12 * e);
            scale = std::max(scale, std::abs(fd));
            worst = std::max(worst, std::abs(r.hv[i].data()[k] - fd));
        }
    const double relative = worst / std::max(scale, 1e-12);
    INFO("largest |Hv - finite difference| " << worst << " against largest |Hv| " << scale);
    REQUIRE(scale > 0);
    REQUIRE(relative < tolerance);
    return relative;
}

}  // namespace dendrite::testing
