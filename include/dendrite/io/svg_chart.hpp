#pragma once
// Learning curves as a standalone SVG picture.

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>

#include "dendrite/config.hpp"
#include "dendrite/io/csv_history.hpp"

namespace dendrite::inline DENDRITE_TARGET::io {

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
