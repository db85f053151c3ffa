#pragma once
// The fused node: an element-wise expression over vars recorded as ONE tape node.
//
// Forward evaluates the expression in one pass. Backward runs one pass too: per SIMD batch it
// evaluates the expression tree forward, keeping every intermediate in registers, then sweeps it
// in reverse with the upstream gradient, each op applying its local derivative, and adds the
// result into each var's gradient. Each input and the upstream gradient are read once, each
// gradient written once, whatever the depth of the expression.

#include <string>
#include <type_traits>

#include "dendrite/autodiff/tape.hpp"
#include "dendrite/autodiff/var.hpp"
#include "dendrite/expr/evaluate.hpp"

namespace dendrite {

namespace detail {

template <class T, class E>
class fused_node final : public typed_node<T> {
public:
    explicit fused_node(const E& e) : expr_(e) {}

    void forward(tape& t) {
        this->value = t.acquire_value<T>(expr_.shape());
        expr::evaluate_into(this->value.data(), this->value.shape(), this->value.strides(), expr_);
    }

    void backward(tape& t) override {
        if (!this->has_grad()) return;
        auto bind = [&](auto& leaf) {
            auto& n = leaf.v.node();
            leaf.grad = n.requires_grad ? n.grad_accumulator(t).data() : nullptr;
        };
        expr_.for_each_var(bind);
        const tensor<T>& g = this->grad();

        constexpr std::size_t N = E::leaf_count + 1;
        expr::leaf_collector<N> leaves;
        leaves(g.shape(), g.strides());
        expr_.for_each_leaf(leaves);
        auto plan = expr::plan_loop<N>(g.shape(), leaves.shapes, leaves.strides);
        // A leaf broadcast along some axis receives several rows' contributions at one address:
        // those sums must not race, so such a sweep stays on one thread.
        bool parallel = true;
        for (std::size_t l = 1; l < N; ++l)
            for (std::size_t a = 0; a < max_rank; ++a)
                if (plan.dims[a] > 1 && plan.strides[l][a] == 0) parallel = false;

        const expr::loop_strides* s = plan.strides.data();
        expr::read_cursor<T> upstream{g.data(), *s++};
        auto in = expr_.cursor(s);
        expr::paired_cursor<expr::read_cursor<T>, decltype(in)> proto{upstream, in};
        expr::run_plan<T>(
            plan, proto,
            []<class X, bool C>(auto& cur, std::size_t j) {
                auto cache = cur.in.template forward<X, C>(j);
                cur.in.template backward<X, C>(j, cache, cur.out.template value<X, C>(j));
            },
            parallel);
    }

    std::string name() const override { return "fused(" + expr_.describe() + ")"; }

private:
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
            throw autodiff_error("expression mixes variables from different tapes: " + e.describe());
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
    requires detail::recordable_expression<E, T>
var<T>::var(const E& e) : var(record(e)) {}

}  // namespace dendrite
