#pragma once
// Reordering the axes of variables: permute and transpose, as one strided copy each way.
//
// The result is contiguous so that every op after it (GEMM, reductions, fused sweeps, whose
// leaves share one stride set between value and gradient) reads it at unit stride. When the
// last axis stays in place ([B, T, H, d] -> [B, H, T, d], the heads of attention) the copy moves
// whole rows of d elements.

#include <array>
#include <cstddef>
#include <initializer_list>
#include <string>

#include "dendrite/autodiff/op_node.hpp"
#include "dendrite/config.hpp"

namespace dendrite::inline DENDRITE_TARGET {

/// An order of the axes of a rank-r shape: axes[i] is the input axis that becomes axis i.
struct axis_order {
    std::array<std::size_t, max_rank> axes{};
    std::size_t rank = 0;

    axis_order() = default;
    axis_order(std::initializer_list<std::size_t> list) {
        if (list.size() > max_rank)
            throw shape_error("permute: " + std::to_string(list.size()) +
                              " axes given, at most 4 exist");
        for (std::size_t a : list)
            axes[rank++] = a;
    }

    /// The order that undoes this one.
    axis_order inverse() const {
        axis_order inv;
        inv.rank = rank;
        for (std::size_t i = 0; i < rank; ++i)
            inv.axes[axes[i]] = i;
        return inv;
    }

    std::string str() const {
        std::string s = "(";
        for (std::size_t i = 0; i < rank; ++i)
            s += (i ? ", " : "") + std::to_string(axes[i]);
        return s + ")";
    }
};

namespace detail {

/// Throws shape_error unless `order` is a permutation of the axes of `s`.
inline void check_axis_order(const shape& s, const axis_order& order) {
    bool ok = order.rank == s.rank();
    std::array<bool, max_rank> seen{};
    for (std::size_t i = 0; ok && i < order.rank; ++i) {
        ok = order.axes[i] < s.rank() && !seen[order.axes[i]];
        if (ok) seen[order.axes[i]] = true;
    }
    if (!ok)
        throw shape_error("permute: axes " + order.str() + " are not a permutation of the " +
                          std::to_string(s.rank()) + " axes of " + s.str());
}

/// `t` with its axes reordered: a strided view, built from swaps.
template <class T>
tensor<T> permuted_view(const tensor<T>& t, const axis_order& order) {
    tensor<T> v = t;
    std::array<std::size_t, max_rank> at{};  // at[j]: the input axis now at position j
    for (std::size_t j = 0; j < order.rank; ++j)
        at[j] = j;
    for (std::size_t i = 0; i < order.rank; ++i) {
        std::size_t j = i;
        while (at[j] != order.axes[i])
            ++j;
        if (j != i) {
            v = v.transpose(i, j);
            std::swap(at[i], at[j]);
        }
    }
    return v;
}

/// A contiguous tape buffer holding `t` permuted.
template <class T>
tensor<T> permuted_copy(tape& tp, const tensor<T>& t, const axis_order& order) {
    const tensor<T> view = permuted_view(t, order);
    tensor<T> out = tp.acquire_value<T>(view.shape());
    out.assign(view);
    return out;
}

}  // namespace detail

/// x with its axes reordered: axis i of the result is axis order.axes[i] of x (numpy's
/// transpose(x, axes), torch's permute). permute(x, {0, 2, 1, 3}) turns [B, T, H, d] into
/// [B, H, T, d]. The value is a contiguous copy; backward adds g, permuted back, into dx.
/// Cost: one strided copy each way. Throws shape_error unless `order` permutes x's axes.
template <differentiable E>
auto permute(const E& e, const axis_order& order) {
    const auto x = as_var(e);
    using T = typename decltype(x)::value_type;
    detail::check_axis_order(x.shape(), order);
    tape& t = x.tape();
    return record_op(
        t, "permute", detail::permuted_copy(t, x.value(), order), x.requires_grad(),
        [x, back = order.inverse()](tape& tp, const tensor<T>& g) {
            accumulate_grad(tp, x, detail::permuted_view(g, back));
        },
        linear_in(x, [order](tape& tp, const tensor<T>& dx) {
            return detail::permuted_copy(tp, dx, order);
        }));
}

/// x with axes a and b exchanged (a permute).
template <differentiable E>
auto transpose(const E& e, std::size_t a, std::size_t b) {
    const auto x = as_var(e);
    const std::size_t r = x.shape().rank();
    if (a >= r || b >= r)
        throw shape_error("transpose: axes " + std::to_string(a) + " and " + std::to_string(b) +
                          " out of range for shape " + x.shape().str());
    axis_order order;
    order.rank = r;
    for (std::size_t i = 0; i < r; ++i)
        order.axes[i] = i;
    std::swap(order.axes[a], order.axes[b]);
    return permute(x, order);
}

}  // namespace dendrite::inline DENDRITE_TARGET
