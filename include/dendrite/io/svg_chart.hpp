#pragma once
// Line charts as standalone SVG pictures: curves over x in side-by-side panels, and the learning
// curves of a training run drawn with them.

#include <cstddef>
#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "dendrite/config.hpp"
#include "dendrite/io/csv_history.hpp"

namespace dendrite::inline DENDRITE_TARGET::io {

/// One curve: y over x (NaN values leave a gap). Markers, when asked for, carry each value as a
/// tooltip.
struct chart_curve {
    std::string label;
    std::vector<double> x;
    std::vector<double> y;
    std::string colour = "#1f77b4";
    bool dashed = false;
    bool markers = false;
};

/// A panel: axes with "nice" ticks, a grid and curves; y is clamped to [y_min, y_max].
struct chart_panel {
    std::string title;
    std::string x_label;
    std::string y_label;
    std::vector<chart_curve> curves;
    double y_min = -std::numeric_limits<double>::infinity();
    double y_max = std::numeric_limits<double>::infinity();
    bool integer_x = false;  // ticks at whole numbers (epochs)
};

struct legend_entry {
    std::string label;
    std::string colour;
    bool dashed = false;
};

/// A titled chart of panels side by side, with one legend under the title.
struct line_chart {
    std::string title;
    std::vector<legend_entry> legend;
    std::vector<chart_panel> panels;
    std::size_t width = 960;
    std::size_t height = 420;
};

/// The chart as an SVG document. Works for any number of points, including none. Throws
/// std::invalid_argument when a curve's x and y differ in length.
std::string line_chart_svg(const line_chart& chart);

/// Writes line_chart_svg(chart) to `path` atomically. Throws io_error.
void write_line_chart(const std::filesystem::path& path, const line_chart& chart);

/// Size and title of a training chart.
struct chart_options {
    std::string title = "Training";
    std::size_t width = 960;
    std::size_t height = 420;
};

/// An SVG document with two panels side by side: loss per epoch (left) and accuracy per epoch in
/// percent (right), each with training and validation curves, axes with "nice" ticks and labels,
/// a grid and a legend. NaN values are left out (no validation: no validation curve). Works for
/// any number of epochs, including none or one. Cost: O(records).
std::string training_chart_svg(std::span<const epoch_record> records,
                               const chart_options& options = {});

/// Writes training_chart_svg(records, options) to `path` atomically. Throws io_error.
void write_training_chart(const std::filesystem::path& path, std::span<const epoch_record> records,
                          const chart_options& options = {});

}  // namespace dendrite::inline DENDRITE_TARGET::io
