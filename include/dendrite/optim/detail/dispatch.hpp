#pragma once
// Per-step flags as compile-time ones, for the optimizers' update rules.

#include <type_traits>

#include "dendrite/config.hpp"

namespace dendrite::inline DENDRITE_TARGET::optim::detail {

/// Calls `f(std::true_type{})` or `f(std::false_type{})`: turns a per-step flag (weight decay on
/// this parameter, momentum enabled...) into a compile-time one, so the update's pass has no
/// branch and does not touch tensors the flag leaves unused.
template <class F>
decltype(auto) dispatch(bool flag, F&& f) {
    if (flag) return f(std::true_type{});
    return f(std::false_type{});
}

}  // namespace dendrite::inline DENDRITE_TARGET::optim::detail
