#include <catch2/catch.hpp>

#include <zlib.h>

#include <cstdint>
#include <string>

#include "../data/temp_dir.hpp"
#include "dendrite/io/image_grid.hpp"

using namespace dendrite;

namespace {

std::uint32_t be32(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           p[3];
}

struct png_chunk {
    std::string type;
    std::vector<std::uint8_t> data;
};

/// Splits a PNG into chunks, checking the signature and every CRC.
std::vector<png_chunk> parse_png(const std::vector<std::uint8_t>& png) {
    const std::uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    REQUIRE(png.size() > 8);
    REQUIRE(std::equal(signature, signature + 8, png.begin()));
    std::vector<png_chunk> chunks;
    std::size_t at = 8;
    while (at < png.size()) {
        REQUIRE(at + 12 <= png.size());
        const std::uint32_t n = be32(&png[at]);
        REQUIRE(at + 12 + n <= png.size());
        const std::uint32_t crc = static_cast<std::uint32_t>(crc32(0, &png[at + 4], n + 4));
        CHECK(crc == be32(&png[at + 8 + n]));
        chunks.push_back(
            {std::string(png.begin() + static_cast<std::ptrdiff_t>(at + 4),
                         png.begin() + static_cast<std::ptrdiff_t>(at + 8)),
             std::vector<std::uint8_t>(png.begin() + static_cast<std::ptrdiff_t>(at + 8),
                                       png.begin() + static_cast<std::ptrdiff_t>(at + 8 + n))});
        at += 12 + n;
    }
    return chunks;
}

}  // namespace

TEST_CASE("PNG encoding: valid chunks and the exact pixels", "[io][png]") {
    io::image img{5, 3, 3, {}};
    for (std::size_t i = 0; i < 5 * 3 * 3; ++i)
        img.pixels.push_back(static_cast<std::uint8_t>(i * 5));
    const auto png = io::encode_png(img);
    const auto chunks = parse_png(png);
    REQUIRE(chunks.size() == 3);
    CHECK(chunks[0].type == "IHDR");
    CHECK(be32(chunks[0].data.data()) == 5);
    CHECK(be32(chunks[0].data.data() + 4) == 3);
    CHECK(chunks[0].data[8] == 8);
    CHECK(chunks[0].data[9] == 2);  // RGB
    CHECK(chunks[1].type == "IDAT");
    CHECK(chunks[2].type == "IEND");

    std::vector<std::uint8_t> raw(3 * (1 + 15));
    uLongf raw_size = raw.size();
    REQUIRE(uncompress(raw.data(), &raw_size, chunks[1].data.data(), chunks[1].data.size()) ==
            Z_OK);
    REQUIRE(raw_size == raw.size());
    for (std::size_t y = 0; y < 3; ++y) {
        CHECK(raw[y * 16] == 0);  // filter type none
        for (std::size_t x = 0; x < 15; ++x)
            CHECK(raw[y * 16 + 1 + x] == img.pixels[y * 15 + x]);
    }

    CHECK_THROWS_AS(io::encode_png(io::image{2, 2, 2, std::vector<std::uint8_t>(8)}), io_error);
    CHECK_THROWS_AS(io::encode_png(io::image{2, 2, 1, std::vector<std::uint8_t>(3)}), io_error);
}

TEST_CASE("weight grids normalise each tile", "[io][png]") {
    // 6 inputs (2x3 tiles), 5 units; unit u's weights are u * (i - 2), so each tile spans its own
    // range.
    tensor<float> w(shape{6, 5});
    for (std::size_t i = 0; i < 6; ++i)
        for (std::size_t u = 0; u < 5; ++u)
            w(i, u) = static_cast<float>(u) * (static_cast<float>(i) - 2.0f);
    const io::image img = io::weight_grid(w, 2, 3, {.columns = 3, .padding = 1, .scale = 2});
    CHECK(img.channels == 1);
    CHECK(img.width == 1 + 3 * (6 + 1));
    CHECK(img.height == 1 + 2 * (4 + 1));
    auto px = [&](std::size_t x, std::size_t y) { return img.pixels[y * img.width + x]; };
    // Unit 1 is the second tile of the first row: input 0 (lowest) black, input 5 (highest) white.
    CHECK(px(8, 1) == 0);
    CHECK(px(9, 2) == 0);
    CHECK(px(8 + 4, 1 + 2) == 255);
    // Unit 0 is constant: mid grey. Unit 3's tile sits in the second row.
    CHECK(px(1, 1) == 128);
    CHECK(px(1, 6) == 0);
    CHECK(px(0, 0) == 48);  // padding

    const io::image div = io::weight_grid(
        w.transpose(), 2, 3, {.padding = 0, .scale = 1, .diverging = true, .units_first = true});
    CHECK(div.channels == 3);
    CHECK(div.width == 3 * 3);
    // Unit 1, input 2 has weight 0: white; input 5 the largest positive: red.
    const std::uint8_t* zero = &div.pixels[(0 * div.width + 3 + 2) * 3];
    CHECK((zero[0] == 255 && zero[1] == 255 && zero[2] == 255));
    const std::uint8_t* top = &div.pixels[(1 * div.width + 3 + 2) * 3];
    CHECK((top[0] == 178 && top[1] == 24 && top[2] == 43));

    CHECK_THROWS_AS(io::weight_grid(w, 3, 3), shape_error);

    test_support::temp_dir dir;
    io::write_png(dir / "weights.png", img);
    const std::string bytes = test_support::read_file(dir / "weights.png");
    CHECK(std::vector<std::uint8_t>(bytes.begin(), bytes.end()) == io::encode_png(img));
    const tensor<double> wd(shape{4, 2}, 0.5);
    CHECK(io::weight_grid(wd, 2, 2).pixels.size() ==
          io::weight_grid(tensor<float>(shape{4, 2}, 0.5f), 2, 2).pixels.size());
}
