#pragma once
// Helpers shared by the expression tests: distances in ulps, the awkward sizes every op is run at,
// and seeded inputs.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "dendrite/tensor/random.hpp"
#include "dendrite/tensor/tensor.hpp"

namespace check {

/// Sizes that are not multiples of the SIMD width (16 floats, 8 doubles), so that every op runs
/// through both the vector body and the scalar tail.
inline constexpr std::size_t awkward_sizes[] = {0, 1, 7, 15, 17, 33, 257, 1000};

/// Distance in units in the last place: 0 for equal values (+0 and -0 included) and for two NaNs,
/// the maximum when exactly one side is NaN.
template <class T>
std::uint64_t ulp_distance(T a, T b) {
    if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b) ? 0 : UINT64_MAX;
    using I = std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t>;
    auto ordered = [](T x) {
        I i;
        std::memcpy(&i, &x, sizeof i);
        // Negative floats count down from the sign bit: map them below zero.
        return i < 0 ? static_cast<std::int64_t>(std::numeric_limits<I>::min()) -
                           static_cast<std::int64_t>(i)
                     : static_cast<std::int64_t>(i);
    };
    const std::int64_t d = ordered(a) - ordered(b);
    return static_cast<std::uint64_t>(d < 0 ? -d : d);
}

/// True when a and b are the same value, including the sign of zero and NaN-ness.
template <class T>
bool same_value(T a, T b) {
    if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
    return a == b && std::signbit(a) == std::signbit(b);
}

/// A 1-d tensor of n uniform values in [lo, hi).
template <class T>
dendrite::tensor<T> uniform_values(std::size_t n, double lo, double hi, std::uint64_t seed = 7) {
    dendrite::rng g(seed);
    dendrite::tensor<T> t = dendrite::tensor<T>::uninitialized({n});
    for (std::size_t i = 0; i < n; ++i)
        t.data()[i] = static_cast<T>(g.uniform(lo, hi));
    return t;
}

/// A 1-d tensor of n values of magnitude e^u, u uniform in [log_lo, log_hi), with random signs when
/// `signed_values`: spans subnormals to huge values evenly in the exponent.
template <class T>
dendrite::tensor<T> log_uniform_values(std::size_t n, double log_lo, double log_hi,
                                       bool signed_values, std::uint64_t seed = 11) {
    dendrite::rng g(seed);
    dendrite::tensor<T> t = dendrite::tensor<T>::uninitialized({n});
    for (std::size_t i = 0; i < n; ++i) {
        const double m = std::exp(g.uniform(log_lo, log_hi));
        t.data()[i] = static_cast<T>(signed_values && g.below(2) ? -m : m);
    }
    return t;
}

}  // namespace check
