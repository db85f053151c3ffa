#pragma once
// Reductions along one axis of tape values, written into buffers the tape already holds.
//
// expr/reduce.hpp's axis reductions return a new tensor; on a tape that would be an allocation
// per op per step. Here a contiguous value of shape s is seen as [outer, len, inner] around the
// axis and reduced into a caller-given buffer of the kept shape (s with the axis set to 1), each
// slice through the fused reduce_all or an element-wise assign, so nothing is allocated.

#include <cstddef>
#include <limits>
#include <string>

#include "dendrite/config.hpp"
#include "dendrite/expr/reduce.hpp"

namespace dendrite::inline DENDRITE_TARGET::detail {

/// A contiguous shape seen as [outer, len, inner] around one axis.
struct axis_split {
    std::size_t outer = 1, len = 1, inner = 1;
};

/// The [outer, len, inner] split of `s` at `axis`; throws shape_error naming `what` if the axis
/// is out of range.
inline axis_split split_axis(const shape& s, std::size_t axis, const char* what) {
    expr::check_axis(s, axis, what);
    axis_split sp;
    for (std::size_t a = 0; a < axis; ++a)
        sp.outer *= s[a];
    sp.len = s[axis];
    for (std::size_t a = axis + 1; a < s.rank(); ++a)
        sp.inner *= s[a];
    return sp;
}

/// `x` (contiguous, of the full or the kept shape) as [outer, len or 1, inner]: a view.
template <class T>
tensor<T> axis_view(const tensor<T>& x, const axis_split& sp) {
    const std::size_t rest = sp.outer * sp.inner;
    const std::size_t len = rest == 0 ? 0 : x.size() / rest;
    return x.reshape(shape{sp.outer, rest == 0 ? sp.len : len, sp.inner});
}

/// The element-wise form of a reducer's combine, for folding whole rows at once.
template <class A, class B>
auto combine_rows(expr::sum_reducer, const A& a, const B& b) {
    return a + b;
}
template <class A, class B>
auto combine_rows(expr::max_reducer, const A& a, const B& b) {
    return max(b, a);  // max's NaN comes from its first operand: a NaN element must win
}
template <class A, class B>
auto combine_rows(expr::min_reducer, const A& a, const B& b) {
    return min(b, a);
}

/// out[o, 0, i] = R over k of f(xs[o, k, i]...), where `out` has the kept shape and every x in
/// `xs` the full shape or the kept shape (then broadcast along the axis). `f` maps tensor views
/// to an element-wise expression; it is fused into the reduction, nothing is materialised.
/// Cost: one read of each x; no allocation.
template <class R, class T, class F, class... Ts>
void reduce_along(tensor<T>& out, const axis_split& sp, F&& f, const Ts&... xs) {
    tensor<T> o3 = axis_view(out, sp);
    auto run = [&](const auto&... v) {
        if (sp.inner == 1) {
            // Contiguous slices: one fused horizontal reduction each.
            for (std::size_t o = 0; o < sp.outer; ++o)
                o3.data()[o] = expr::reduce_all<R>(as_node(f(v[o]...)));
            return;
        }
        // Strided slices: fold rows of `inner` elements, each fold one vectorised pass.
        for (std::size_t o = 0; o < sp.outer; ++o) {
            tensor<T> acc = o3[o][0];
            if (sp.len == 0) acc.fill(R::template identity<T>());
            for (std::size_t k = 0; k < sp.len; ++k) {
                if (k == 0)
                    acc.assign(f(v[o][v.dim(1) == 1 ? 0 : k]...));
                else
                    acc.assign(combine_rows(R{}, acc, f(v[o][v.dim(1) == 1 ? 0 : k]...)));
            }
        }
    };
    run(axis_view(xs, sp)...);
}

/// The identity map, for reducing a tensor itself.
struct identity_map {
    template <class A>
    const A& operator()(const A& a) const noexcept {
        return a;
    }
};

/// Replaces infinite maxima by 0 before a shift: a slice of all -inf (or with a +inf) then gives
/// exp(x - 0), so softmax and logsumexp see -inf / +inf / NaN as they should, not inf - inf.
template <class T>
void finite_shift(tensor<T>& m) {
    m.assign(where(abs(m) == std::numeric_limits<T>::infinity(), T(0), m));
}

}  // namespace dendrite::inline DENDRITE_TARGET::detail
