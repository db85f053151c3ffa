#include "dendrite/train/statistics.hpp"

#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <stdexcept>
#include <string>

namespace dendrite::inline DENDRITE_TARGET::train {

sample_summary summarize(std::span<const double> values) {
    sample_summary s;
    s.count = values.size();
    if (values.empty()) return s;
    double sum = 0;
    for (double v : values)
        sum += v;
    s.mean = sum / static_cast<double>(values.size());
    if (values.size() < 2) return s;
    double squares = 0;
    for (double v : values)
        squares += (v - s.mean) * (v - s.mean);
    s.stddev = std::sqrt(squares / static_cast<double>(values.size() - 1));
    return s;
}

welch_test welch_t_test(std::span<const double> a, std::span<const double> b) {
    if (a.size() < 2 || b.size() < 2)
        throw std::invalid_argument("Welch's t-test needs at least two values per sample; got " +
                                    std::to_string(a.size()) + " and " + std::to_string(b.size()));
    const sample_summary sa = summarize(a), sb = summarize(b);
    const double va = sa.stddev * sa.stddev / static_cast<double>(sa.count);
    const double vb = sb.stddev * sb.stddev / static_cast<double>(sb.count);
    welch_test w;
    if (va + vb == 0) {
        w.p_value = sa.mean == sb.mean ? 1.0 : 0.0;
        w.t = sa.mean == sb.mean ? 0.0 : std::copysign(INFINITY, sa.mean - sb.mean);
        return w;
    }
    w.t = (sa.mean - sb.mean) / std::sqrt(va + vb);
    w.degrees_of_freedom =
        (va + vb) * (va + vb) /
        (va * va / static_cast<double>(sa.count - 1) + vb * vb / static_cast<double>(sb.count - 1));
    const boost::math::students_t dist(w.degrees_of_freedom);
    w.p_value = 2 * boost::math::cdf(boost::math::complement(dist, std::abs(w.t)));
    return w;
}

}  // namespace dendrite::inline DENDRITE_TARGET::train
