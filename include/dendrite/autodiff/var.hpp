#pragma once
// var<T>: a value on a tape, usable inside element-wise expressions.

#include <cstddef>
#include <string>
#include <type_traits>

#include "dendrite/autodiff/tape.hpp"
#include "dendrite/config.hpp"
#include "dendrite/expr/lane.hpp"
#include "dendrite/expr/node.hpp"
#include "dendrite/simd/simd.hpp"

namespace dendrite::inline DENDRITE_TARGET {

template <class T>
class var;

namespace detail {
/// An element-wise expression over vars (other than a var itself), which converts to var<T>.
template <class E, class T>
concept recordable_expression =
    expression<E> && !std::is_same_v<std::remove_cvref_t<E>, var<T>> && requires {
    std::remove_cvref_t<E>::has_grad;
}
&&std::remove_cvref_t<E>::has_grad;
}  // namespace detail

/// A tensor value recorded on a tape, with a gradient after backward().
///
/// A var is a small handle (the tape, its node, and the value). Element-wise expressions over vars
/// are lazy; they become ONE tape node when converted to a var or passed to a non-element-wise op.
template <class T>
class var {
  public:
    using value_type = T;
    static constexpr bool is_dendrite_expression = true;

    var() = default;
    var(dendrite::tape& t, detail::typed_node<T>& n) noexcept : tape_(&t), node_(&n) {}

    /// Records an element-wise expression over vars as one fused node (see autodiff/fused.hpp).
    template <class E>
    requires detail::recordable_expression<E, T> var(const E& e);

    /// The value; a deferred element-wise node (see autodiff/fused.hpp) is evaluated on first use,
    /// so the first call must not race with another on the same var.
    const tensor<T>& value() const {
        if (node_->pending) [[unlikely]]
            node_->materialize();
        return node_->value;
    }
    const dendrite::shape& shape() const noexcept { return node_->value.shape(); }
    std::size_t size() const noexcept { return node_->value.size(); }
    /// The single element of a one-element value.
    T item() const { return value().item(); }

    /// The gradient accumulated by backward(); empty if backward has not reached this var.
    const tensor<T>& grad() const noexcept { return node_->grad(); }
    bool requires_grad() const noexcept { return node_ && node_->requires_grad; }

    dendrite::tape& tape() const noexcept { return *tape_; }
    detail::typed_node<T>& node() const noexcept { return *node_; }
    bool valid() const noexcept { return node_ != nullptr; }

    /// Reverse sweep from this scalar var (seed 1). Frees the graph unless `retain_graph`.
    void backward(bool retain_graph = false) const {
        if (size() != 1)
            throw autodiff_error("backward: variable of shape " + shape().str() +
                                 " is not a scalar; pass a seed gradient of that shape");
        check_backward();
        // Seeded in place: a steady-state training step must not allocate a seed tensor.
        node_->grad_accumulator(*tape_).data()[0] += T(1);
        tape_->run_backward(*node_, retain_graph);
    }
    /// Reverse sweep seeded with d(something)/d(this) = seed (same shape as this var). The seed
    /// is read, never written; for an interior var it is used in place, without a copy.
    void backward(const tensor<T>& seed, bool retain_graph = false) const {
        if (!(seed.shape() == shape()))
            throw autodiff_error("backward: seed of shape " + seed.shape().str() +
                                 " for variable of shape " + shape().str());
        check_backward();
        if (!node_->has_grad() && !node_->is_leaf() && seed.is_contiguous()) {
            node_->borrow_grad(seed);
        } else {
            tensor<T>& acc = node_->grad_accumulator(*tape_);
            acc.assign(acc + seed);
        }
        tape_->run_backward(*node_, retain_graph);
    }

    /// The same value as a constant: no gradient flows through it.
    var detach() const {
        auto& n = tape_->make<detail::leaf_node<T>>("detached");
        n.value = value();
        return var(*tape_, n);
    }

  private:
    void check_backward() const {
        if (!node_) throw autodiff_error("backward: empty variable");
        if (!node_->requires_grad)
            throw autodiff_error("backward: variable does not require a gradient");
        (void)tape_->position_for_backward(*node_);
    }

    dendrite::tape* tape_ = nullptr;
    detail::typed_node<T>* node_ = nullptr;
};

namespace expr {

/// Reads a var's value and, in backward, accumulates into its gradient.
template <class T>
struct var_cursor {
    static constexpr bool has_grad = true;
    const T* base;
    T* grad_base;  // null while evaluating forward only, or for a var without gradient
    loop_strides st;
    const T* row = nullptr;
    T* grad_row = nullptr;
    // Set when this occurrence is the first writer of a fresh gradient covering the whole output
    // (see fused_node::backward): it stores instead of loading and adding.
    bool overwrite = false;
    // Second order (autodiff/hvp.hpp), on jet lanes only: the value's tangent (null when zero)
    // and the gradient's tangent to accumulate into (null when not wanted); the same layout.
    const T* tangent_base = nullptr;
    T* grad_tangent_base = nullptr;
    const T* tangent_row = nullptr;
    T* grad_tangent_row = nullptr;

    DENDRITE_ALWAYS_INLINE void set_row(std::size_t i0, std::size_t i1, std::size_t i2) noexcept {
        const std::ptrdiff_t off = static_cast<std::ptrdiff_t>(i0) * st[0] +
                                   static_cast<std::ptrdiff_t>(i1) * st[1] +
                                   static_cast<std::ptrdiff_t>(i2) * st[2];
        row = base + off;
        grad_row = grad_base ? grad_base + off : nullptr;
        if (tangent_base) tangent_row = tangent_base + off;
        if (grad_tangent_base) grad_tangent_row = grad_tangent_base + off;
    }
    template <class X, bool C>
    DENDRITE_ALWAYS_INLINE X value(std::size_t j) const noexcept {
        if constexpr (simd::is_jet_v<X>) {
            // {value, tangent}: the lanes of a second-order pass.
            using L = typename X::lane_type;
            return X::seed(
                load_lanes<L, C>(row, st[3], j),
                tangent_row ? load_lanes<L, C>(tangent_row, st[3], j) : L(simd::scalar_t<L>(0)));
        } else {
            return load_lanes<X, C>(row, st[3], j);
        }
    }
    template <class X, bool C>
    DENDRITE_ALWAYS_INLINE leaf_cache<X> forward(std::size_t j) const noexcept {
        return {value<X, C>(j)};
    }
    template <class X, bool C, class Cache>
    DENDRITE_ALWAYS_INLINE void backward(std::size_t j, const Cache&, const X& g) const noexcept {
        if constexpr (simd::is_jet_v<X>) {
            // A second-order pass accumulates the gradient and its tangent; it never overwrites.
            using L = typename X::lane_type;
            var_cursor plain = *this;
            plain.overwrite = false;
            plain.template backward_lanes<L, C>(j, g.c[0]);
            if (grad_tangent_row) {
                plain.grad_row = grad_tangent_row;
                plain.template backward_lanes<L, C>(j, g.c[1]);
            }
        } else {
            backward_lanes<X, C>(j, g);
        }
    }
    template <class X, bool C>
    DENDRITE_ALWAYS_INLINE void backward_lanes(std::size_t j, const X& g) const noexcept {
        if (!grad_row) return;
        using Tv = simd::scalar_t<X>;
        if (overwrite) {
            store_lanes<C>(j, g);
            return;
        }
        if constexpr (simd::is_batch_v<X>) {
            if (C || st[3] == 1) {
                simd::store(grad_row + j, simd::load(grad_row + j) + g);
            } else if (st[3] == 0) {
                // Broadcast along the inner axis: this is the reduction in a bias's backward.
                grad_row[0] += simd::hsum(g);
            } else {
                alignas(simd::alignment) Tv tmp[X::size];
                g.store_aligned(tmp);
                for (std::size_t k = 0; k < X::size; ++k)
                    grad_row[static_cast<std::ptrdiff_t>(j + k) * st[3]] += tmp[k];
            }
        } else {
            grad_row[static_cast<std::ptrdiff_t>(j) * (C ? 1 : st[3])] += g;
        }
    }
    /// The var read from, and differentiated into, the lanes of `slot` instead of memory.
    lane_cursor<T> on_lanes(lane_slot<T>* slot) const noexcept { return {slot}; }
    /// The var read from, and differentiated into, its own slot among several.
    lane_cursor<T> on_lanes(var_slots<T>* slots) const noexcept { return {slots->find(base)}; }
    template <bool C, class X>
    DENDRITE_ALWAYS_INLINE void store_lanes(std::size_t j, const X& g) const noexcept {
        using Tv = simd::scalar_t<X>;
        if constexpr (simd::is_batch_v<X>) {
            if (C || st[3] == 1) {
                simd::store(grad_row + j, g);
            } else {
                alignas(simd::alignment) Tv tmp[X::size];
                g.store_aligned(tmp);
                for (std::size_t k = 0; k < X::size; ++k)
                    grad_row[static_cast<std::ptrdiff_t>(j + k) * st[3]] = tmp[k];
            }
        } else {
            grad_row[static_cast<std::ptrdiff_t>(j) * (C ? 1 : st[3])] = g;
        }
    }
};

/// A var as an expression leaf.
template <class T>
struct var_leaf {
    static constexpr bool is_dendrite_expression = true;
    static constexpr std::size_t leaf_count = 1;
    static constexpr bool has_grad = true;
    static constexpr bool over_vars = true;
    using value_type = T;

    var<T> v;
    T* grad = nullptr;       // set by the fused node before its backward sweep
    bool overwrite = false;  // likewise: store into a fresh gradient rather than add
    // Likewise, before a second-order pass (autodiff/hvp.hpp): the value's tangent and the
    // gradient's tangent, null when zero or not wanted.
    const T* tangent = nullptr;
    T* grad_tangent = nullptr;

    // Shape and strides exist before a deferred value is computed: only reading it (cursor)
    // computes it, so an expression over a deferred node leaves it deferred.
    const dendrite::shape& shape() const noexcept { return v.shape(); }
    template <class F>
    void for_each_leaf(F& f) const {
        const tensor<T>& value = v.node().value;
        f(value.shape(), value.strides());
    }
    var_cursor<T> cursor(const loop_strides*& s) const noexcept {
        return {v.value().data(), grad, *s++, nullptr, nullptr, overwrite, tangent, grad_tangent};
    }
    template <class F>
    void for_each_var(F& f) {
        f(*this);
    }
    template <class F>
    void for_each_var(F& f) const {
        f(*this);
    }
    std::string describe() const { return v.node().name() + v.shape().str(); }
};

template <class T>
struct sweep_reaches_all_leaves<var_leaf<T>> : std::true_type {};

}  // namespace expr

template <class T>
expr::var_leaf<T> as_node(const var<T>& v) {
    return {v};
}

}  // namespace dendrite::inline DENDRITE_TARGET
