#pragma once
// Masks over variables: masked_fill as a fused select, and the causal mask of autoregressive
// attention. Masks are tensors of the values' type, non-zero meaning "masked".

#include <cstddef>
#include <string>

#include "dendrite/autodiff/op_node.hpp"
#include "dendrite/config.hpp"

namespace dendrite::inline DENDRITE_TARGET {

/// x with `value` wherever `mask` (broadcast onto x) is non-zero: an element-wise expression,
/// fused with whatever surrounds it; the masked entries pass no gradient.
template <differentiable E, class T>
auto masked_fill(const E& x, const tensor<T>& mask, double value) {
    return where(mask, static_cast<T>(value), x);
}

/// The [rows, cols] mask of causal attention: entry (i, j) is 1 where key j lies in the future of
/// query i, j > i + (cols - rows) (so with a cache of earlier keys, cols > rows, the last query
/// sees every key), 0 elsewhere. Throws shape_error if rows > cols.
template <class T>
tensor<T> causal_mask(std::size_t rows, std::size_t cols) {
    if (rows > cols)
        throw shape_error("causal_mask: " + std::to_string(rows) + " queries but only " +
                          std::to_string(cols) + " keys");
    tensor<T> m(shape{rows, cols}, T(0));
    const std::size_t offset = cols - rows;
    for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t j = i + offset + 1; j < cols; ++j)
            m(i, j) = T(1);
    return m;
}

/// The square causal mask of a context of `n` positions.
template <class T>
tensor<T> causal_mask(std::size_t n) {
    return causal_mask<T>(n, n);
}

}  // namespace dendrite::inline DENDRITE_TARGET
