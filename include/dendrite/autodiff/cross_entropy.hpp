#pragma once
// Softmax cross-entropy from logits and integer labels: the loss of classification, fused and
// numerically stable.

#include <cmath>
#include <concepts>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "dendrite/autodiff/op_node.hpp"
#include "dendrite/config.hpp"
#include "dendrite/expr/reduce.hpp"

namespace dendrite::inline DENDRITE_TARGET {

namespace detail {

/// Copies class labels into a tape buffer (so the recorded op never refers to the caller's
/// memory), checking each lies in [0, classes). Throws std::out_of_range naming `what`.
template <class L>
tensor<std::int64_t> copy_labels(tape& t, std::span<const L> labels, std::size_t classes,
                                 const char* what) {
    tensor<std::int64_t> out = t.acquire_value<std::int64_t>(shape{labels.size()});
    for (std::size_t i = 0; i < labels.size(); ++i) {
        const auto label = static_cast<std::int64_t>(labels[i]);
        if (label < 0 || static_cast<std::size_t>(label) >= classes)
            throw std::out_of_range(std::string(what) + ": label " + std::to_string(labels[i]) +
                                    " at batch index " + std::to_string(i) + " is outside [0, " +
                                    std::to_string(classes) + ")");
        out.data()[i] = label;
    }
    return out;
}

inline void check_batch(const shape& s, std::size_t labels, const char* what) {
    if (s.rank() != 2)
        throw shape_error(std::string(what) + ": input must be [batch, classes], got " + s.str());
    if (labels != s[0])
        throw shape_error(std::string(what) + ": " + std::to_string(labels) +
                          " labels for a batch of " + std::to_string(s[0]));
}

/// The second-order rule of softmax_cross_entropy. With p the softmax of a row, t its target
/// and s = g / batch: dL = mean (p - t) . dx, and the gradient s (p - t) has the tangent
/// ds (p - t) + s p (dx - p . dx) (the softmax's Jacobian applied to dx).
template <class T>
struct softmax_cross_entropy_rule {
    var<T> x;
    tensor<T> probs;
    tensor<std::int64_t> labels;
    std::size_t batch, classes;
    T on, spread;

    tensor<T> tangent(tape& t) const {
        if (!x.node().has_tangent()) return {};
        const T* dx = tangent_of(x).data();
        const T* p = probs.data();
        double total = 0;
        for (std::size_t i = 0; i < batch; ++i) {
            for (std::size_t c = 0; c < classes; ++c)
                total += static_cast<double>((p[i * classes + c] - spread) * dx[i * classes + c]);
            total -= static_cast<double>(on * dx[i * classes + label(i)]);
        }
        tensor<T> d = t.acquire_value<T>(shape{});
        d.data()[0] = static_cast<T>(total / static_cast<double>(batch));
        return d;
    }
    void backward_tangent(tape& t, const tensor<T>& g, const tensor<T>* dg) const {
        const bool has_dx = x.node().has_tangent();
        if (!x.requires_grad() || (dg == nullptr && !has_dx)) return;
        const T s = g.item() / static_cast<T>(batch);
        const T ds = dg ? dg->item() / static_cast<T>(batch) : T(0);
        const T* dx = has_dx ? tangent_of(x).data() : nullptr;
        const T* p = probs.data();
        T* out = x.node().grad_tangent_accumulator(t).data();
        for (std::size_t i = 0; i < batch; ++i) {
            const T* pi = p + i * classes;
            const T* dxi = has_dx ? dx + i * classes : nullptr;
            T* oi = out + i * classes;
            T pdx = 0;
            if (has_dx)
                for (std::size_t c = 0; c < classes; ++c)
                    pdx += pi[c] * dxi[c];
            for (std::size_t c = 0; c < classes; ++c)
                oi[c] += ds * (pi[c] - spread) + (has_dx ? s * pi[c] * (dxi[c] - pdx) : T(0));
            oi[label(i)] -= ds * on;
        }
    }
    std::size_t label(std::size_t i) const { return static_cast<std::size_t>(labels.data()[i]); }
};

/// softmax_cross_entropy of a var, compiled once for float and double with 32-bit labels
/// (src/autodiff/cross_entropy.cpp), the labels of data sets and of fit.
template <class T, class L>
var<T> softmax_cross_entropy_of(const var<T>& x, std::span<const L> labels,
                                double label_smoothing) {
    check_batch(x.shape(), labels.size(), "softmax_cross_entropy");
    if (!(label_smoothing >= 0 && label_smoothing < 1))
        throw std::invalid_argument("softmax_cross_entropy: label_smoothing " +
                                    std::to_string(label_smoothing) + " is outside [0, 1)");
    const std::size_t batch = x.shape()[0], classes = x.shape()[1];
    tape& t = x.tape();
    const tensor<std::int64_t> label_copy =
        copy_labels(t, labels, classes, "softmax_cross_entropy");
    const T on = static_cast<T>(1 - label_smoothing);
    const T spread = static_cast<T>(label_smoothing / static_cast<double>(classes));
    tensor<T> probs = t.acquire_value<T>(x.shape());
    const tensor<T>& logits = x.value();
    double total = 0;
    for (std::size_t i = 0; i < batch; ++i) {
        const tensor<T> row = logits[i];
        const T m = amax(row);
        tensor<T> p = probs[i];
        p.assign(exp(row - m));
        const T z = sum(p);
        p.assign(p * (T(1) / z));
        const auto label = static_cast<std::size_t>(label_copy.data()[i]);
        double loss = static_cast<double>(m + std::log(z)) - static_cast<double>(on * row(label));
        if (spread != T(0)) loss -= static_cast<double>(spread * sum(row));
        total += loss;
    }
    tensor<T> out = t.acquire_value<T>(shape{});
    out.data()[0] = static_cast<T>(total / static_cast<double>(batch));
    return record_op(
        t, "softmax_cross_entropy", out, x.requires_grad(),
        [x, probs, label_copy, batch, classes, on, spread](tape& tp, const tensor<T>& g) {
            const T scale = g.item() / static_cast<T>(batch);
            accumulate_grad(tp, x, (probs - spread) * scale);
            T* dx = x.node().grad_accumulator(tp).data();
            for (std::size_t i = 0; i < batch; ++i)
                dx[i * classes + static_cast<std::size_t>(label_copy.data()[i])] -= on * scale;
        },
        softmax_cross_entropy_rule<T>{x, probs, label_copy, batch, classes, on, spread});
}

extern template var<float> softmax_cross_entropy_of<float, std::int32_t>(
    const var<float>&, std::span<const std::int32_t>, double);
extern template var<double> softmax_cross_entropy_of<double, std::int32_t>(
    const var<double>&, std::span<const std::int32_t>, double);

}  // namespace detail

/// Mean over the batch of the cross-entropy between softmax(logits) and the target distribution
/// t = (1 - eps) onehot(labels) + eps / classes; logits [batch, classes], eps = label_smoothing
/// in [0, 1) (0: plain -log softmax(logits)[i, labels[i]]).
///
/// Computed as logsumexp(row) - sum(t * row) (never exp of a large logit). The softmax is kept
/// for backward, where d logits = (softmax - t) / batch: one pass, no Jacobian. The labels are
/// copied into a tape buffer. Throws if a label is outside [0, classes) or the counts differ.
/// Cost: three reads of the logits forward, one pass backward.
template <class E, class L>
requires differentiable<E> && std::integral<L>
auto softmax_cross_entropy(const E& e, std::span<const L> labels, double label_smoothing = 0) {
    return detail::softmax_cross_entropy_of(as_var(e), labels, label_smoothing);
}

/// softmax_cross_entropy with labels in a vector.
template <class E, class L>
requires differentiable<E> && std::integral<L>
auto softmax_cross_entropy(const E& e, const std::vector<L>& labels, double label_smoothing = 0) {
    return softmax_cross_entropy(e, std::span<const L>(labels), label_smoothing);
}

/// softmax_cross_entropy with labels in a 1-d integer tensor.
template <class E, class L>
requires differentiable<E> && std::integral<L>
auto softmax_cross_entropy(const E& e, const tensor<L>& labels, double label_smoothing = 0) {
    return softmax_cross_entropy(e, std::span<const L>(labels.span()), label_smoothing);
}

}  // namespace dendrite::inline DENDRITE_TARGET
