#pragma once
// Builders for small IDX files.

#include <cstdint>
#include <string>
#include <vector>

namespace test_support {

inline void put_be32(std::string& s, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8)
        s += static_cast<char>((v >> shift) & 0xFF);
}

/// An IDX image file of n images of rows x cols whose pixel k of image i is (i * 31 + k * 7) % 256.
inline std::string idx_images(std::uint32_t n, std::uint32_t rows, std::uint32_t cols) {
    std::string s;
    put_be32(s, 0x00000803);
    put_be32(s, n);
    put_be32(s, rows);
    put_be32(s, cols);
    for (std::uint32_t i = 0; i < n; ++i)
        for (std::uint32_t k = 0; k < rows * cols; ++k)
            s += static_cast<char>((i * 31 + k * 7) % 256);
    return s;
}

inline std::string idx_labels(const std::vector<std::uint8_t>& labels) {
    std::string s;
    put_be32(s, 0x00000801);
    put_be32(s, static_cast<std::uint32_t>(labels.size()));
    for (std::uint8_t l : labels)
        s += static_cast<char>(l);
    return s;
}

}  // namespace test_support
