#pragma once
// Softmax cross-entropy from logits: the loss of classification, fused and numerically stable.

#include <cstdint>
#include <span>
#include <string>

#include "dendrite/autodiff/op_node.hpp"
#include "dendrite/expr/reduce.hpp"

namespace dendrite {

/// Mean over the batch of -log softmax(logits)[i, labels[i]]; logits [batch, classes].
///
/// Computed as logsumexp(row) - row[label] (never exp of a large logit). The softmax is kept
/// for backward, where d logits = (softmax - onehot(labels)) / batch: one pass, no Jacobian.
/// Throws if a label is outside [0, classes) or the counts differ.
template <class E, class L>
    requires differentiable<E> && std::integral<L>
auto softmax_cross_entropy(const E& e, std::span<const L> labels) {
    const auto x = as_var(e);
    using T = typename decltype(x)::value_type;
    if (x.shape().rank() != 2)
        throw shape_error("softmax_cross_entropy: logits must be [batch, classes], got " + x.shape().str());
    const std::size_t batch = x.shape()[0], classes = x.shape()[1];
    if (labels.size() != batch)
        throw shape_error("softmax_cross_entropy: " + std::to_string(labels.size()) + " labels for a batch of " +
                          std::to_string(batch));
    tape& t = x.tape();
    tensor<T> probs = t.acquire_value<T>(x.shape());
    const tensor<T>& logits = x.value();
    double total = 0;
    for (std::size_t i = 0; i < batch; ++i) {
        const L label = labels[i];
        if (label < 0 || static_cast<std::size_t>(label) >= classes)
            throw std::out_of_range("softmax_cross_entropy: label " + std::to_string(label) + " at batch index " +
                                    std::to_string(i) + " is outside [0, " + std::to_string(classes) + ")");
        const tensor<T> row = logits[i];
        const T m = amax(row);
        tensor<T> p = probs[i];
        p.assign(exp(row - m));
        const T z = sum(p);
        p.assign(p * (T(1) / z));
        total += static_cast<double>(m + std::log(z) - row(static_cast<std::size_t>(label)));
    }
    tensor<T> out = t.acquire_value<T>(shape{});
    out.data()[0] = static_cast<T>(total / static_cast<double>(batch));
    return record_op(t, "softmax_cross_entropy", out, x.requires_grad(),
                     [x, probs, labels, batch, classes](tape& tp, const tensor<T>& g) {
                         if (!x.requires_grad()) return;
                         const T scale = g.item() / static_cast<T>(batch);
                         tensor<T>& dx = x.node().grad_accumulator(tp);
                         dx.assign(dx + probs * scale);
                         for (std::size_t i = 0; i < batch; ++i)
                             dx.data()[i * classes + static_cast<std::size_t>(labels[i])] -= scale;
                     });
}

template <class E, class L>
    requires differentiable<E> && std::integral<L>
auto softmax_cross_entropy(const E& e, const std::vector<L>& labels) {
    return softmax_cross_entropy(e, std::span<const L>(labels));
}

}  // namespace dendrite
