#pragma once
// Expression nodes: the static description of an element-wise computation.
//
// A node knows its value type, its broadcast shape (checked when the node is built, so a mismatch
// throws at the line that wrote it) and its leaves. Evaluation goes through a *cursor*, a mirror of
// the node tree whose leaves point at memory laid out for one loop (see evaluate.hpp). A cursor
// offers, for a lane type X (a scalar T or a simd::batch<T>):
//   value<X, C>(j)              the expression at column j of the current row;
//   forward<X, C>(j)            the same, keeping every intermediate in a cache (registers);
//   backward<X, C>(j, cache, g) the reverse sweep: pushes g through each op's local derivative and
//                               accumulates into the gradient of every differentiable leaf.
//   on_lanes(slot)              the same cursor with every var leaf reading, and accumulating its
//                               gradient into, the lanes of `slot` (expr/lane.hpp).
// C is true when every leaf is contiguous with unit stride, which lets loads skip stride checks.
//
// Children are held by value: tensors are cheap shared handles, so `auto e = a * b + 1;` cannot
// dangle.

#include <cstddef>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>

#include "dendrite/config.hpp"
#include "dendrite/expr/ops.hpp"
#include "dendrite/expr/var_interface.hpp"
#include "dendrite/simd/simd.hpp"
#include "dendrite/tensor/tensor.hpp"

namespace dendrite::inline DENDRITE_TARGET::expr {

/// Per-leaf strides in the 4-d loop space of one evaluation; [3] is the inner (vector) axis.
using loop_strides = strides_t;

/// Lane loads for a leaf whose loop strides are known only at run time.
template <class X, bool Contig, class T>
DENDRITE_ALWAYS_INLINE X load_lanes(const T* row, std::ptrdiff_t inner, std::size_t j) noexcept {
    if constexpr (simd::is_jet_v<X>) {
        // Memory holds no series: a value read inside one is a constant of it.
        return X(load_lanes<typename X::lane_type, Contig>(row, inner, j));
    } else if constexpr (simd::is_batch_v<X>) {
        if constexpr (Contig) {
            return simd::load(row + j);
        } else {
            if (inner == 1) return simd::load(row + j);
            if (inner == 0) return X(row[0]);
            return simd::load_strided(row + static_cast<std::ptrdiff_t>(j) * inner, inner);
        }
    } else {
        return row[static_cast<std::ptrdiff_t>(j) * (Contig ? 1 : inner)];
    }
}

template <class X>
struct leaf_cache {
    X value;
};

// ---- leaves -------------------------------------------------------------------------------------

template <class T>
struct read_cursor {
    static constexpr bool has_grad = false;
    const T* base;
    loop_strides st;
    const T* row = nullptr;

    DENDRITE_ALWAYS_INLINE void set_row(std::size_t i0, std::size_t i1, std::size_t i2) noexcept {
        row = base + static_cast<std::ptrdiff_t>(i0) * st[0] +
              static_cast<std::ptrdiff_t>(i1) * st[1] + static_cast<std::ptrdiff_t>(i2) * st[2];
    }
    template <class X, bool C>
    DENDRITE_ALWAYS_INLINE X value(std::size_t j) const noexcept {
        return load_lanes<X, C>(row, st[3], j);
    }
    template <class X, bool C>
    DENDRITE_ALWAYS_INLINE leaf_cache<X> forward(std::size_t j) const noexcept {
        return {value<X, C>(j)};
    }
    template <class X, bool C, class Cache>
    DENDRITE_ALWAYS_INLINE void backward(std::size_t, const Cache&, const X&) const noexcept {}
    template <class Slot>
    read_cursor on_lanes(Slot*) const noexcept {
        return *this;
    }
};

/// A tensor read by an expression (a constant as far as gradients go).
template <class T>
struct tensor_leaf {
    static constexpr bool is_dendrite_expression = true;
    static constexpr std::size_t leaf_count = 1;
    static constexpr bool has_grad = false;
    using value_type = T;

    tensor<T> t;

    const dendrite::shape& shape() const noexcept { return t.shape(); }
    template <class F>
    void for_each_leaf(F& f) const {
        f(t.shape(), t.strides());
    }
    read_cursor<T> cursor(const loop_strides*& s) const noexcept { return {t.data(), *s++}; }
    template <class F>
    void for_each_var(F&) {}
    template <class F>
    void for_each_var(F&) const {}
    std::string describe() const { return "tensor" + t.shape().str(); }
};

template <class T>
struct scalar_cursor {
    static constexpr bool has_grad = false;
    T v;
    DENDRITE_ALWAYS_INLINE void set_row(std::size_t, std::size_t, std::size_t) noexcept {}
    template <class X, bool C>
    DENDRITE_ALWAYS_INLINE X value(std::size_t) const noexcept {
        return X(v);
    }
    template <class X, bool C>
    DENDRITE_ALWAYS_INLINE leaf_cache<X> forward(std::size_t) const noexcept {
        return {X(v)};
    }
    template <class X, bool C, class Cache>
    DENDRITE_ALWAYS_INLINE void backward(std::size_t, const Cache&, const X&) const noexcept {}
    template <class Slot>
    scalar_cursor on_lanes(Slot*) const noexcept {
        return *this;
    }
};

/// A scalar constant, broadcast everywhere.
template <class T>
struct scalar_node {
    static constexpr bool is_dendrite_expression = true;
    static constexpr std::size_t leaf_count = 0;
    static constexpr bool has_grad = false;
    using value_type = T;

    T v;

    const dendrite::shape& shape() const noexcept {
        static const dendrite::shape scalar_shape{};
        return scalar_shape;
    }
    template <class F>
    void for_each_leaf(F&) const {}
    scalar_cursor<T> cursor(const loop_strides*&) const noexcept { return {v}; }
    template <class F>
    void for_each_var(F&) {}
    template <class F>
    void for_each_var(F&) const {}
    std::string describe() const {
        std::ostringstream os;
        os << +v;
        return os.str();
    }
};

// ---- interior nodes
// ------------------------------------------------------------------------------

template <class X, class Child>
struct unary_cache {
    Child child;
    X value{};
};

template <class Op, class C>
struct unary_cursor {
    static constexpr bool has_grad = C::has_grad;
    [[no_unique_address]] Op op;
    C arg;

    DENDRITE_ALWAYS_INLINE void set_row(std::size_t i0, std::size_t i1, std::size_t i2) noexcept {
        arg.set_row(i0, i1, i2);
    }
    template <class X, bool Cg>
    DENDRITE_ALWAYS_INLINE X value(std::size_t j) const noexcept {
        return ops::call(op, arg.template value<X, Cg>(j));
    }
    template <class X, bool Cg>
    DENDRITE_ALWAYS_INLINE auto forward(std::size_t j) const noexcept {
        // The children's caches are built in place (a prvalue initialises the member): a deep
        // expression's nested caches are never copied, which the compiler cannot always undo.
        unary_cache<X, decltype(arg.template forward<X, Cg>(j))> c{
            .child = arg.template forward<X, Cg>(j)};
        c.value = ops::call(op, c.child.value);
        return c;
    }
    template <class X, bool Cg, class Cache>
    DENDRITE_ALWAYS_INLINE void backward(std::size_t j, const Cache& c, const X& g) const noexcept {
        if constexpr (has_grad)
            arg.template backward<X, Cg>(j, c.child, g * op.derivative(c.child.value, c.value));
    }
    template <class Slot>
    auto on_lanes(Slot* slot) const noexcept {
        auto a = arg.on_lanes(slot);
        return unary_cursor<Op, decltype(a)>{op, a};
    }
};

/// op(arg), element-wise.
template <class Op, class E>
struct unary_expr : var_interface<unary_expr<Op, E>, typename E::value_type, over_vars<E>> {
    static constexpr bool is_dendrite_expression = true;
    static constexpr std::size_t leaf_count = E::leaf_count;
    static constexpr bool has_grad = E::has_grad;
    static constexpr bool over_vars = expr::over_vars<E>;
    using value_type = typename E::value_type;

    [[no_unique_address]] Op op;
    E arg;

    const dendrite::shape& shape() const noexcept { return arg.shape(); }
    template <class F>
    void for_each_leaf(F& f) const {
        arg.for_each_leaf(f);
    }
    auto cursor(const loop_strides*& s) const {
        auto c = arg.cursor(s);
        return unary_cursor<Op, decltype(c)>{op, c};
    }
    template <class F>
    void for_each_var(F& f) {
        arg.for_each_var(f);
    }
    template <class F>
    void for_each_var(F& f) const {
        arg.for_each_var(f);
    }
    std::string describe() const { return std::string(Op::name) + "(" + arg.describe() + ")"; }
};

template <class X, class L, class R>
struct binary_cache {
    L lhs;
    R rhs;
    X value{};
};

template <class Op, class L, class R>
struct binary_cursor {
    static constexpr bool has_grad = L::has_grad || R::has_grad;
    [[no_unique_address]] Op op;
    L lhs;
    R rhs;

    DENDRITE_ALWAYS_INLINE void set_row(std::size_t i0, std::size_t i1, std::size_t i2) noexcept {
        lhs.set_row(i0, i1, i2);
        rhs.set_row(i0, i1, i2);
    }
    template <class X, bool C>
    DENDRITE_ALWAYS_INLINE X value(std::size_t j) const noexcept {
        return ops::call(op, lhs.template value<X, C>(j), rhs.template value<X, C>(j));
    }
    template <class X, bool C>
    DENDRITE_ALWAYS_INLINE auto forward(std::size_t j) const noexcept {
        binary_cache<X, decltype(lhs.template forward<X, C>(j)),
                     decltype(rhs.template forward<X, C>(j))>
            c{.lhs = lhs.template forward<X, C>(j), .rhs = rhs.template forward<X, C>(j)};
        c.value = ops::call(op, c.lhs.value, c.rhs.value);
        return c;
    }
    template <class X, bool C, class Cache>
    DENDRITE_ALWAYS_INLINE void backward(std::size_t j, const Cache& c, const X& g) const noexcept {
        if constexpr (L::has_grad)
            lhs.template backward<X, C>(j, c.lhs, g * op.d_lhs(c.lhs.value, c.rhs.value, c.value));
        if constexpr (R::has_grad)
            rhs.template backward<X, C>(j, c.rhs, g * op.d_rhs(c.lhs.value, c.rhs.value, c.value));
    }
    template <class Slot>
    auto on_lanes(Slot* slot) const noexcept {
        auto a = lhs.on_lanes(slot);
        auto b = rhs.on_lanes(slot);
        return binary_cursor<Op, decltype(a), decltype(b)>{op, a, b};
    }
};

/// op(lhs, rhs), element-wise with NumPy broadcasting.
template <class Op, class L, class R>
struct binary_expr
    : var_interface<binary_expr<Op, L, R>, typename L::value_type, over_vars<L> || over_vars<R>> {
    static constexpr bool is_dendrite_expression = true;
    static constexpr std::size_t leaf_count = L::leaf_count + R::leaf_count;
    static constexpr bool has_grad = L::has_grad || R::has_grad;
    static constexpr bool over_vars = expr::over_vars<L> || expr::over_vars<R>;
    using value_type = typename L::value_type;
    static_assert(std::is_same_v<typename L::value_type, typename R::value_type>,
                  "dendrite: operands of an element-wise expression must have the same value type "
                  "(mixing tensor<float> and tensor<double> needs an explicit conversion)");

    [[no_unique_address]] Op op;
    L lhs;
    R rhs;
    dendrite::shape shp;

    binary_expr(Op o, L l, R r)
        : op(o),
          lhs(std::move(l)),
          rhs(std::move(r)),
          shp(broadcast_shapes(lhs.shape(), rhs.shape(), Op::name)) {}

    const dendrite::shape& shape() const noexcept { return shp; }
    template <class F>
    void for_each_leaf(F& f) const {
        lhs.for_each_leaf(f);
        rhs.for_each_leaf(f);
    }
    auto cursor(const loop_strides*& s) const {
        auto a = lhs.cursor(s);
        auto b = rhs.cursor(s);
        return binary_cursor<Op, decltype(a), decltype(b)>{op, a, b};
    }
    template <class F>
    void for_each_var(F& f) {
        lhs.for_each_var(f);
        rhs.for_each_var(f);
    }
    template <class F>
    void for_each_var(F& f) const {
        lhs.for_each_var(f);
        rhs.for_each_var(f);
    }
    std::string describe() const {
        return std::string(Op::name) + "(" + lhs.describe() + ", " + rhs.describe() + ")";
    }
};

template <class X, class Cc, class A, class B>
struct where_cache {
    Cc cond;
    A a;
    B b;
    X value{};
};

template <class Cc, class A, class B>
struct where_cursor {
    static constexpr bool has_grad = A::has_grad || B::has_grad;
    Cc cond;
    A a;
    B b;

    DENDRITE_ALWAYS_INLINE void set_row(std::size_t i0, std::size_t i1, std::size_t i2) noexcept {
        cond.set_row(i0, i1, i2);
        a.set_row(i0, i1, i2);
        b.set_row(i0, i1, i2);
    }
    template <class X, bool C>
    DENDRITE_ALWAYS_INLINE X value(std::size_t j) const noexcept {
        // simd::not_equal: a NaN condition is non-zero, so true, in SIMD lanes as in the tail.
        return simd::select(simd::not_equal(cond.template value<X, C>(j), X(0)),
                            a.template value<X, C>(j), b.template value<X, C>(j));
    }
    template <class X, bool C>
    DENDRITE_ALWAYS_INLINE auto forward(std::size_t j) const noexcept {
        where_cache<X, decltype(cond.template forward<X, C>(j)),
                    decltype(a.template forward<X, C>(j)), decltype(b.template forward<X, C>(j))>
            c{.cond = cond.template forward<X, C>(j),
              .a = a.template forward<X, C>(j),
              .b = b.template forward<X, C>(j)};
        c.value = simd::select(simd::not_equal(c.cond.value, X(0)), c.a.value, c.b.value);
        return c;
    }
    template <class X, bool C, class Cache>
    DENDRITE_ALWAYS_INLINE void backward(std::size_t j, const Cache& c, const X& g) const noexcept {
        const auto take = simd::not_equal(c.cond.value, X(0));
        if constexpr (A::has_grad) a.template backward<X, C>(j, c.a, simd::select(take, g, X(0)));
        if constexpr (B::has_grad) b.template backward<X, C>(j, c.b, simd::select(take, X(0), g));
    }
    template <class Slot>
    auto on_lanes(Slot* slot) const noexcept {
        auto c = cond.on_lanes(slot);
        auto x = a.on_lanes(slot);
        auto y = b.on_lanes(slot);
        return where_cursor<decltype(c), decltype(x), decltype(y)>{c, x, y};
    }
};

/// where(cond, a, b): a where cond is non-zero, else b; the condition gets no gradient.
template <class Cc, class A, class B>
struct where_expr
    : var_interface<where_expr<Cc, A, B>, typename A::value_type, over_vars<A> || over_vars<B>> {
    static constexpr bool is_dendrite_expression = true;
    static constexpr std::size_t leaf_count = Cc::leaf_count + A::leaf_count + B::leaf_count;
    static constexpr bool has_grad = A::has_grad || B::has_grad;
    static constexpr bool over_vars = expr::over_vars<A> || expr::over_vars<B>;
    using value_type = typename A::value_type;

    Cc cond;
    A a;
    B b;
    dendrite::shape shp;

    where_expr(Cc c, A x, B y)
        : cond(std::move(c)),
          a(std::move(x)),
          b(std::move(y)),
          shp(broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(),
                               "where")) {}

    const dendrite::shape& shape() const noexcept { return shp; }
    template <class F>
    void for_each_leaf(F& f) const {
        cond.for_each_leaf(f);
        a.for_each_leaf(f);
        b.for_each_leaf(f);
    }
    auto cursor(const loop_strides*& s) const {
        auto c = cond.cursor(s);
        auto x = a.cursor(s);
        auto y = b.cursor(s);
        return where_cursor<decltype(c), decltype(x), decltype(y)>{c, x, y};
    }
    template <class F>
    void for_each_var(F& f) {
        cond.for_each_var(f);
        a.for_each_var(f);
        b.for_each_var(f);
    }
    template <class F>
    void for_each_var(F& f) const {
        cond.for_each_var(f);
        a.for_each_var(f);
        b.for_each_var(f);
    }
    std::string describe() const {
        return "where(" + cond.describe() + ", " + a.describe() + ", " + b.describe() + ")";
    }
};

/// True when the reverse sweep of expression E reaches every differentiable leaf it holds, for
/// every element: a fresh gradient may then be overwritten rather than accumulated. Conservative:
/// false for node kinds not listed, and for where() with differentiable leaves in its condition
/// (the condition receives no gradient). The leaves add their own specializations.
template <class E>
struct sweep_reaches_all_leaves : std::false_type {};
template <class T>
struct sweep_reaches_all_leaves<tensor_leaf<T>> : std::true_type {};
template <class T>
struct sweep_reaches_all_leaves<scalar_node<T>> : std::true_type {};
template <class Op, class A>
struct sweep_reaches_all_leaves<unary_expr<Op, A>> : sweep_reaches_all_leaves<A> {};
template <class Op, class L, class R>
struct sweep_reaches_all_leaves<binary_expr<Op, L, R>>
    : std::bool_constant<sweep_reaches_all_leaves<L>::value && sweep_reaches_all_leaves<R>::value> {
};
template <class C, class A, class B>
struct sweep_reaches_all_leaves<where_expr<C, A, B>>
    : std::bool_constant<!C::has_grad && sweep_reaches_all_leaves<A>::value &&
                         sweep_reaches_all_leaves<B>::value> {};

}  // namespace dendrite::inline DENDRITE_TARGET::expr

namespace dendrite::inline DENDRITE_TARGET {

// as_node turns any operand into a node; an extension point found by argument-dependent lookup
// (the autodiff layer adds one for its variables).
template <class T>
expr::tensor_leaf<T> as_node(const tensor<T>& t) {
    return {t};
}
template <class N>
requires requires {
    N::leaf_count;
}
const N& as_node(const N& n) {
    return n;
}

}  // namespace dendrite::inline DENDRITE_TARGET
