#pragma once
// The activation lab: the shape of an activation function, measured and written down.
//
// profile_activation(f, name) samples f, f' and f'' (one jet per point: the derivatives the
// library derives), writes the three as formulas, and measures what matters when choosing an
// activation: values at 0, minimum, monotonicity, bounds, the largest slope, and moments under
// a standard normal input (the mean, E[f^2] that sets the initial weight scale, E[f'^2] that sets
// how gradients propagate). write_activation_lab puts one SVG per activation and a markdown
// report in a folder.

#include <array>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dendrite/config.hpp"
#include "dendrite/expr/describe.hpp"
#include "dendrite/expr/taylor.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

/// Where and how densely the curves are sampled.
struct lab_range {
    double from = -6;
    double to = 6;
    std::size_t points = 481;
};

struct activation_profile {
    std::string name;
    // f, f' and f'' as the library derives them, in text and LaTeX.
    std::array<std::string, 3> formulas;
    std::array<std::string, 3> latex;
    // Samples over the range: x, f(x), f'(x), f''(x).
    std::vector<double> x;
    std::array<std::vector<double>, 3> curves;

    double value_at_0 = 0;
    double slope_at_0 = 0;
    double minimum = 0;  // over the range
    double argmin = 0;
    int monotonic = 0;  // +1 non-decreasing, -1 non-increasing, 0 neither (over the range)
    std::optional<double> lower_bound;  // inf f over the real line, if bounded below
    std::optional<double> upper_bound;  // sup f, if bounded above
    double max_abs_slope = 0;           // over the range
    double gaussian_mean = 0;           // E f(z), z ~ N(0, 1)
    double gaussian_second_moment = 0;  // E f(z)^2
    double gaussian_slope_moment = 0;   // E f'(z)^2
    /// 1 / sqrt(E f(z)^2): the factor on unit-variance weights (fan-in scaled) that keeps the
    /// second moment of the signal through a layer (sqrt(2) for ReLU: He initialisation).
    double init_gain = 0;
};

namespace detail {
/// The numeric part of profile_activation, given f, f', f'' at a point.
activation_profile measure_activation(std::string name, std::array<std::string, 3> formulas,
                                      std::array<std::string, 3> latex,
                                      const std::function<std::array<double, 3>(double)>& f,
                                      const lab_range& range);
}  // namespace detail

/// Profiles an element-wise function (a lambda, a built-in activation, an activation_expression).
template <class F>
activation_profile profile_activation(const F& f, std::string name, const lab_range& range = {}) {
    std::array<std::string, 3> text{describe(f), describe(derivative<1>(f)),
                                    describe(derivative<2>(f))};
    std::array<std::string, 3> latex{describe(f, notation::latex),
                                     describe(derivative<1>(f), notation::latex),
                                     describe(derivative<2>(f), notation::latex)};
    return detail::measure_activation(
        std::move(name), std::move(text), std::move(latex),
        [&](double x) {
            const auto d = value_and_derivatives<2>(f, x);
            return std::array<double, 3>{d[0], d[1], d[2]};
        },
        range);
}

/// The properties table and the formulas of every profile, as markdown.
std::string activation_report(std::span<const activation_profile> profiles);

/// Writes `dir`/<name>.svg (f, f', f'' over the range) for each profile and `dir`/activations.md
/// (activation_report), creating `dir`. Throws io::io_error.
void write_activation_lab(const std::filesystem::path& dir,
                          std::span<const activation_profile> profiles);

}  // namespace dendrite::inline DENDRITE_TARGET::nn
