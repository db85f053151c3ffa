#pragma once
// Reductions over all elements or one axis, fused with the expression they reduce: sum(a * b)
// reads a and b once and writes nothing but the result.

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "dendrite/config.hpp"
#include "dendrite/expr/evaluate.hpp"

namespace dendrite::inline DENDRITE_TARGET::expr {

struct sum_reducer {
    template <class X>
    static X identity() {
        return simd::constant<X>(0);
    }
    template <class X>
    static X combine(const X& a, const X& b) {
        return a + b;
    }
    template <class T>
    static T horizontal(const simd::batch<T>& v) {
        return simd::hsum(v);
    }
};
struct max_reducer {
    template <class X>
    static X identity() {
        return simd::constant<X>(-std::numeric_limits<simd::scalar_t<X>>::infinity());
    }
    template <class X>
    static X combine(const X& a, const X& b) {
        return simd::max(b, a);
    }
    template <class T>
    static T horizontal(const simd::batch<T>& v) {
        // hmax's comparisons would drop a NaN lane.
        return simd::any_nan(v) ? std::numeric_limits<T>::quiet_NaN() : simd::hmax(v);
    }
};
struct min_reducer {
    template <class X>
    static X identity() {
        return simd::constant<X>(std::numeric_limits<simd::scalar_t<X>>::infinity());
    }
    template <class X>
    static X combine(const X& a, const X& b) {
        return simd::min(b, a);
    }
    template <class T>
    static T horizontal(const simd::batch<T>& v) {
        return simd::any_nan(v) ? std::numeric_limits<T>::quiet_NaN() : simd::hmin(v);
    }
};

/// Reduces every element of node `n` with reducer R.
template <class R, class Node>
typename Node::value_type reduce_all(const Node& n) {
    using T = typename Node::value_type;
    using B = simd::batch<T>;
    constexpr std::size_t N = Node::leaf_count;
    leaf_collector<N> leaves;
    n.for_each_leaf(leaves);
    const shape& s = n.shape();
    auto plan = plan_loop<N>(s, leaves.shapes, leaves.strides);
    const loop_strides* st = plan.strides.data();
    const auto proto = n.cursor(st);
    constexpr std::size_t W = simd::width<T>;
    const std::size_t inner = plan.dims[3];

    // Rows [rb, re), columns [cb, ce) of each (for a flat loop: row 0, a range of columns).
    auto reduce_range = [&]<bool C>(std::size_t rb, std::size_t re, std::size_t cb,
                                    std::size_t ce) -> T {
        auto cur = proto;
        // Four accumulators hide the add latency; combining them at the end is also a little more
        // accurate than one long chain.
        B acc[4] = {R::template identity<B>(), R::template identity<B>(), R::template identity<B>(),
                    R::template identity<B>()};
        T tail = R::template identity<T>();
        for (std::size_t r = rb; r < re; ++r) {
            set_plan_row(plan, cur, r);
            simd::for_lanes_unrolled<T, 4>(cb, ce, [&]<class X>(std::size_t j, auto k) {
                if constexpr (simd::is_batch_v<X>)
                    acc[k] = R::combine(acc[k], cur.template value<X, C>(j));
                else
                    tail = R::combine(tail, cur.template value<X, C>(j));
            });
        }
        return R::combine(tail, R::horizontal(R::combine(R::combine(acc[0], acc[1]),
                                                         R::combine(acc[2], acc[3]))));
    };
    auto reduce_flat = [&](std::size_t b, std::size_t e) {
        return reduce_range.template operator()<true>(0, 1, b, e);
    };
    auto reduce_rows = [&](std::size_t rb, std::size_t re) {
        return reduce_range.template operator()<false>(rb, re, 0, inner);
    };
    auto combine = [](T a, T b) { return R::combine(a, b); };
    if (plan.size() == 0) return R::template identity<T>();
    if (plan.contiguous)
        return simd::parallel_reduce(plan.size(), W, simd::parallel_threshold,
                                     R::template identity<T>(), reduce_flat, combine);
    return simd::parallel_reduce(
        plan.rows(), 1,
        std::max<std::size_t>(1, simd::parallel_threshold / std::max<std::size_t>(inner, 1)),
        R::template identity<T>(), reduce_rows, combine);
}

inline std::size_t check_axis(const shape& s, std::size_t axis, const char* what) {
    if (axis >= s.rank())
        throw shape_error(std::string(what) + ": axis " + std::to_string(axis) +
                          " out of range for shape " + s.str());
    return axis;
}

/// Reduces node `n` along `axis` with reducer R into a new tensor.
template <class R, class Node>
tensor<typename Node::value_type> reduce_axis(const Node& n, std::size_t axis, bool keepdims,
                                              const char* what) {
    using T = typename Node::value_type;
    const shape& s = n.shape();
    check_axis(s, axis, what);
    const shape kept = s.without(axis, true);
    tensor<T> out = tensor<T>::uninitialized(kept);
    out.fill(R::template identity<T>());

    constexpr std::size_t N = Node::leaf_count + 1;
    leaf_collector<N> leaves;
    leaves(kept, out.strides());
    n.for_each_leaf(leaves);
    auto plan = plan_loop<N>(s, leaves.shapes, leaves.strides, /*merge=*/false);
    const loop_strides* st = plan.strides.data();
    write_cursor<T> dst{out.data(), *st++};
    auto in = n.cursor(st);
    paired_cursor<write_cursor<T>, decltype(in)> proto{dst, in};

    const std::size_t padded_axis = axis + (max_rank - s.rank());
    if (padded_axis == max_rank - 1) {
        // Along the inner axis: a horizontal reduction per row, rows spread over threads.
        const std::size_t inner = plan.dims[3];
        using B = simd::batch<T>;
        simd::parallel_for(
            plan.rows(), 1,
            std::max<std::size_t>(1, simd::parallel_threshold / std::max<std::size_t>(inner, 1)),
            [&](std::size_t rb, std::size_t re) {
                auto cur = proto;
                for (std::size_t r = rb; r < re; ++r) {
                    set_plan_row(plan, cur, r);
                    B acc = R::template identity<B>();
                    T tail = R::template identity<T>();
                    simd::for_lanes<T>(0, inner, [&]<class X>(std::size_t j) {
                        if constexpr (simd::is_batch_v<X>)
                            acc = R::combine(acc, cur.in.template value<X, false>(j));
                        else
                            tail = R::combine(tail, cur.in.template value<X, false>(j));
                    });
                    *cur.out.row = R::combine(tail, R::horizontal(acc));
                }
            });
    } else {
        // Along an outer axis: rows fold into the same output row, so this stays on one thread.
        run_plan<T>(
            plan, proto,
            []<class X, bool C>(auto& cur, std::size_t j) {
                cur.out.template store<X, C>(
                    j, R::combine(cur.out.template load<X, C>(j), cur.in.template value<X, C>(j)));
            },
            /*parallel=*/false);
    }
    return keepdims ? out : out.reshape(s.without(axis));
}

}  // namespace dendrite::inline DENDRITE_TARGET::expr

namespace dendrite::inline DENDRITE_TARGET {

/// Sum of all elements.
template <plain_expression E>
auto sum(const E& e) {
    return expr::reduce_all<expr::sum_reducer>(as_node(e));
}
/// Sum along `axis` (the axis is removed unless keepdims).
template <plain_expression E>
auto sum(const E& e, std::size_t axis, bool keepdims = false) {
    return expr::reduce_axis<expr::sum_reducer>(as_node(e), axis, keepdims, "sum");
}

/// Arithmetic mean of all elements (NaN for an empty tensor).
template <plain_expression E>
auto mean(const E& e) {
    const auto& n = as_node(e);
    using T = typename std::remove_cvref_t<decltype(n)>::value_type;
    return expr::reduce_all<expr::sum_reducer>(n) / static_cast<T>(n.shape().size());
}
template <plain_expression E>
auto mean(const E& e, std::size_t axis, bool keepdims = false) {
    const auto& n = as_node(e);
    using T = typename std::remove_cvref_t<decltype(n)>::value_type;
    auto s = expr::reduce_axis<expr::sum_reducer>(n, axis, keepdims, "mean");
    const T inv = T(1) / static_cast<T>(n.shape()[axis]);
    s.assign(s * inv);
    return s;
}

/// Largest element (NaN if any element is NaN; -inf for an empty tensor).
template <plain_expression E>
auto amax(const E& e) {
    return expr::reduce_all<expr::max_reducer>(as_node(e));
}
template <plain_expression E>
auto amax(const E& e, std::size_t axis, bool keepdims = false) {
    return expr::reduce_axis<expr::max_reducer>(as_node(e), axis, keepdims, "amax");
}
/// Smallest element (NaN if any element is NaN; +inf for an empty tensor).
template <plain_expression E>
auto amin(const E& e) {
    return expr::reduce_all<expr::min_reducer>(as_node(e));
}
template <plain_expression E>
auto amin(const E& e, std::size_t axis, bool keepdims = false) {
    return expr::reduce_axis<expr::min_reducer>(as_node(e), axis, keepdims, "amin");
}

/// log(sum(exp(e))) computed stably as m + log(sum(exp(e - m))), m the maximum.
template <plain_expression E>
auto logsumexp(const E& e) {
    const auto& n = as_node(e);
    using T = typename std::remove_cvref_t<decltype(n)>::value_type;
    const T m = expr::reduce_all<expr::max_reducer>(n);
    if (!std::isfinite(m)) return m;  // NaN, +inf, or every element -inf (or none)
    return m + std::log(expr::reduce_all<expr::sum_reducer>(as_node(exp(n - m))));
}
template <plain_expression E>
auto logsumexp(const E& e, std::size_t axis, bool keepdims = false) {
    const auto& n = as_node(e);
    using T = typename std::remove_cvref_t<decltype(n)>::value_type;
    tensor<T> m = expr::reduce_axis<expr::max_reducer>(n, axis, true, "logsumexp");
    // An all -inf or +inf slice has no finite shift; 0 then gives -inf or +inf as it should.
    m.for_each_offset([&](std::ptrdiff_t off) {
        if (std::isinf(m.data()[off])) m.data()[off] = T(0);
    });
    tensor<T> s =
        expr::reduce_axis<expr::sum_reducer>(as_node(exp(n - m)), axis, true, "logsumexp");
    s.assign(m + log(s));
    return keepdims ? s : s.reshape(n.shape().without(axis));
}

namespace expr {
template <bool Max, class Node>
std::int64_t arg_extreme_all(const Node& n) {
    using T = typename Node::value_type;
    tensor<T> v = n;  // arg-reductions are rare and scalar: evaluate once, then scan
    if (v.size() == 0) throw shape_error(std::string(Max ? "argmax" : "argmin") + ": empty tensor");
    const T* p = v.data();
    std::int64_t best = 0;
    for (std::size_t i = 1; i < v.size(); ++i) {
        if (p[best] != p[best]) break;
        if (p[i] != p[i] || (Max ? p[i] > p[best] : p[i] < p[best]))
            best = static_cast<std::int64_t>(i);
    }
    return best;
}
template <bool Max, class Node>
tensor<std::int64_t> arg_extreme_axis(const Node& n, std::size_t axis) {
    using T = typename Node::value_type;
    tensor<T> v = n;
    check_axis(v.shape(), axis, Max ? "argmax" : "argmin");
    if (v.dim(axis) == 0)
        throw shape_error(std::string(Max ? "argmax" : "argmin") + ": axis of extent 0");
    const shape os = v.shape().without(axis);
    tensor<std::int64_t> out = tensor<std::int64_t>::uninitialized(os);
    const std::size_t len = v.dim(axis);
    std::size_t outer = 1, inner = 1;
    for (std::size_t a = 0; a < axis; ++a)
        outer *= v.dim(a);
    for (std::size_t a = axis + 1; a < v.rank(); ++a)
        inner *= v.dim(a);
    const T* p = v.data();
    for (std::size_t o = 0; o < outer; ++o)
        for (std::size_t i = 0; i < inner; ++i) {
            const T* q = p + o * len * inner + i;
            std::size_t best = 0;
            for (std::size_t k = 1; k < len; ++k) {
                if (q[best * inner] != q[best * inner]) break;
                const T x = q[k * inner];
                if (x != x || (Max ? x > q[best * inner] : x < q[best * inner])) best = k;
            }
            out.data()[o * inner + i] = static_cast<std::int64_t>(best);
        }
    return out;
}
}  // namespace expr

/// Flat row-major index of the largest element (the first NaN, if any).
template <plain_expression E>
std::int64_t argmax(const E& e) {
    return expr::arg_extreme_all<true>(as_node(e));
}
template <plain_expression E>
tensor<std::int64_t> argmax(const E& e, std::size_t axis) {
    return expr::arg_extreme_axis<true>(as_node(e), axis);
}
template <plain_expression E>
std::int64_t argmin(const E& e) {
    return expr::arg_extreme_all<false>(as_node(e));
}
template <plain_expression E>
tensor<std::int64_t> argmin(const E& e, std::size_t axis) {
    return expr::arg_extreme_axis<false>(as_node(e), axis);
}

// Expression nodes live in dendrite::expr, so argument-dependent lookup of `sum(a * b)` looks
// there, not here: without these, only `sum(tensor)` would work unqualified.
namespace expr {
using dendrite::amax;
using dendrite::amin;
using dendrite::argmax;
using dendrite::argmin;
using dendrite::logsumexp;
using dendrite::mean;
using dendrite::sum;
}  // namespace expr

}  // namespace dendrite::inline DENDRITE_TARGET
