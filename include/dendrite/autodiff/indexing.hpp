#pragma once
// Integer indexing of variables: index_select (and the embedding lookup built on it), gather,
// and one_hot. Backward scatters the gradient back with additions, so repeated indices sum.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "dendrite/autodiff/axis.hpp"
#include "dendrite/autodiff/op_node.hpp"
#include "dendrite/config.hpp"

namespace dendrite::inline DENDRITE_TARGET {

namespace detail {

/// Copies integer indices into a tape buffer (so the recorded op never refers to the caller's
/// memory), checking each lies in [0, extent). Throws std::out_of_range naming `what` and the
/// flat position of the first bad index.
template <std::integral I>
tensor<std::int64_t> copy_indices(tape& t, const tensor<I>& ids, std::size_t extent,
                                  const char* what) {
    tensor<std::int64_t> out = t.acquire_value<std::int64_t>(ids.shape());
    std::int64_t* o = out.data();
    std::size_t pos = 0;
    ids.for_each_offset([&](std::ptrdiff_t off) {
        const auto id = static_cast<std::int64_t>(ids.data()[off]);
        if (id < 0 || static_cast<std::uint64_t>(id) >= extent)
            throw std::out_of_range(std::string(what) + ": index " + std::to_string(id) +
                                    " at position " + std::to_string(pos) + " of " +
                                    ids.shape().str() + " is outside [0, " +
                                    std::to_string(extent) + ")");
        o[pos++] = id;
    });
    return out;
}

/// out[o, j, :] = x[o, ids[j], :] over the [outer, len, inner] split of x (contiguous).
template <class T>
void select_rows(const T* x, const std::int64_t* ids, std::size_t count, const axis_split& sp,
                 T* out) {
    for (std::size_t o = 0; o < sp.outer; ++o)
        for (std::size_t j = 0; j < count; ++j)
            std::memcpy(out + (o * count + j) * sp.inner,
                        x + (o * sp.len + static_cast<std::size_t>(ids[j])) * sp.inner,
                        sp.inner * sizeof(T));
}

/// dx[o, ids[j], :] += g[o, j, :]: the scatter-add that undoes select_rows.
template <class T>
void scatter_rows(const T* g, const std::int64_t* ids, std::size_t count, const axis_split& sp,
                  T* dx) {
    for (std::size_t o = 0; o < sp.outer; ++o)
        for (std::size_t j = 0; j < count; ++j) {
            const T* src = g + (o * count + j) * sp.inner;
            T* dst = dx + (o * sp.len + static_cast<std::size_t>(ids[j])) * sp.inner;
            for (std::size_t i = 0; i < sp.inner; ++i)
                dst[i] += src[i];
        }
}

}  // namespace detail

/// The slices of x along `axis` named by the integer tensor `ids`, in their order and shape:
/// the result's shape is x's with `axis` replaced by ids' shape (x [V, D], ids [B, T] along 0
/// give [B, T, D]). Repeated ids are allowed; backward adds each g slice into its row of dx.
/// Cost: one copy of the picked slices forward, one scatter-add backward. Throws
/// std::out_of_range naming the first id outside the axis, shape_error past rank 4.
template <differentiable E, std::integral I>
auto index_select(const E& e, std::size_t axis, const tensor<I>& ids) {
    const auto x = as_var(e);
    using T = typename decltype(x)::value_type;
    tape& t = x.tape();
    const detail::axis_split sp = detail::split_axis(x.shape(), axis, "index_select");
    const shape& xs = x.shape();
    if (xs.rank() - 1 + ids.rank() > max_rank)
        throw shape_error("index_select: indices " + ids.shape().str() + " along axis " +
                          std::to_string(axis) + " of " + xs.str() + " would give rank " +
                          std::to_string(xs.rank() - 1 + ids.rank()) + " (at most 4)");
    std::array<std::size_t, max_rank> dims{};
    std::size_t r = 0;
    for (std::size_t a = 0; a < axis; ++a)
        dims[r++] = xs[a];
    for (std::size_t d : ids.shape())
        dims[r++] = d;
    for (std::size_t a = axis + 1; a < xs.rank(); ++a)
        dims[r++] = xs[a];
    const tensor<std::int64_t> picked = detail::copy_indices(t, ids, sp.len, "index_select");
    const std::size_t count = picked.size();
    auto select = [picked, count, sp, out_shape = shape(dims.begin(), dims.begin() + r)](
                      tape& tp, const tensor<T>& from) {
        tensor<T> out = tp.acquire_value<T>(out_shape);
        detail::select_rows(from.data(), picked.data(), count, sp, out.data());
        return out;
    };
    return record_op(
        t, "index_select", select(t, x.value()), x.requires_grad(),
        [x, picked, count, sp](tape& tp, const tensor<T>& g) {
            detail::scatter_rows(g.data(), picked.data(), count, sp,
                                 x.node().grad_accumulator(tp).data());
        },
        linear_in(x, select));
}

/// Rows of an embedding table [V, D] for integer token ids of any shape: index_select along 0.
template <differentiable E, std::integral I>
auto embedding_lookup(const E& table, const tensor<I>& ids) {
    return index_select(table, 0, ids);
}

/// out[..., j, ...] = x[..., index[..., j, ...], ...] along `axis` (torch.gather): `index` has
/// x's shape except along `axis`, where any extent is allowed, and the result has index's shape.
/// Backward adds g into dx at the gathered positions. Cost: one pass each way. Throws
/// shape_error on mismatched shapes, std::out_of_range naming the first index out of range.
template <differentiable E, std::integral I>
auto gather(const E& e, std::size_t axis, const tensor<I>& index) {
    const auto x = as_var(e);
    using T = typename decltype(x)::value_type;
    tape& t = x.tape();
    const shape& xs = x.shape();
    const detail::axis_split sp = detail::split_axis(xs, axis, "gather");
    bool ok = index.rank() == xs.rank();
    for (std::size_t a = 0; ok && a < xs.rank(); ++a)
        ok = a == axis || index.shape()[a] == xs[a];
    if (!ok)
        throw shape_error("gather: index of shape " + index.shape().str() +
                          " must match the input " + xs.str() + " outside axis " +
                          std::to_string(axis));
    const tensor<std::int64_t> at = detail::copy_indices(t, index, sp.len, "gather");
    const std::size_t n = index.shape()[axis];
    // The flat position in x of each output element, for the forward and the backward alike.
    auto source = [sp, n](const std::int64_t* at_p, std::size_t flat) {
        const std::size_t i = flat % sp.inner, o = flat / sp.inner / n;
        return (o * sp.len + static_cast<std::size_t>(at_p[flat])) * sp.inner + i;
    };
    auto pick = [at, source](tape& tp, const tensor<T>& from) {
        tensor<T> out = tp.acquire_value<T>(at.shape());
        for (std::size_t f = 0; f < out.size(); ++f)
            out.data()[f] = from.data()[source(at.data(), f)];
        return out;
    };
    return record_op(
        t, "gather", pick(t, x.value()), x.requires_grad(),
        [x, at, source](tape& tp, const tensor<T>& g) {
            T* dx = x.node().grad_accumulator(tp).data();
            for (std::size_t f = 0; f < g.size(); ++f)
                dx[source(at.data(), f)] += g.data()[f];
        },
        linear_in(x, pick));
}

/// A tensor of ids.shape() + [classes] with 1 at each id's class and 0 elsewhere. Throws
/// std::out_of_range naming the first id outside [0, classes).
template <class T, std::integral I>
tensor<T> one_hot(const tensor<I>& ids, std::size_t classes) {
    if (ids.rank() == max_rank)
        throw shape_error("one_hot: ids of shape " + ids.shape().str() +
                          " leave no room for a class axis");
    std::array<std::size_t, max_rank> dims{};
    std::size_t r = 0;
    for (std::size_t d : ids.shape())
        dims[r++] = d;
    dims[r++] = classes;
    tensor<T> out(shape(dims.begin(), dims.begin() + r), T(0));
    std::size_t pos = 0;
    ids.for_each_offset([&](std::ptrdiff_t off) {
        const auto id = static_cast<std::int64_t>(ids.data()[off]);
        if (id < 0 || static_cast<std::uint64_t>(id) >= classes)
            throw std::out_of_range("one_hot: id " + std::to_string(id) + " at position " +
                                    std::to_string(pos) + " is outside [0, " +
                                    std::to_string(classes) + ")");
        out.data()[pos * classes + static_cast<std::size_t>(id)] = T(1);
        ++pos;
    });
    return out;
}

}  // namespace dendrite::inline DENDRITE_TARGET
