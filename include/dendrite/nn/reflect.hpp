#pragma once
// Reflection of aggregate structs: their number of fields and a visit of each field, so a custom
// layer's parameters are found with no registration code. The technique counts how many
// "convertible to anything" values brace-initialise the struct, then binds that many names.

#include <cstddef>
#include <type_traits>
#include <utility>

#include "dendrite/config.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn::detail {

struct any_field {
    template <class U>
    operator U() const;  // never defined: only used in unevaluated contexts
};

template <class S, std::size_t... I>
constexpr bool brace_constructible(std::index_sequence<I...>) {
    return requires {
        S{(void(I), any_field{})...};
    };
}

/// Number of fields of aggregate S (up to 16).
template <class S, std::size_t N = 0>
constexpr std::size_t field_count() {
    if constexpr (N < 17 && brace_constructible<S>(std::make_index_sequence<N + 1>{}))
        return field_count<S, N + 1>();
    else
        return N;
}

/// Calls f(field) for every field of aggregate s, in declaration order.
template <class S, class F>
void for_each_field(S& s, F&& f) {
    constexpr std::size_t n = field_count<std::remove_cv_t<S>>();
    static_assert(n <= 16,
                  "nn: a custom layer with more than 16 members needs a for_each_parameter member");
    if constexpr (n == 0) {
        (void)s;
        (void)f;
    } else if constexpr (n == 1) {
        auto& [f0] = s;
        f(f0);
    } else if constexpr (n == 2) {
        auto& [f0, f1] = s;
        f(f0);
        f(f1);
    } else if constexpr (n == 3) {
        auto& [f0, f1, f2] = s;
        f(f0);
        f(f1);
        f(f2);
    } else if constexpr (n == 4) {
        auto& [f0, f1, f2, f3] = s;
        f(f0);
        f(f1);
        f(f2);
        f(f3);
    } else if constexpr (n == 5) {
        auto& [f0, f1, f2, f3, f4] = s;
        f(f0);
        f(f1);
        f(f2);
        f(f3);
        f(f4);
    } else if constexpr (n == 6) {
        auto& [f0, f1, f2, f3, f4, f5] = s;
        f(f0);
        f(f1);
        f(f2);
        f(f3);
        f(f4);
        f(f5);
    } else if constexpr (n == 7) {
        auto& [f0, f1, f2, f3, f4, f5, f6] = s;
        f(f0);
        f(f1);
        f(f2);
        f(f3);
        f(f4);
        f(f5);
        f(f6);
    } else if constexpr (n == 8) {
        auto& [f0, f1, f2, f3, f4, f5, f6, f7] = s;
        f(f0);
        f(f1);
        f(f2);
        f(f3);
        f(f4);
        f(f5);
        f(f6);
        f(f7);
    } else if constexpr (n == 9) {
        auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8] = s;
        f(f0);
        f(f1);
        f(f2);
        f(f3);
        f(f4);
        f(f5);
        f(f6);
        f(f7);
        f(f8);
    } else if constexpr (n == 10) {
        auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9] = s;
        f(f0);
        f(f1);
        f(f2);
        f(f3);
        f(f4);
        f(f5);
        f(f6);
        f(f7);
        f(f8);
        f(f9);
    } else if constexpr (n == 11) {
        auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10] = s;
        f(f0);
        f(f1);
        f(f2);
        f(f3);
        f(f4);
        f(f5);
        f(f6);
        f(f7);
        f(f8);
        f(f9);
        f(f10);
    } else if constexpr (n == 12) {
        auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11] = s;
        f(f0);
        f(f1);
        f(f2);
        f(f3);
        f(f4);
        f(f5);
        f(f6);
        f(f7);
        f(f8);
        f(f9);
        f(f10);
        f(f11);
    } else if constexpr (n == 13) {
        auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12] = s;
        f(f0);
        f(f1);
        f(f2);
        f(f3);
        f(f4);
        f(f5);
        f(f6);
        f(f7);
        f(f8);
        f(f9);
        f(f10);
        f(f11);
        f(f12);
    } else if constexpr (n == 14) {
        auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13] = s;
        f(f0);
        f(f1);
        f(f2);
        f(f3);
        f(f4);
        f(f5);
        f(f6);
        f(f7);
        f(f8);
        f(f9);
        f(f10);
        f(f11);
        f(f12);
        f(f13);
    } else if constexpr (n == 15) {
        auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14] = s;
        f(f0);
        f(f1);
        f(f2);
        f(f3);
        f(f4);
        f(f5);
        f(f6);
        f(f7);
        f(f8);
        f(f9);
        f(f10);
        f(f11);
        f(f12);
        f(f13);
        f(f14);
    } else if constexpr (n == 16) {
        auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15] = s;
        f(f0);
        f(f1);
        f(f2);
        f(f3);
        f(f4);
        f(f5);
        f(f6);
        f(f7);
        f(f8);
        f(f9);
        f(f10);
        f(f11);
        f(f12);
        f(f13);
        f(f14);
        f(f15);
    }
}

}  // namespace dendrite::inline DENDRITE_TARGET::nn::detail
