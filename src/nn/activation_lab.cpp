// The activation lab's measurements, report and pictures.
#include "dendrite/nn/activation_lab.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

#include "dendrite/io/atomic_file.hpp"
#include "dendrite/io/error.hpp"
#include "dendrite/io/svg_chart.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

namespace detail {

namespace {

/// The integral of g times the standard normal density over [lo, hi] by Simpson's rule.
double simpson_normal(const std::function<double(double)>& g, double lo, double hi) {
    constexpr int intervals = 10000;
    const double h = (hi - lo) / intervals;
    const double norm = 1 / std::sqrt(2 * 3.14159265358979323846);
    double sum = 0;
    for (int i = 0; i <= intervals; ++i) {
        const double z = lo + i * h;
        const double w = (i == 0 || i == intervals) ? 1 : (i % 2 ? 4 : 2);
        sum += w * g(z) * norm * std::exp(-0.5 * z * z);
    }
    return sum * h / 3;
}

/// E g(z) for z ~ N(0, 1): Simpson's rule on [-10, 0] and [0, 10] (the tails beyond hold
/// < 1e-22 of the mass), split at 0 where most activations have their kink; a kink elsewhere
/// costs O(h) with h = 1e-3.
double gaussian_expectation(const std::function<double(double)>& g) {
    return simpson_normal(g, -10, 0) + simpson_normal(g, 0, 10);
}

/// The x in [a, b] where f is smallest, f unimodal there: golden-section search.
double refine_minimum(const std::function<double(double)>& f, double a, double b) {
    const double r = (std::sqrt(5.0) - 1) / 2;
    double c = b - r * (b - a), d = a + r * (b - a);
    double fc = f(c), fd = f(d);
    for (int i = 0; i < 80 && b - a > 1e-13 * (1 + std::abs(a)); ++i) {
        if (fc <= fd) {
            b = d;
            d = c;
            fd = fc;
            c = b - r * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + r * (b - a);
            fd = f(d);
        }
    }
    return fc <= fd ? c : d;
}

}  // namespace

activation_profile measure_activation(std::string name, std::array<std::string, 3> formulas,
                                      std::array<std::string, 3> latex,
                                      const std::function<std::array<double, 3>(double)>& f,
                                      const lab_range& range) {
    if (!(range.from < range.to) || !std::isfinite(range.from) || !std::isfinite(range.to))
        throw std::invalid_argument("activation lab: the range [" + std::to_string(range.from) +
                                    ", " + std::to_string(range.to) + "] is empty or not finite");
    if (range.points < 3)
        throw std::invalid_argument("activation lab: at least 3 points are needed, given " +
                                    std::to_string(range.points));
    activation_profile p;
    p.name = std::move(name);
    p.formulas = std::move(formulas);
    p.latex = std::move(latex);

    const std::size_t n = range.points;
    const double step = (range.to - range.from) / static_cast<double>(n - 1);
    for (std::size_t i = 0; i < n; ++i) {
        const double x = i + 1 == n ? range.to : range.from + step * static_cast<double>(i);
        const auto d = f(x);
        p.x.push_back(x);
        for (int k = 0; k < 3; ++k)
            p.curves[k].push_back(d[k]);
    }
    const auto at0 = f(0);
    p.value_at_0 = at0[0];
    p.slope_at_0 = at0[1];

    // Minimum over the range, refined between the neighbours of the smallest sample.
    const auto& fx = p.curves[0];
    const std::size_t i_min =
        static_cast<std::size_t>(std::min_element(fx.begin(), fx.end()) - fx.begin());
    p.argmin = p.x[i_min];
    p.minimum = fx[i_min];
    if (i_min > 0 && i_min + 1 < n) {
        const auto value = [&](double x) { return f(x)[0]; };
        const double x = refine_minimum(value, p.x[i_min - 1], p.x[i_min + 1]);
        if (value(x) < p.minimum) p.minimum = value(x), p.argmin = x;
    }

    double max_slope = 0;
    for (const double s : p.curves[1])
        max_slope = std::max(max_slope, std::abs(s));
    p.max_abs_slope = max_slope;
    const double tolerance = 1e-12 * std::max(1.0, max_slope);
    const bool up = std::all_of(p.curves[1].begin(), p.curves[1].end(),
                                [&](double s) { return s >= -tolerance; });
    const bool down = std::all_of(p.curves[1].begin(), p.curves[1].end(),
                                  [&](double s) { return s <= tolerance; });
    p.monotonic = up ? 1 : down ? -1 : 0;

    // Bounds over the real line: f far out decides whether a side grows without bound.
    double lowest = *std::min_element(fx.begin(), fx.end());
    double highest = *std::max_element(fx.begin(), fx.end());
    lowest = std::min(lowest, p.minimum);
    bool below = true, above = true;
    for (const double far : {1e2, 1e3, 1e4, 1e5, 1e6}) {
        for (const double x : {-far, far}) {
            const double v = f(x)[0];
            if (!std::isfinite(v)) {
                (v > 0 ? above : below) = false;
                continue;
            }
            lowest = std::min(lowest, v);
            highest = std::max(highest, v);
            if (far == 1e6 && v < -1e3) below = false;
            if (far == 1e6 && v > 1e3) above = false;
        }
    }
    if (below) p.lower_bound = lowest;
    if (above) p.upper_bound = highest;

    p.gaussian_mean = gaussian_expectation([&](double z) { return f(z)[0]; });
    p.gaussian_second_moment = gaussian_expectation([&](double z) {
        const double v = f(z)[0];
        return v * v;
    });
    p.gaussian_slope_moment = gaussian_expectation([&](double z) {
        const double s = f(z)[1];
        return s * s;
    });
    p.init_gain = p.gaussian_second_moment > 0 ? 1 / std::sqrt(p.gaussian_second_moment)
                                               : std::numeric_limits<double>::infinity();
    return p;
}

}  // namespace detail

namespace {

std::string number(double v, int digits = 4) {
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.*g", digits, std::abs(v) < 1e-12 ? 0.0 : v);
    return buf;
}

/// A file name from an activation's name: letters, digits, '-' and '_' kept, runs of others '_'.
std::string file_stem(const std::string& name) {
    std::string s;
    for (const char c : name) {
        if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')
            s += c;
        else if (!s.empty() && s.back() != '_')
            s += '_';
    }
    while (!s.empty() && s.back() == '_')
        s.pop_back();
    return s.empty() ? "activation" : s;
}

}  // namespace

std::string activation_report(std::span<const activation_profile> profiles) {
    std::string s = "# Activation lab\n\n";
    if (!profiles.empty())
        s += "Curves over [" + number(profiles[0].x.front()) + ", " + number(profiles[0].x.back()) +
             "]; moments under a standard normal input z. The init gain 1 / sqrt(E f(z)^2) is the "
             "factor on fan-in-scaled weights that keeps the signal's second moment through a "
             "layer (sqrt 2 for ReLU, He initialisation).\n\n";
    s += "| activation | f(0) | f'(0) | minimum (at x) | monotonic | bounded below | bounded above "
         "| max \\|f'\\| | E f(z) | E f(z)^2 | E f'(z)^2 | init gain |\n";
    s += "|---|---|---|---|---|---|---|---|---|---|---|---|\n";
    for (const activation_profile& p : profiles) {
        s += "| " + p.name + " | " + number(p.value_at_0) + " | " + number(p.slope_at_0) + " | " +
             number(p.minimum) + " (" + number(p.argmin, 3) + ") | " +
             (p.monotonic > 0   ? "increasing"
              : p.monotonic < 0 ? "decreasing"
                                : "no") +
             " | " + (p.lower_bound ? "yes (" + number(*p.lower_bound) + ")" : std::string("no")) +
             " | " + (p.upper_bound ? "yes (" + number(*p.upper_bound) + ")" : std::string("no")) +
             " | " + number(p.max_abs_slope) + " | " + number(p.gaussian_mean) + " | " +
             number(p.gaussian_second_moment) + " | " + number(p.gaussian_slope_moment) + " | " +
             number(p.init_gain) + " |\n";
    }
    s += "\n## Formulas, as derived\n";
    const char* names[3] = {"f(x)", "f'(x)", "f''(x)"};
    for (const activation_profile& p : profiles) {
        s += "\n### " + p.name + "\n\n```\n";
        for (int k = 0; k < 3; ++k)
            s += std::string(names[k]) + " = " + p.formulas[k] + "\n";
        s += "```\n\n$$\n";
        for (int k = 0; k < 3; ++k)
            s += std::string(k == 0   ? "f(x)"
                             : k == 1 ? "f'(x)"
                                      : "f''(x)") +
                 " = " + p.latex[k] + (k < 2 ? " \\\\\n" : "\n");
        s += "$$\n";
    }
    return s;
}

void write_activation_lab(const std::filesystem::path& dir,
                          std::span<const activation_profile> profiles) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw io_error("activation lab: cannot create " + dir.string() + ": " + ec.message());
    for (const activation_profile& p : profiles) {
        io::line_chart chart;
        chart.title = p.name;
        chart.width = 720;
        chart.height = 480;
        const char* colours[3] = {"#1f77b4", "#e8590c", "#2b8a3e"};
        const char* labels[3] = {"f", "f'", "f''"};
        io::chart_panel panel;
        panel.x_label = "x";
        for (int k = 0; k < 3; ++k) {
            chart.legend.push_back({labels[k], colours[k], k == 1});
            panel.curves.push_back({labels[k], p.x, p.curves[k], colours[k], k == 1, false});
        }
        chart.panels.push_back(std::move(panel));
        io::write_line_chart(dir / (file_stem(p.name) + ".svg"), chart);
    }
    io::write_file_atomically(dir / "activations.md", activation_report(profiles));
}

}  // namespace dendrite::inline DENDRITE_TARGET::nn
