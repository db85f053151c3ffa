#pragma once
// Building blocks for non-element-wise ops: a node whose backward is a lambda over the upstream
// gradient, and `as_var`, which records an element-wise expression before such an op reads it.

#include <string>
#include <type_traits>
#include <utility>

#include "dendrite/autodiff/fused.hpp"
#include "dendrite/autodiff/tape.hpp"
#include "dendrite/autodiff/var.hpp"
#include "dendrite/config.hpp"

namespace dendrite::inline DENDRITE_TARGET {

template <class E>
concept differentiable = expression<E> && requires {
    std::remove_cvref_t<decltype(as_node(std::declval<const E&>()))>::has_grad;
} && std::remove_cvref_t<decltype(as_node(std::declval<const E&>()))>::has_grad;

/// The var an operand stands for: itself, or its expression recorded as one fused node.
template <class T>
const var<T>& as_var(const var<T>& v) noexcept {
    return v;
}
template <differentiable E>
requires(!requires {
    typename std::remove_cvref_t<E>::value_type;
} || !std::is_same_v<std::remove_cvref_t<E>,
                     var<typename std::remove_cvref_t<E>::value_type>>) auto as_var(const E& e) {
    return record(e);
}

namespace detail {

/// An op without a second-order rule: an HVP through it throws, naming it.
struct no_second_order {};

/// The second-order rule of an op linear in its inputs: the value's tangent is the op applied to
/// the inputs' tangents, which `tangent(tape&)` returns (an empty tensor when they are all zero),
/// and the gradient's tangent flows back through the op's own backward. `tangent(tape&, const
/// Backward&)` is also accepted: it reads what the backward holds (the inputs of a concat)
/// rather than a copy of its own.
template <class Tangent>
struct linear_rule {
    Tangent tangent;
};

template <class R>
inline constexpr bool is_linear_rule = false;
template <class Tangent>
inline constexpr bool is_linear_rule<linear_rule<Tangent>> = true;

/// A node whose gradient step is `backward(tape&, const tensor<T>& upstream)`, and whose
/// second-order rule (autodiff/hvp.hpp) is `Second`: no_second_order, a linear_rule, or an object
/// with `tensor<T> tangent(tape&)` (the value's tangent, empty when zero) and
/// `void backward_tangent(tape&, g, const tensor<T>* dg)`, which adds the derivative of the
/// op's vector-Jacobian product into the inputs' gradient tangents (dg null when zero).
template <class T, class Backward, class Second = no_second_order>
class op_node final : public typed_node<T> {
  public:
    op_node(const char* name, Backward b, Second s = {})
        : name_(name), backward_(std::move(b)), second_(std::move(s)) {}
    void backward(tape& t) override {
        if (this->has_grad()) backward_(t, this->grad());
    }
    std::string name() const override { return name_; }

    void forward_tangent(tape& t) override {
        if constexpr (std::is_same_v<Second, no_second_order>)
            typed_node<T>::forward_tangent(t);
        else if constexpr (requires { second_.tangent(t, backward_); })
            this->tangent = second_.tangent(t, backward_);
        else
            this->tangent = second_.tangent(t);
    }
    void backward_second_order(tape& t) override {
        if constexpr (std::is_same_v<Second, no_second_order>) {
            typed_node<T>::backward_second_order(t);
        } else if constexpr (is_linear_rule<Second>) {
            if (!this->has_grad()) return;
            backward_(t, this->grad());
            if (!this->has_grad_tangent()) return;
            gradient_tangent_scope tangents;
            backward_(t, this->grad_tangent());
        } else {
            if (!this->has_grad()) return;
            backward_(t, this->grad());
            second_.backward_tangent(t, this->grad(),
                                     this->has_grad_tangent() ? &this->grad_tangent() : nullptr);
        }
    }

  private:
    const char* name_;
    Backward backward_;
    Second second_;
};

}  // namespace detail

/// Records an op: `value` is its result, `needs_grad` whether any input wants a gradient, and
/// `backward(tape&, upstream)` adds the op's vector-Jacobian product into its inputs' gradients.
/// `second`, when given, is its second-order rule (see detail::op_node).
template <class T, class Backward, class Second = detail::no_second_order>
var<T> record_op(tape& t, const char* name, tensor<T> value, bool needs_grad, Backward&& backward,
                 Second second = {}) {
    auto& n = t.make<detail::op_node<T, std::remove_cvref_t<Backward>, Second>>(
        name, std::forward<Backward>(backward), std::move(second));
    n.value = std::move(value);
    n.requires_grad = needs_grad && !no_grad_guard::active();
    t.check_anomaly(n);
    return var<T>(t, n);
}

/// The second-order rule of an op linear in its inputs, from the tangent of its value:
/// `tangent(tape&)` applies the op to its inputs' tangents (empty when they are all zero).
template <class Tangent>
detail::linear_rule<Tangent> linear_op(Tangent tangent) {
    return {std::move(tangent)};
}

/// The second-order rule of an op linear in its one input x: `f(tape&, dx)` applies the op to
/// x's tangent dx (the value's tangent is zero when x's is).
template <class T, class F>
auto linear_in(const var<T>& x, F f) {
    return linear_op([x, f = std::move(f)](tape& t) {
        return x.node().has_tangent() ? f(t, x.node().tangent) : tensor<T>();
    });
}

/// The tangent of v's value along an HVP's direction; empty when zero.
template <class T>
const tensor<T>& tangent_of(const var<T>& v) noexcept {
    return v.node().tangent;
}

/// Adds `g` (an expression or scalar, broadcast onto it) into the gradient of `v`, if v wants
/// one. One fused pass; the first contribution is written rather than added to zeros.
template <class T, class G>
void accumulate_grad(tape& t, const var<T>& v, const G& g) {
    if (!v.requires_grad()) return;
    auto& n = v.node();
    if (!n.has_grad()) {
        if constexpr (std::is_arithmetic_v<G>)
            n.grad_for_overwrite(t).fill(static_cast<T>(g));
        else
            n.grad_for_overwrite(t).assign(g);
    } else {
        tensor<T>& acc = n.grad_accumulator(t);
        acc.assign(acc + g);
    }
}

}  // namespace dendrite::inline DENDRITE_TARGET
