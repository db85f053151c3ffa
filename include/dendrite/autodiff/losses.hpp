#pragma once
// Loss functions of variables. The element-wise ones are fused expressions followed by a mean,
// so their derivatives are derived, never hand-written.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "dendrite/autodiff/cross_entropy.hpp"
#include "dendrite/autodiff/op_node.hpp"
#include "dendrite/autodiff/reductions.hpp"
#include "dendrite/autodiff/softmax.hpp"
#include "dendrite/config.hpp"

namespace dendrite::inline DENDRITE_TARGET {

/// Mean over the batch of -sum_c targets[i, c] * log_softmax(logits)[i, c]; logits and targets
/// [batch, classes], each target row a distribution (one-hot or soft). Built from log_softmax
/// (stable) and a fused product + sum, so the gradient (softmax - targets) / batch for rows
/// summing to 1 is derived. Cost: about four passes over the logits each way.
template <differentiable E>
auto softmax_cross_entropy(const E& e, const tensor<expr::value_type_of<E>>& targets) {
    const auto x = as_var(e);
    using T = typename decltype(x)::value_type;
    if (x.shape().rank() != 2 || !(targets.shape() == x.shape()))
        throw shape_error("softmax_cross_entropy: logits " + x.shape().str() + " and targets " +
                          targets.shape().str() + " must both be [batch, classes]");
    const T scale = T(-1) / static_cast<T>(x.shape()[0]);
    return sum(targets * log_softmax(x, 1) * scale);
}

/// mean(log(1 + exp(x)) - x * y) over all elements: binary cross-entropy of sigmoid(logits)
/// against targets y in [0, 1] (any expression broadcasting onto the logits). Written with
/// softplus, which is max(x, 0) + log1p(exp(-|x|)) and whose derivative is sigmoid(x): stable for
/// any logit, and the derived gradient (sigmoid(x) - y) / n is exact at x = 0 too.
template <differentiable E, class Y>
requires expression<Y>
auto binary_cross_entropy_with_logits(const E& logits, const Y& targets) {
    return mean(softplus(logits) - logits * targets);
}

/// mean((pred - target)^2) over all elements; target any expression broadcasting onto pred.
template <differentiable E, class Y>
requires expression<Y>
auto mse_loss(const E& pred, const Y& target) {
    return mean(square(pred - target));
}

/// mean(|pred - target|) over all elements; the derived subgradient is 0 where they are equal.
template <differentiable E, class Y>
requires expression<Y>
auto l1_loss(const E& pred, const Y& target) {
    return mean(abs(pred - target));
}

/// Huber's loss, mean over all elements of 0.5 d^2 where |d| <= delta, else delta (|d| - 0.5
/// delta), d = pred - target: quadratic near 0, linear (robust to outliers) beyond delta. Derived
/// gradient d / n inside, delta sign(d) / n outside, continuous at |d| = delta.
template <differentiable E, class Y>
requires expression<Y>
auto huber_loss(const E& pred, const Y& target, double delta = 1.0) {
    const auto d = pred - target;
    return mean(where(abs(d) <= delta, 0.5 * square(d), delta * (abs(d) - 0.5 * delta)));
}

/// -mean_i log_probs[i, labels[i]]: the negative log-likelihood of log-probabilities
/// [batch, classes] (log_softmax's output). Backward: d log_probs[i, labels[i]] -= g / batch.
/// The labels are copied into a tape buffer.
template <class E, class L>
requires differentiable<E> && std::integral<L>
auto nll_loss(const E& e, std::span<const L> labels) {
    const auto x = as_var(e);
    using T = typename decltype(x)::value_type;
    detail::check_batch(x.shape(), labels.size(), "nll_loss");
    const std::size_t batch = x.shape()[0], classes = x.shape()[1];
    tape& t = x.tape();
    const tensor<std::int64_t> label_copy = detail::copy_labels(t, labels, classes, "nll_loss");
    double total = 0;
    for (std::size_t i = 0; i < batch; ++i)
        total -= static_cast<double>(
            x.value().data()[i * classes + static_cast<std::size_t>(label_copy.data()[i])]);
    tensor<T> out = t.acquire_value<T>(shape{});
    out.data()[0] = static_cast<T>(total / static_cast<double>(batch));
    return record_op(
        t, "nll_loss", out, x.requires_grad(),
        [x, label_copy, batch, classes](tape& tp, const tensor<T>& g) {
            const T scale = g.item() / static_cast<T>(batch);
            T* dx = x.node().grad_accumulator(tp).data();
            for (std::size_t i = 0; i < batch; ++i)
                dx[i * classes + static_cast<std::size_t>(label_copy.data()[i])] -= scale;
        },
        linear_in(x, [label_copy, batch, classes](tape& tp, const tensor<T>& dx) {
            double sum = 0;
            for (std::size_t i = 0; i < batch; ++i)
                sum -= static_cast<double>(
                    dx.data()[i * classes + static_cast<std::size_t>(label_copy.data()[i])]);
            tensor<T> d = tp.acquire_value<T>(shape{});
            d.data()[0] = static_cast<T>(sum / static_cast<double>(batch));
            return d;
        }));
}
template <class E, class L>
requires differentiable<E> && std::integral<L>
auto nll_loss(const E& e, const std::vector<L>& labels) {
    return nll_loss(e, std::span<const L>(labels));
}
template <class E, class L>
requires differentiable<E> && std::integral<L>
auto nll_loss(const E& e, const tensor<L>& labels) {
    return nll_loss(e, std::span<const L>(labels.span()));
}

}  // namespace dendrite::inline DENDRITE_TARGET
