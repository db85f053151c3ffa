#pragma once
// The loop engine: every walk of the library over a range of elements, a register at a time.
//
// A range [begin, end) is covered by whole registers of width<T> lanes, then by its remainder,
// in one of two ways:
//   for_lanes       the remainder element by element: the body is written once, generic over its
//                   lane type X (simd::batch<T> for a register, T for one element), with the
//                   functions of simd.hpp, which are overloaded for both. Each element goes
//                   through the same operations in the same order wherever it falls, which is
//                   what keeps results bit-identical between the body and the tail when the
//                   operations are exact in both (a batch's exp is not the C library's).
//   for_registers   the remainder as one masked register: the body is written once, generic over
//                   the lanes it covers (a whole register, or the first n lanes of one), which
//                   load and store through masks on AVX-512. Faster where rows are short (a
//                   pooling row of 14) and exact wherever the body's result in a lane depends on
//                   that lane only.
// for_lanes_unrolled adds unrolling, for bodies that keep several independent accumulators. The
// halves of for_lanes (for_whole_registers, for_each_element, and the unrolled registers) serve a
// reduction that folds its registers before it adds the remainder, in that order. Every function
// here is forced inline, so a body costs what it costs in a hand-written loop, and outside this
// header no loop of the library is written as registers and then a tail.

#include <cstddef>
#include <type_traits>
#include <utility>

#include "dendrite/config.hpp"
#include "dendrite/simd/simd.hpp"

namespace dendrite::inline DENDRITE_TARGET::simd {

/// Loads X from p: a register (X = batch<T>, lanes p[0 .. width<T>)) or one element (X = T).
template <class X, class T>
DENDRITE_ALWAYS_INLINE X load_lanes(const T* p) noexcept {
    if constexpr (is_batch_v<X>)
        return load(p);
    else
        return static_cast<X>(*p);
}

/// Stores x to p: a register, or one element.
template <class T, class X>
DENDRITE_ALWAYS_INLINE void store_lanes(T* p, const X& x) noexcept {
    if constexpr (is_batch_v<X>)
        store(p, x);
    else
        *p = x;
}

/// Calls body.template operator()<batch<T>>(i) for i = begin, begin + width<T>, ... while a whole
/// register fits before `end`, and returns where the registers stopped.
template <class T, class Body>
DENDRITE_ALWAYS_INLINE std::size_t for_whole_registers(std::size_t begin, std::size_t end,
                                                       Body& body) {
    constexpr std::size_t w = width<T>;
    std::size_t i = begin;
    for (; i + w <= end; i += w)
        body.template operator()<batch<T>>(i);
    return i;
}

/// Calls body.template operator()<T>(i) for each i of [begin, end), in order.
template <class T, class Body>
DENDRITE_ALWAYS_INLINE void for_each_element(std::size_t begin, std::size_t end, Body& body) {
    for (std::size_t i = begin; i < end; ++i)
        body.template operator()<T>(i);
}

/// Runs `body` over [begin, end): body.template operator()<batch<T>>(i) on each whole register of
/// lanes i .. i + width<T>, then body.template operator()<T>(i) on each element left, in order.
template <class T, class Body>
DENDRITE_ALWAYS_INLINE void for_lanes(std::size_t begin, std::size_t end, Body&& body) {
    for_each_element<T>(for_whole_registers<T>(begin, end, body), end, body);
}

/// Whole registers of [begin, end), `Unroll` per iteration, for a body keeping Unroll
/// independent accumulators (so their latencies overlap): body.template operator()<batch<T>>(i, k),
/// k a std::integral_constant naming the register's place in its group; the whole registers left
/// after the last group come with k = 0. Returns where the registers stopped.
template <class T, std::size_t Unroll, class Body>
DENDRITE_ALWAYS_INLINE std::size_t for_whole_registers_unrolled(std::size_t begin, std::size_t end,
                                                                Body& body) {
    constexpr std::size_t w = width<T>;
    std::size_t i = begin;
    for (; i + Unroll * w <= end; i += Unroll * w)
        [&]<std::size_t... K>(std::index_sequence<K...>) {
            (body.template operator()<batch<T>>(i + K * w,
                                                std::integral_constant<std::size_t, K>{}),
             ...);
        }
    (std::make_index_sequence<Unroll>{});
    for (; i + w <= end; i += w)
        body.template operator()<batch<T>>(i, std::integral_constant<std::size_t, 0>{});
    return i;
}

/// for_lanes with `Unroll` registers per iteration (for_whole_registers_unrolled), then the
/// elements left as body.template operator()<T>(i, k) with k = 0.
template <class T, std::size_t Unroll, class Body>
DENDRITE_ALWAYS_INLINE void for_lanes_unrolled(std::size_t begin, std::size_t end, Body&& body) {
    std::size_t i = for_whole_registers_unrolled<T, Unroll>(begin, end, body);
    for (; i < end; ++i)
        body.template operator()<T>(i, std::integral_constant<std::size_t, 0>{});
}

/// The lanes of a whole register, as for_registers hands them to its body.
template <class T>
struct whole_register {
    static constexpr bool partial = false;
    static constexpr std::size_t count() noexcept { return width<T>; }
    DENDRITE_ALWAYS_INLINE batch<T> load(const T* p, T = T(0)) const noexcept {
        return simd::load(p);
    }
    DENDRITE_ALWAYS_INLINE void store(T* p, const batch<T>& v) const noexcept { simd::store(p, v); }
};

/// The first n lanes of a register (0 < n < width<T>): loads fill the other lanes, and neither
/// loads nor stores touch their memory (masked on AVX-512).
template <class T>
struct partial_register {
    static constexpr bool partial = true;
    std::size_t n;
    std::size_t count() const noexcept { return n; }
    DENDRITE_ALWAYS_INLINE batch<T> load(const T* p, T fill = T(0)) const noexcept {
        return load_partial(p, n, fill);
    }
    DENDRITE_ALWAYS_INLINE void store(T* p, const batch<T>& v) const noexcept {
        store_partial(p, v, n);
    }
};

/// Runs `body` over [begin, end) in registers: body(i, whole_register<T>{}) on each whole register
/// of lanes i .. i + width<T>, then body(i, partial_register<T>{n}) once on the n < width<T>
/// elements left, if any. The body is compiled twice, the whole registers without masks.
template <class T, class Body>
DENDRITE_ALWAYS_INLINE void for_registers(std::size_t begin, std::size_t end, Body&& body) {
    constexpr std::size_t w = width<T>;
    std::size_t i = begin;
    for (; i + w <= end; i += w)
        body(i, whole_register<T>{});
    if (i < end) body(i, partial_register<T>{end - i});
}

}  // namespace dendrite::inline DENDRITE_TARGET::simd
