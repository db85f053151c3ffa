#pragma once
// What an element-wise expression over vars offers besides being an expression: the read-only
// interface of a var, so that `auto loss = cross_entropy + 0.01f * l2; loss.backward();` works as
// if `loss` had been declared var<float>.

#include <cstddef>

#include "dendrite/config.hpp"
#include "dendrite/tensor/tensor.hpp"

namespace dendrite::inline DENDRITE_TARGET {
template <class T>
class var;  // autodiff/var.hpp: an expression over vars exists only where it is complete
}  // namespace dendrite::inline DENDRITE_TARGET

namespace dendrite::inline DENDRITE_TARGET::expr {

/// Whether an expression node has var leaves, and so is recorded on a tape. Lane leaves have
/// gradients too (local derivatives are derived through them) but belong to no tape.
template <class E>
concept over_vars = requires { requires E::over_vars; };

/// The base of the expression nodes: nothing for expressions of tensors; for an expression over
/// vars (OverVars), what a var<T> offers to read (value, item, size, grad, requires_grad, tape,
/// backward, detach). The first of these records the expression as one fused tape node, exactly as
/// converting it to var<T> does, and keeps that node: value() then backward() record once.
template <class Derived, class T, bool OverVars>
class var_interface {};

template <class Derived, class T>
class var_interface<Derived, T, true> {
  public:
    /// The var this expression is recorded as (recorded now if it was not yet).
    const dendrite::var<T>& recorded() const {
        if (!recorded_.valid()) recorded_ = dendrite::var<T>(static_cast<const Derived&>(*this));
        return recorded_;
    }

    const tensor<T>& value() const { return recorded().value(); }
    T item() const { return recorded().item(); }
    std::size_t size() const { return recorded().size(); }
    const tensor<T>& grad() const { return recorded().grad(); }
    bool requires_grad() const { return recorded().requires_grad(); }
    auto& tape() const { return recorded().tape(); }
    dendrite::var<T> detach() const { return recorded().detach(); }
    /// Reverse sweep from this scalar expression (seed 1), as var::backward.
    void backward(bool retain_graph = false) const { recorded().backward(retain_graph); }
    /// Reverse sweep seeded with `seed` (this expression's shape), as var::backward.
    void backward(const tensor<T>& seed, bool retain_graph = false) const {
        recorded().backward(seed, retain_graph);
    }

  private:
    mutable dendrite::var<T> recorded_{};
};

}  // namespace dendrite::inline DENDRITE_TARGET::expr
