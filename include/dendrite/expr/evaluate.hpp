#pragma once
// The fused evaluator: one pass over memory per expression, vectorised, on all threads.

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <utility>

#include "dendrite/config.hpp"
#include "dendrite/expr/functions.hpp"
#include "dendrite/expr/layout.hpp"
#include "dendrite/expr/node.hpp"
#include "dendrite/simd/loop.hpp"
#include "dendrite/simd/parallel.hpp"
#include "dendrite/simd/simd.hpp"

namespace dendrite::inline DENDRITE_TARGET::expr {

/// Gathers the (shape, strides) of an expression's leaves in evaluation order.
template <std::size_t N>
struct leaf_collector {
    std::array<const shape*, N> shapes{};
    std::array<const strides_t*, N> strides{};
    std::size_t count = 0;
    void operator()(const shape& s, const strides_t& st) noexcept {
        shapes[count] = &s;
        strides[count] = &st;
        ++count;
    }
};

/// A destination for lanes, laid out by the same plan as the leaves.
template <class T>
struct write_cursor {
    T* base;
    loop_strides st;
    T* row = nullptr;

    DENDRITE_ALWAYS_INLINE void set_row(std::size_t i0, std::size_t i1, std::size_t i2) noexcept {
        row = base + static_cast<std::ptrdiff_t>(i0) * st[0] +
              static_cast<std::ptrdiff_t>(i1) * st[1] + static_cast<std::ptrdiff_t>(i2) * st[2];
    }
    template <class X, bool C>
    DENDRITE_ALWAYS_INLINE X load(std::size_t j) const noexcept {
        return load_lanes<X, C>(static_cast<const T*>(row), st[3], j);
    }
    template <class X, bool C>
    DENDRITE_ALWAYS_INLINE void store(std::size_t j, const X& v) const noexcept {
        if constexpr (simd::is_batch_v<X>) {
            if (C || st[3] == 1) {
                simd::store(row + j, v);
            } else {
                alignas(simd::alignment) T tmp[X::size];
                v.store_aligned(tmp);
                for (std::size_t k = 0; k < X::size; ++k)
                    row[static_cast<std::ptrdiff_t>(j + k) * st[3]] = tmp[k];
            }
        } else {
            row[static_cast<std::ptrdiff_t>(j) * (C ? 1 : st[3])] = v;
        }
    }
};

/// Splits the work of plan `p` into chunks and calls `chunk.template operator()<C>(rows, cols)` on
/// each: with C = true (a flat loop over unit-stride memory) rows = [0, 1) and cols a range of
/// the flat index, cut at multiples of simd::width<T>; otherwise rows a range of the plan's rows,
/// each walked in full (cols = [0, dims[3])). Chunks go to threads when `parallel` and the work
/// is large enough (simd::parallel_threshold elements).
template <class T, std::size_t N, class Chunk>
void for_each_chunk(const loop_plan<N>& p, Chunk&& chunk, bool parallel = true) {
    constexpr std::size_t W = simd::width<T>;
    if (p.size() == 0) return;
    if (p.contiguous) {
        auto flat = [&](std::size_t b, std::size_t e) {
            chunk.template operator()<true>(std::pair<std::size_t, std::size_t>{0, 1},
                                            std::pair{b, e});
        };
        if (parallel)
            simd::parallel_for(p.size(), W, simd::parallel_threshold, flat);
        else
            flat(0, p.size());
        return;
    }
    const std::size_t inner = p.dims[3];
    auto rows = [&](std::size_t rb, std::size_t re) {
        chunk.template operator()<false>(std::pair{rb, re},
                                         std::pair<std::size_t, std::size_t>{0, inner});
    };
    if (parallel)
        simd::parallel_for(
            p.rows(), 1,
            std::max<std::size_t>(1, simd::parallel_threshold / std::max<std::size_t>(inner, 1)),
            rows);
    else
        rows(0, p.rows());
}

/// Points `cur` at row r of plan p (rows counted over the plan's three outer axes).
template <std::size_t N, class Cursor>
DENDRITE_ALWAYS_INLINE void set_plan_row(const loop_plan<N>& p, Cursor& cur, std::size_t r) {
    const std::size_t d1 = p.dims[1], d2 = p.dims[2];
    cur.set_row(r / (d1 * d2), (r / d2) % d1, r % d2);
}

/// Runs `kernel.template operator()<X, Contig>(cursor, j)` over every column j of every row of the
/// plan, with X = simd::batch<T> for full registers and X = T for the remainder (simd::for_lanes).
/// Rows (or, for a flat loop, column ranges) are split over threads when `parallel` and the work
/// is large enough.
template <class T, std::size_t N, class Cursor, class Kernel>
void run_plan(const loop_plan<N>& p, const Cursor& proto, Kernel&& kernel, bool parallel = true) {
    for_each_chunk<T>(
        p,
        [&]<bool C>(std::pair<std::size_t, std::size_t> rows,
                    std::pair<std::size_t, std::size_t> cols) {
            Cursor cur = proto;
            for (std::size_t r = rows.first; r < rows.second; ++r) {
                set_plan_row(p, cur, r);
                simd::for_lanes<T>(cols.first, cols.second, [&]<class X>(std::size_t j) {
                    kernel.template operator()<X, C>(cur, j);
                });
            }
        },
        parallel);
}

/// run_plan with X = T for every column and the strided walk only (C = false, which serves
/// contiguous memory too): ONE instantiation of the kernel. For sweeps run rarely enough that
/// compile time matters more than SIMD: the second-order passes every fused node carries.
template <class T, std::size_t N, class Cursor, class Kernel>
void run_plan_scalar(const loop_plan<N>& p, const Cursor& proto, Kernel&& kernel,
                     bool parallel = true) {
    for_each_chunk<T>(
        p,
        [&]<bool>(std::pair<std::size_t, std::size_t> rows,
                  std::pair<std::size_t, std::size_t> cols) {
            Cursor cur = proto;
            for (std::size_t r = rows.first; r < rows.second; ++r) {
                set_plan_row(p, cur, r);
                for (std::size_t j = cols.first; j < cols.second; ++j)
                    kernel.template operator()<T, false>(cur, j);
            }
        },
        parallel);
}

/// A destination cursor paired with an expression cursor, advanced together.
template <class Out, class In>
struct paired_cursor {
    Out out;
    In in;
    DENDRITE_ALWAYS_INLINE void set_row(std::size_t i0, std::size_t i1, std::size_t i2) noexcept {
        out.set_row(i0, i1, i2);
        in.set_row(i0, i1, i2);
    }
};

/// Builds the plan for writing node `n` into a destination of shape/strides (dst_shape,
/// dst_strides) and returns it together with the paired cursor.
template <class T, class Node>
auto bind_for_write(T* dst, const shape& dst_shape, const strides_t& dst_strides, const Node& n) {
    constexpr std::size_t N = Node::leaf_count + 1;
    leaf_collector<N> leaves;
    leaves(dst_shape, dst_strides);
    n.for_each_leaf(leaves);
    auto plan = plan_loop<N>(dst_shape, leaves.shapes, leaves.strides);
    const loop_strides* s = plan.strides.data();
    write_cursor<T> out{dst, *s++};
    auto in = n.cursor(s);
    return std::pair{plan, paired_cursor<write_cursor<T>, decltype(in)>{out, in}};
}

/// Writes node `n` into `dst` (whose shape n must broadcast onto) in one fused pass.
template <class T, class Node>
void evaluate_into(T* dst, const shape& dst_shape, const strides_t& dst_strides, const Node& n) {
    auto [plan, cursor] = bind_for_write(dst, dst_shape, dst_strides, n);
    run_plan<T>(plan, cursor, []<class X, bool C>(auto& cur, std::size_t j) {
        cur.out.template store<X, C>(j, cur.in.template value<X, C>(j));
    });
}

}  // namespace dendrite::inline DENDRITE_TARGET::expr

namespace dendrite::inline DENDRITE_TARGET::detail {

/// What a tensor's assignments call (see evaluator_seam in tensor/tensor.hpp): writes expression
/// e into `out` in one fused pass; `must_fit` (tensor::assign) requires e to broadcast onto out's
/// shape, otherwise out takes e's shape, keeping its storage when nobody else sees it.
template <class T, class E>
void assign_expression(evaluator_seam, tensor<T>& out, const E& e, bool must_fit) {
    const auto& n = as_node(e);
    static_assert(std::is_same_v<typename std::remove_cvref_t<decltype(n)>::value_type, T>,
                  "dendrite: assigning an expression to a tensor of another value type");
    const shape& s = n.shape();
    if (must_fit) {
        if (broadcast_shapes(out.shape(), s, "assign") != out.shape())
            throw shape_error("assign: expression of shape " + s.str() +
                              " does not fit tensor of shape " + out.shape().str());
    } else if (!(out.shape() == s && out.owns_storage_exclusively())) {
        // Nobody else can see `out`'s buffer only when its storage is unique: reuse it then, and
        // otherwise give `out` fresh storage, so `y = x; y = x * 2;` never changes x.
        out = tensor<T>::uninitialized(s);
    }
    expr::evaluate_into(out.data(), out.shape(), out.strides(), n);
}

}  // namespace dendrite::inline DENDRITE_TARGET::detail
