#pragma once
// The statistics of comparing training runs: the mean and spread of a few measurements, and
// Welch's t-test of whether two such samples differ (unequal variances, as runs with different
// activations have).

#include <cstddef>
#include <span>

#include "dendrite/config.hpp"

namespace dendrite::inline DENDRITE_TARGET::train {

struct sample_summary {
    std::size_t count = 0;
    double mean = 0;
    /// The sample standard deviation (n - 1 in the denominator); 0 for fewer than two values.
    double stddev = 0;
};

sample_summary summarize(std::span<const double> values);

struct welch_test {
    double t = 0;
    /// Welch-Satterthwaite degrees of freedom.
    double degrees_of_freedom = 0;
    /// Two-sided p-value: the chance of a |t| this large if both means were equal.
    double p_value = 1;
};

/// Welch's t-test of mean(a) against mean(b). Two samples without spread give p = 1 when their
/// means are equal and 0 when not. Throws std::invalid_argument when either has fewer than two
/// values.
welch_test welch_t_test(std::span<const double> a, std::span<const double> b);

}  // namespace dendrite::inline DENDRITE_TARGET::train
