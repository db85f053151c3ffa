#pragma once
// The one loop every optimizer runs: a lane-generic update formula applied in lock-step over a
// parameter's value, gradient and state arrays, in a single pass over memory.

#include <array>
#include <cstddef>
#include <type_traits>
#include <utility>

#include "dendrite/config.hpp"
#include "dendrite/simd/parallel.hpp"
#include "dendrite/simd/simd.hpp"

namespace dendrite::inline DENDRITE_TARGET::optim::detail {

/// Arrays an update reads and writes back (value, momentum, moments...).
template <class T, class... U>
std::array<T*, 1 + sizeof...(U)> writes(T* first, U*... rest) noexcept {
    return {first, rest...};
}

/// Arrays an update only reads (the gradient).
template <class T, class... U>
std::array<const T*, 1 + sizeof...(U)> reads(const T* first, const U*... rest) noexcept {
    return {first, rest...};
}

/// Chunks handed to threads start at multiples of this many elements, so that every chunk but the
/// last is whole registers: the split of elements between vector body and scalar tail, and hence
/// every rounding, is the same for any thread count.
template <class T>
inline constexpr std::size_t update_grain = simd::width<T> * 16;

/// One thread's share of update_loop: whole registers, then the scalar remainder.
template <class T, std::size_t W, std::size_t R, class F, std::size_t... I, std::size_t... J>
DENDRITE_ALWAYS_INLINE void update_range(std::size_t begin, std::size_t end,
                                         const std::array<T*, W>& out,
                                         const std::array<const T*, R>& in, F& f,
                                         std::index_sequence<I...>, std::index_sequence<J...>) {
    constexpr std::size_t lanes = simd::width<T>;
    std::size_t i = begin;
    for (; i + lanes <= end; i += lanes) {
        simd::batch<T> o[W] = {simd::load(out[I] + i)...};
        f(o[I]..., simd::load(in[J] + i)...);
        (simd::store(out[I] + i, o[I]), ...);
    }
    for (; i < end; ++i) {
        T o[W] = {out[I][i]...};
        f(o[I]..., in[J][i]...);
        ((out[I][i] = o[I]), ...);
    }
}

/// Runs `f(w_0&, ..., w_{W-1}&, r_0, ..., r_{R-1})` over elements [0, n) of the written arrays
/// `out` and the read-only arrays `in`, with lane type X = simd::batch<T> over the vector body
/// and X = T over the remainder; `f` updates its X& arguments in place. Cost: one streaming pass
/// over W + R arrays (reads of all, writes of W), split across threads above
/// simd::parallel_threshold elements. `f` must be pure in the lanes (no state between calls).
template <class T, std::size_t W, std::size_t R, class F>
void update_loop(std::size_t n, const std::array<T*, W>& out, const std::array<const T*, R>& in,
                 F&& f) {
    simd::parallel_for(n, update_grain<T>, simd::parallel_threshold,
                       [&](std::size_t begin, std::size_t end) {
                           update_range(begin, end, out, in, f, std::make_index_sequence<W>{},
                                        std::make_index_sequence<R>{});
                       });
}

/// Calls `f(std::true_type{})` or `f(std::false_type{})`: turns a per-step flag (weight decay on
/// this parameter, momentum enabled...) into a compile-time one, so the inner loop has no branch
/// and does not touch arrays the flag leaves unused.
template <class F>
decltype(auto) dispatch(bool flag, F&& f) {
    if (flag) return f(std::true_type{});
    return f(std::false_type{});
}

}  // namespace dendrite::inline DENDRITE_TARGET::optim::detail
