#pragma once
// Box plots as standalone SVG pictures: the spread of a few measurements per group (test
// accuracies over seeds, one box per activation), every measurement drawn as a dot over its box.

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "dendrite/config.hpp"

namespace dendrite::inline DENDRITE_TARGET::io {

/// The five numbers a box is drawn from (Tukey's): quartiles by linear interpolation between
/// order statistics (as numpy's default), whiskers at the furthest values within 1.5 IQR.
struct box_summary {
    double lower_whisker = 0, first_quartile = 0, median = 0, third_quartile = 0, upper_whisker = 0;
};

/// The summary of `values` (not NaN). Throws std::invalid_argument when there are none.
box_summary summarize_box(std::span<const double> values);

struct box_group {
    std::string label;
    std::vector<double> values;
    std::string colour = "#1f77b4";
};

/// A panel of boxes side by side on one value axis.
struct box_panel {
    std::string title;
    std::string y_label;
    std::vector<box_group> groups;
};

/// A titled chart of box panels side by side.
struct box_chart {
    std::string title;
    std::vector<box_panel> panels;
    std::size_t width = 960;
    std::size_t height = 460;
};

/// The chart as an SVG document. A group without values is labelled but has no box. Throws
/// std::invalid_argument for a NaN or infinite value, naming its group.
std::string box_chart_svg(const box_chart& chart);

/// Writes box_chart_svg(chart) to `path` atomically. Throws io_error.
void write_box_chart(const std::filesystem::path& path, const box_chart& chart);

}  // namespace dendrite::inline DENDRITE_TARGET::io
