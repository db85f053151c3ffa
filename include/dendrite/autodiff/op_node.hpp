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

/// A node whose gradient step is `backward(tape&, const tensor<T>& upstream)`.
template <class T, class Backward>
class op_node final : public typed_node<T> {
  public:
    op_node(const char* name, Backward b) : name_(name), backward_(std::move(b)) {}
    void backward(tape& t) override {
        if (this->has_grad()) backward_(t, this->grad());
    }
    std::string name() const override { return name_; }

  private:
    const char* name_;
    Backward backward_;
};

}  // namespace detail

/// Records an op: `value` is its result, `needs_grad` whether any input wants a gradient, and
/// `backward(tape&, upstream)` adds the op's vector-Jacobian product into its inputs' gradients.
template <class T, class Backward>
var<T> record_op(tape& t, const char* name, tensor<T> value, bool needs_grad, Backward&& backward) {
    auto& n = t.make<detail::op_node<T, std::remove_cvref_t<Backward>>>(
        name, std::forward<Backward>(backward));
    n.value = std::move(value);
    n.requires_grad = needs_grad && !no_grad_guard::active();
    t.check_anomaly(n);
    return var<T>(t, n);
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
