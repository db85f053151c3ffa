#pragma once
// The fused node: an element-wise expression over vars recorded as ONE tape node.
//
// Forward evaluates the expression in one pass. Backward runs one pass too: per SIMD batch it
// evaluates the expression tree forward, keeping every intermediate in registers, then sweeps it
// in reverse with the upstream gradient, each op applying its local derivative, and adds the
// result into each var's gradient. Each input and the upstream gradient are read once, each
// gradient written once, whatever the depth of the expression.
//
// The last node recorded, when on the gradient path, defers its forward pass until its value is
// first needed: by the next node recorded, a read of its value, or backward. When backward
// reaches it first (a graph ending in an element-wise node, whose value only the seed follows),
// the backward pass writes the value too, from the same registers: value and gradients in one
// pass over the inputs, as a hand-fused loop would.

#include <string>
#include <type_traits>

#include "dendrite/autodiff/tape.hpp"
#include "dendrite/autodiff/var.hpp"
#include "dendrite/expr/evaluate.hpp"

namespace dendrite {

namespace detail {

/// True when the reverse sweep of expression E reaches every var leaf it holds for every
/// element, which lets a fresh gradient be overwritten rather than accumulated. Conservative:
/// false for node kinds not listed, and for where() with vars in its condition (the condition
/// receives no gradient, so its leaves are never written).
template <class E>
struct sweep_reaches_all_leaves : std::false_type {};
template <class T>
struct sweep_reaches_all_leaves<expr::var_leaf<T>> : std::true_type {};
template <class T>
struct sweep_reaches_all_leaves<expr::tensor_leaf<T>> : std::true_type {};
template <class T>
struct sweep_reaches_all_leaves<expr::scalar_node<T>> : std::true_type {};
template <class Op, class A>
struct sweep_reaches_all_leaves<expr::unary_expr<Op, A>> : sweep_reaches_all_leaves<A> {};
template <class Op, class L, class R>
struct sweep_reaches_all_leaves<expr::binary_expr<Op, L, R>>
    : std::bool_constant<sweep_reaches_all_leaves<L>::value && sweep_reaches_all_leaves<R>::value> {
};
template <class C, class A, class B>
struct sweep_reaches_all_leaves<expr::where_expr<C, A, B>>
    : std::bool_constant<!C::has_grad && sweep_reaches_all_leaves<A>::value &&
                         sweep_reaches_all_leaves<B>::value> {};

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
        const shape& out_shape = this->value.shape();
        auto bind = [&](auto& leaf) {
            auto& n = leaf.v.node();
            leaf.overwrite = false;
            if (!n.requires_grad) {
                leaf.grad = nullptr;
            } else if (sweep_reaches_all_leaves<E>::value && !n.has_grad() &&
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
        const tensor<T>& g = this->grad();

        // The upstream gradient, then (deferred) the value to write, then the expression's leaves.
        constexpr std::size_t N = E::leaf_count + 2;
        expr::leaf_collector<N> leaves;
        leaves(g.shape(), g.strides());
        leaves(this->value.shape(), this->value.strides());
        expr_.for_each_leaf(leaves);
        auto plan = expr::plan_loop<N>(g.shape(), leaves.shapes, leaves.strides);
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
        const bool write_value = this->pending;
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

}  // namespace dendrite
