#pragma once
// The fused node: an element-wise expression over vars recorded as ONE tape node.
//
// Forward evaluates the expression in one pass. Backward runs one pass too: per SIMD batch it
// evaluates the expression tree forward, keeping every intermediate in registers, then sweeps it
// in reverse with the upstream gradient, each op applying its local derivative, and adds the
// result into each var's gradient. Each input and the upstream gradient are read once, whatever
// the depth of the expression. A var at several places (x in x * sigmoid(x)) that is the
// expression's only var, over contiguous memory, has its contributions summed in registers and
// its gradient written once; otherwise each occurrence adds its own.
//
// The last node recorded, when on the gradient path, defers its forward pass until its value is
// first needed: by the next node recorded, a read of its value, or backward. When backward
// reaches it first (a graph ending in an element-wise node, whose value only the seed follows),
// the backward pass writes the value too, from the same registers: value and gradients in one
// pass over the inputs, as a hand-fused loop would.

#include <cstddef>
#include <string>
#include <type_traits>

#include "dendrite/autodiff/tape.hpp"
#include "dendrite/autodiff/var.hpp"
#include "dendrite/config.hpp"
#include "dendrite/expr/evaluate.hpp"
#include "dendrite/expr/lane.hpp"
#include "dendrite/simd/loop.hpp"
#include "dendrite/simd/parallel.hpp"
#include "dendrite/simd/simd.hpp"

namespace dendrite::inline DENDRITE_TARGET {

namespace detail {

/// The number of var leaves in expression E (x * sigmoid(x) holds two).
template <class E>
struct var_leaf_count : std::integral_constant<std::size_t, 0> {};
template <class T>
struct var_leaf_count<expr::var_leaf<T>> : std::integral_constant<std::size_t, 1> {};
template <class Op, class A>
struct var_leaf_count<expr::unary_expr<Op, A>> : var_leaf_count<A> {};
template <class Op, class L, class R>
struct var_leaf_count<expr::binary_expr<Op, L, R>>
    : std::integral_constant<std::size_t, var_leaf_count<L>::value + var_leaf_count<R>::value> {};
template <class C, class A, class B>
struct var_leaf_count<expr::where_expr<C, A, B>>
    : std::integral_constant<std::size_t, var_leaf_count<C>::value + var_leaf_count<A>::value +
                                              var_leaf_count<B>::value> {};

template <class T, class E>
class fused_node final : public typed_node<T> {
  public:
    explicit fused_node(const E& e) : expr_(e) {}

    /// Allocates the value and, unless the node is differentiated, computes it. A node on the
    /// gradient path is deferred until the tape records another node or its value is read: if
    /// backward reaches it first (a graph ending in it, its output followed only by the seed),
    /// backward computes value and gradients in one pass over the inputs, not two.
    void forward(tape& t) {
        this->value = t.acquire_value<T>(expr_.shape());
        if (this->requires_grad && !t.anomaly_detection())
            t.defer(*this);
        else
            evaluate();
    }

    void materialize() override {
        evaluate();
        this->pending = false;
    }

    void backward(tape& t) override {
        if (!this->has_grad()) {
            if (this->pending) materialize();
            return;
        }
        const tensor<T>& g = this->grad();
        // The upstream gradient, then (deferred) the value to write, then the expression's leaves.
        constexpr std::size_t N = E::leaf_count + 2;
        expr::leaf_collector<N> leaves;
        leaves(g.shape(), g.strides());
        leaves(this->value.shape(), this->value.strides());
        expr_.for_each_leaf(leaves);
        auto plan = expr::plan_loop<N>(g.shape(), leaves.shapes, leaves.strides);
        const bool write_value = this->pending;
        if constexpr (var_leaf_count<E>::value >= 2) {
            if (plan.contiguous && sweep_single_var(t, plan, write_value)) return;
        }

        const shape& out_shape = this->value.shape();
        auto bind = [&](auto& leaf) {
            auto& n = leaf.v.node();
            leaf.overwrite = false;
            if (!n.requires_grad) {
                leaf.grad = nullptr;
            } else if (expr::sweep_reaches_all_leaves<E>::value && !n.has_grad() &&
                       leaf.shape() == out_shape) {
                // The first occurrence of a var with no gradient yet, covering the whole output,
                // writes each element exactly once: store instead of zero-fill then add. Later
                // occurrences (x in x * sigmoid(x)) see has_grad() and accumulate after it, in the
                // same order within each SIMD batch.
                leaf.grad = n.grad_for_overwrite(t).data();
                leaf.overwrite = true;
            } else {
                leaf.grad = n.grad_accumulator(t).data();
            }
        };
        expr_.for_each_var(bind);
        // A leaf broadcast along some axis receives several rows' contributions at one address:
        // those sums must not race, so such a sweep stays on one thread.
        bool parallel = true;
        for (std::size_t l = 2; l < N; ++l)
            for (std::size_t a = 0; a < max_rank; ++a)
                if (plan.dims[a] > 1 && plan.strides[l][a] == 0) parallel = false;

        const expr::loop_strides* s = plan.strides.data();
        expr::read_cursor<T> upstream{g.data(), *s++};
        expr::write_cursor<T> out{this->value.data(), *s++};
        auto in = expr_.cursor(s);
        using with_value = expr::paired_cursor<expr::write_cursor<T>, decltype(in)>;
        expr::paired_cursor<expr::read_cursor<T>, with_value> proto{upstream, with_value{out, in}};
        // One kernel for both cases (a runtime test per register, not a second instantiation of
        // every expression's sweep).
        expr::run_plan<T>(
            plan, proto,
            [write_value]<class X, bool C>(auto& cur, std::size_t j) {
                auto cache = cur.in.in.template forward<X, C>(j);
                if (write_value) cur.in.out.template store<X, C>(j, cache.value);
                cur.in.in.template backward<X, C>(j, cache, cur.out.template value<X, C>(j));
            },
            parallel);
        this->pending = false;
    }

    std::string name() const override { return "fused(" + expr_.describe() + ")"; }

  private:
    /// The sweep of an expression whose var leaves are all one var, over contiguous memory: the
    /// var's lanes are loaded once and its contributions (two in x * sigmoid(x)) summed in
    /// registers, then written once, where the general sweep stores one and adds the next from
    /// memory. False, having done nothing, when the leaves hold more than one var.
    template <std::size_t N>
    bool sweep_single_var(tape& t, const expr::loop_plan<N>& plan, bool write_value) {
        typed_node<T>* x_node = nullptr;
        bool single = true;
        auto same = [&](const auto& leaf) {
            typed_node<T>* n = &leaf.v.node();
            single = single && (x_node == nullptr || x_node == n);
            x_node = n;
        };
        expr_.for_each_var(same);
        if (!single || !x_node->requires_grad) return false;

        const T* x = x_node->value.data();
        const bool accumulate = x_node->has_grad();
        T* dx = (accumulate ? x_node->grad_accumulator(t) : x_node->grad_for_overwrite(t)).data();
        const T* dy = this->grad().data();
        T* y = this->value.data();
        const expr::loop_strides* s = plan.strides.data() + 2;
        const auto in = expr_.cursor(s);

        constexpr std::size_t W = simd::width<T>;
        simd::parallel_for(
            plan.size(), W, simd::parallel_threshold, [&](std::size_t b, std::size_t e) {
                expr::lane_slot<T> slot;
                auto cur = in.on_lanes(&slot);
                cur.set_row(0, 0, 0);
                // Copies the loop can keep in registers (the captures are references).
                const T* const xp = x;
                const T* const dyp = dy;
                T* const yp = y;
                T* const dxp = dx;
                const bool store_value = write_value, add_to_grad = accumulate;
                auto step = [&]<class X>(std::size_t j) {
                    slot.template value<X>() = expr::load_lanes<X, true>(xp, 1, j);
                    slot.template grad<X>() = expr::lane_gradient_start<E, X>();
                    const auto cache = cur.template forward<X, true>(j);
                    if (store_value) simd::store_lanes(yp + j, cache.value);
                    cur.template backward<X, true>(j, cache, expr::load_lanes<X, true>(dyp, 1, j));
                    X d = slot.template grad<X>();
                    if (add_to_grad) d += expr::load_lanes<X, true>(dxp, 1, j);
                    simd::store_lanes(dxp + j, d);
                };
                simd::for_lanes<T>(b, e, step);
            });
        this->pending = false;
        return true;
    }

    void evaluate() {
        expr::evaluate_into(this->value.data(), this->value.shape(), this->value.strides(), expr_);
    }

    E expr_;
};

}  // namespace detail

/// The tape an expression's vars are recorded on; throws if they come from different tapes.
template <class E>
tape& tape_of(const E& e) {
    tape* found = nullptr;
    auto visit = [&](const auto& leaf) {
        tape* t = &leaf.v.tape();
        if (found && found != t)
            throw autodiff_error("expression mixes variables from different tapes: " +
                                 e.describe());
        found = t;
    };
    e.for_each_var(visit);
    if (!found) throw autodiff_error("expression has no variable: " + e.describe());
    return *found;
}

/// Records element-wise expression `e` (over vars) as one fused node and returns its var.
template <expression E>
auto record(const E& e) {
    const auto& n = as_node(e);
    using N = std::remove_cvref_t<decltype(n)>;
    using T = typename N::value_type;
    tape& t = tape_of(n);
    auto& node = t.make<detail::fused_node<T, N>>(n);
    bool any_grad = false;
    auto visit = [&](const auto& leaf) { any_grad = any_grad || leaf.v.requires_grad(); };
    n.for_each_var(visit);
    node.requires_grad = any_grad && !no_grad_guard::active();
    node.forward(t);
    t.check_anomaly(node);
    return var<T>(t, node);
}

template <class T>
template <class E>
requires detail::recordable_expression<E, T> var<T>::var(const E& e) : var(record(e)) {}

}  // namespace dendrite::inline DENDRITE_TARGET
