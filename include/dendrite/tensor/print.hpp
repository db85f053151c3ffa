#pragma once
// Readable printing of tensors: nested brackets like NumPy, long axes elided.

#include <cstddef>
#include <ostream>
#include <sstream>
#include <string>

#include "dendrite/config.hpp"
#include "dendrite/tensor/tensor.hpp"

namespace dendrite::inline DENDRITE_TARGET {

namespace detail {
template <class T>
void print_axis(std::ostream& os, const T* p, const tensor<T>& t, std::size_t axis,
                std::size_t indent) {
    constexpr std::size_t edge = 3;  // elements shown at each end of an elided axis
    const std::size_t n = t.dim(axis);
    const bool elide = n > 2 * edge + 1;
    os << '[';
    for (std::size_t i = 0; i < n; ++i) {
        if (elide && i == edge) {
            os << (axis + 1 == t.rank() ? "..., " : "...,\n" + std::string(indent + 1, ' '));
            i = n - edge - 1;
            continue;
        }
        const T* q = p + static_cast<std::ptrdiff_t>(i) * t.stride(axis);
        if (axis + 1 == t.rank())
            os << +*q;
        else
            print_axis(os, q, t, axis + 1, indent + 1);
        if (i + 1 < n) os << (axis + 1 == t.rank() ? ", " : ",\n" + std::string(indent + 1, ' '));
    }
    os << ']';
}
}  // namespace detail

/// Prints `tensor([[1, 2], [3, 4]], shape=[2, 2])`.
template <class T>
std::ostream& operator<<(std::ostream& os, const tensor<T>& t) {
    os << "tensor(";
    if (t.rank() == 0)
        os << +t.item();
    else
        detail::print_axis(os, t.data(), t, 0, 7);
    return os << ", shape=" << t.shape() << ')';
}

/// The printed form as a string.
template <class T>
std::string to_string(const tensor<T>& t) {
    std::ostringstream os;
    os << t;
    return os.str();
}

}  // namespace dendrite::inline DENDRITE_TARGET
