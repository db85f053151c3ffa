#pragma once
// Pictures of learned weights: each unit's incoming weights as a tile in a grid, saved as PNG.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "dendrite/config.hpp"
#include "dendrite/io/error.hpp"
#include "dendrite/tensor/tensor.hpp"

namespace dendrite::inline DENDRITE_TARGET::io {

/// An 8-bit image, row-major, `channels` bytes per pixel (1 grey, 3 RGB).
struct image {
    std::size_t width = 0;
    std::size_t height = 0;
    std::size_t channels = 1;
    std::vector<std::uint8_t> pixels;
};

/// Encodes `img` as PNG (8-bit grey or RGB, zlib-compressed, CRC-checked chunks) and writes it
/// atomically. Throws io_error on a bad image (sizes disagree, channels not 1 or 3) or a failed
/// write. Cost: one deflate pass over the pixels.
void write_png(const std::filesystem::path& path, const image& img);

/// The bytes of a PNG file holding `img` (what write_png writes).
std::vector<std::uint8_t> encode_png(const image& img);

/// How weight_grid lays out tiles.
struct grid_options {
    /// Tiles per row of the grid; 0 picks ceil(sqrt(units)).
    std::size_t columns = 0;
    /// Pixels of background between tiles and around the grid.
    std::size_t padding = 1;
    /// Each weight becomes a scale x scale block of pixels.
    std::size_t scale = 2;
    /// false: grey, each tile stretched from its minimum (black) to its maximum (white).
    /// true: blue-white-red, each tile scaled by its largest magnitude so that 0 is white.
    bool diverging = false;
    /// false: weights are [inputs, units], as dense layers store them (a tile is a column).
    /// true: weights are [units, inputs] (a tile is a row).
    bool units_first = false;
};

/// One tile of tile_rows x tile_cols pixels per unit, each normalised on its own (a constant tile
/// is mid grey or white). `weights` is rank 2 with tile_rows * tile_cols inputs.
/// Throws shape_error when the sizes disagree. Cost: O(weights).
image weight_grid(const tensor<float>& weights, std::size_t tile_rows, std::size_t tile_cols,
                  const grid_options& options = {});
image weight_grid(const tensor<double>& weights, std::size_t tile_rows, std::size_t tile_cols,
                  const grid_options& options = {});

}  // namespace dendrite::inline DENDRITE_TARGET::io
