#include "dendrite/io/image_grid.hpp"
#include "dendrite/config.hpp"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "dendrite/io/atomic_file.hpp"

namespace dendrite::inline DENDRITE_TARGET::io {

namespace {

void put32(std::vector<std::uint8_t>& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8)
        out.push_back(static_cast<std::uint8_t>(v >> shift));
}

void chunk(std::vector<std::uint8_t>& out, const char (&type)[5], const std::uint8_t* data,
           std::size_t n) {
    put32(out, static_cast<std::uint32_t>(n));
    const std::size_t start = out.size();
    out.insert(out.end(), type, type + 4);
    out.insert(out.end(), data, data + n);
    // The CRC covers the chunk type and data, not the length.
    const uLong crc = crc32(crc32(0L, Z_NULL, 0), out.data() + start, static_cast<uInt>(n + 4));
    put32(out, static_cast<std::uint32_t>(crc));
}

template <class T>
image grid(const tensor<T>& w, std::size_t tile_rows, std::size_t tile_cols,
           const grid_options& opt) {
    if (w.rank() != 2)
        throw shape_error("weight_grid: weights of shape " + w.shape().str() + " are not rank 2");
    const std::size_t units = opt.units_first ? w.dim(0) : w.dim(1);
    const std::size_t inputs = opt.units_first ? w.dim(1) : w.dim(0);
    if (inputs != tile_rows * tile_cols)
        throw shape_error("weight_grid: " + std::to_string(inputs) + " inputs per unit (weights " +
                          w.shape().str() + ") do not make " + std::to_string(tile_rows) + "x" +
                          std::to_string(tile_cols) + " tiles");
    const std::size_t scale = std::max<std::size_t>(opt.scale, 1);
    const std::size_t columns =
        opt.columns ? opt.columns
                    : static_cast<std::size_t>(std::ceil(std::sqrt(static_cast<double>(units))));
    const std::size_t rows = columns ? (units + columns - 1) / columns : 0;
    const std::size_t tw = tile_cols * scale, th = tile_rows * scale;

    image img;
    img.channels = opt.diverging ? 3 : 1;
    img.width = std::max<std::size_t>(opt.padding + columns * (tw + opt.padding), 1);
    img.height = std::max<std::size_t>(opt.padding + rows * (th + opt.padding), 1);
    img.pixels.assign(img.width * img.height * img.channels, 48);

    auto weight = [&](std::size_t u, std::size_t i) -> double {
        return static_cast<double>(opt.units_first ? w(u, i) : w(i, u));
    };
    for (std::size_t u = 0; u < units; ++u) {
        double lo = std::numeric_limits<double>::infinity(), hi = -lo, mag = 0;
        for (std::size_t i = 0; i < inputs; ++i) {
            const double v = weight(u, i);
            if (!std::isfinite(v)) continue;
            lo = std::min(lo, v);
            hi = std::max(hi, v);
            mag = std::max(mag, std::abs(v));
        }
        const std::size_t ox = opt.padding + (u % columns) * (tw + opt.padding);
        const std::size_t oy = opt.padding + (u / columns) * (th + opt.padding);
        for (std::size_t i = 0; i < inputs; ++i) {
            const double v = weight(u, i);
            std::uint8_t rgb[3];
            if (!opt.diverging) {
                const double t = std::isfinite(v) && hi > lo ? (v - lo) / (hi - lo) : 0.5;
                rgb[0] = rgb[1] = rgb[2] = static_cast<std::uint8_t>(std::lround(255 * t));
            } else {
                // White at zero, towards red for positive and blue for negative weights.
                const double t = std::isfinite(v) && mag > 0 ? std::clamp(v / mag, -1.0, 1.0) : 0.0;
                const double end[3] = {t >= 0 ? 178.0 : 33.0, t >= 0 ? 24.0 : 102.0,
                                       t >= 0 ? 43.0 : 172.0};
                for (int c = 0; c < 3; ++c)
                    rgb[c] =
                        static_cast<std::uint8_t>(std::lround(255 + (end[c] - 255) * std::abs(t)));
            }
            const std::size_t r0 = oy + (i / tile_cols) * scale, c0 = ox + (i % tile_cols) * scale;
            for (std::size_t dy = 0; dy < scale; ++dy)
                for (std::size_t dx = 0; dx < scale; ++dx) {
                    std::uint8_t* p = &img.pixels[((r0 + dy) * img.width + c0 + dx) * img.channels];
                    for (std::size_t c = 0; c < img.channels; ++c)
                        p[c] = rgb[c];
                }
        }
    }
    return img;
}

}  // namespace

std::vector<std::uint8_t> encode_png(const image& img) {
    if (img.channels != 1 && img.channels != 3)
        throw io_error("encode_png: " + std::to_string(img.channels) +
                       " channels (1 grey or 3 RGB are supported)");
    if (img.width == 0 || img.height == 0 || img.width > 0x7FFFFFFF || img.height > 0x7FFFFFFF)
        throw io_error("encode_png: bad size " + std::to_string(img.width) + "x" +
                       std::to_string(img.height));
    if (img.pixels.size() != img.width * img.height * img.channels)
        throw io_error("encode_png: " + std::to_string(img.pixels.size()) + " bytes for a " +
                       std::to_string(img.width) + "x" + std::to_string(img.height) + "x" +
                       std::to_string(img.channels) + " image");

    // Each scanline starts with its filter type; 0 (none) keeps the encoder simple, and deflate
    // still compresses the flat backgrounds of weight grids well.
    const std::size_t stride = img.width * img.channels;
    std::vector<std::uint8_t> raw;
    raw.reserve((stride + 1) * img.height);
    for (std::size_t y = 0; y < img.height; ++y) {
        raw.push_back(0);
        raw.insert(raw.end(), img.pixels.begin() + static_cast<std::ptrdiff_t>(y * stride),
                   img.pixels.begin() + static_cast<std::ptrdiff_t>((y + 1) * stride));
    }
    uLongf packed_size = compressBound(static_cast<uLong>(raw.size()));
    std::vector<std::uint8_t> packed(packed_size);
    if (compress2(packed.data(), &packed_size, raw.data(), static_cast<uLong>(raw.size()), 9) !=
        Z_OK)
        throw io_error("encode_png: zlib compression failed");

    std::vector<std::uint8_t> png{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    std::vector<std::uint8_t> ihdr;
    put32(ihdr, static_cast<std::uint32_t>(img.width));
    put32(ihdr, static_cast<std::uint32_t>(img.height));
    ihdr.insert(ihdr.end(), {8, static_cast<std::uint8_t>(img.channels == 1 ? 0 : 2), 0, 0, 0});
    chunk(png, "IHDR", ihdr.data(), ihdr.size());
    chunk(png, "IDAT", packed.data(), packed_size);
    chunk(png, "IEND", nullptr, 0);
    return png;
}

void write_png(const std::filesystem::path& path, const image& img) {
    std::vector<std::uint8_t> bytes;
    try {
        bytes = encode_png(img);
    } catch (const io_error& e) {
        throw io_error(path.string() + ": " + e.what());
    }
    write_file_atomically(path, std::as_bytes(std::span<const std::uint8_t>(bytes)));
}

image weight_grid(const tensor<float>& weights, std::size_t tile_rows, std::size_t tile_cols,
                  const grid_options& options) {
    return grid(weights, tile_rows, tile_cols, options);
}

image weight_grid(const tensor<double>& weights, std::size_t tile_rows, std::size_t tile_cols,
                  const grid_options& options) {
    return grid(weights, tile_rows, tile_cols, options);
}

}  // namespace dendrite::inline DENDRITE_TARGET::io
