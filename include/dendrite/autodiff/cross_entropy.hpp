#pragma once
// Softmax cross-entropy from logits and integer labels: the loss of classification, fused and
// numerically stable.

#include <cmath>
#include <concepts>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "dendrite/autodiff/op_node.hpp"
#include "dendrite/config.hpp"
#include "dendrite/expr/reduce.hpp"

namespace dendrite::inline DENDRITE_TARGET {

/// What softmax_cross_entropy can be asked besides logits and labels.
struct cross_entropy_options {
    /// eps in [0, 1): the target is (1 - eps) onehot(label) + eps / classes.
    double label_smoothing = 0;
    /// Rows whose label equals this add no loss and no gradient, and the mean runs over the
    /// other rows only (the padding of sequences; PyTorch's ignore_index).
    std::optional<std::int64_t> ignore_index = std::nullopt;
};

namespace detail {

/// Copies class labels into a tape buffer (so the recorded op never refers to the caller's
/// memory), checking each lies in [0, classes); a label equal to *ignore is stored as -1.
/// Throws std::out_of_range naming `what`.
template <class L>
tensor<std::int64_t> copy_labels(tape& t, std::span<const L> labels, std::size_t classes,
                                 const char* what, const std::int64_t* ignore = nullptr) {
    tensor<std::int64_t> out = t.acquire_value<std::int64_t>(shape{labels.size()});
    for (std::size_t i = 0; i < labels.size(); ++i) {
        const auto label = static_cast<std::int64_t>(labels[i]);
        if (ignore && label == *ignore) {
            out.data()[i] = -1;
            continue;
        }
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

/// check_batch for logits [batch, classes] or a sequence's [batch, time, classes], with one
/// label per row (batch, or batch x time).
inline void check_rows(const shape& s, std::size_t labels, const char* what) {
    if (s.rank() != 2 && s.rank() != 3)
        throw shape_error(std::string(what) +
                          ": input must be [batch, classes] or [batch, time, classes], got " +
                          s.str());
    const std::size_t rows = s.rank() == 2 ? s[0] : s[0] * s[1];
    if (labels != rows)
        throw shape_error(std::string(what) + ": " + std::to_string(labels) + " labels for " +
                          s.str() + " logits (" + std::to_string(rows) + " rows)");
}

/// The second-order rule of softmax_cross_entropy. With p the softmax of a row, t its target
/// and s = g / counted (the rows not ignored): dL = (1 / counted) sum (p - t) . dx, and the
/// gradient s (p - t) has the tangent ds (p - t) + s p (dx - p . dx). Ignored rows add nothing.
template <class T>
struct softmax_cross_entropy_rule {
    var<T> x;
    tensor<T> probs;
    tensor<std::int64_t> labels;
    std::size_t rows, classes;
    T counted, on, spread;

    tensor<T> tangent(tape& t) const {
        if (!x.node().has_tangent()) return {};
        const T* dx = tangent_of(x).data();
        const T* p = probs.data();
        double total = 0;
        for (std::size_t i = 0; i < rows; ++i) {
            if (labels.data()[i] < 0) continue;
            for (std::size_t c = 0; c < classes; ++c)
                total += static_cast<double>((p[i * classes + c] - spread) * dx[i * classes + c]);
            total -= static_cast<double>(on * dx[i * classes + label(i)]);
        }
        tensor<T> d = t.acquire_value<T>(shape{});
        d.data()[0] = static_cast<T>(total / static_cast<double>(counted));
        return d;
    }
    void backward_tangent(tape& t, const tensor<T>& g, const tensor<T>* dg) const {
        const bool has_dx = x.node().has_tangent();
        if (!x.requires_grad() || (dg == nullptr && !has_dx)) return;
        const T s = g.item() / counted;
        const T ds = dg ? dg->item() / counted : T(0);
        const T* dx = has_dx ? tangent_of(x).data() : nullptr;
        const T* p = probs.data();
        T* out = x.node().grad_tangent_accumulator(t).data();
        for (std::size_t i = 0; i < rows; ++i) {
            if (labels.data()[i] < 0) continue;
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
                                const cross_entropy_options& options) {
    check_rows(x.shape(), labels.size(), "softmax_cross_entropy");
    const double eps = options.label_smoothing;
    if (!(eps >= 0 && eps < 1))
        throw std::invalid_argument("softmax_cross_entropy: label_smoothing " +
                                    std::to_string(eps) + " is outside [0, 1)");
    const std::size_t classes = x.shape()[x.shape().rank() - 1];
    const std::size_t rows = labels.size();
    tape& t = x.tape();
    const tensor<std::int64_t> label_copy =
        copy_labels(t, labels, classes, "softmax_cross_entropy",
                    options.ignore_index ? &*options.ignore_index : nullptr);
    const T on = static_cast<T>(1 - eps);
    const T spread = static_cast<T>(eps / static_cast<double>(classes));
    tensor<T> probs = t.acquire_value<T>(shape{rows, classes});
    const tensor<T> logits = x.value().reshape(shape{rows, classes});
    double total = 0;
    std::size_t counted = 0;
    for (std::size_t i = 0; i < rows; ++i) {
        tensor<T> p = probs[i];
        if (label_copy.data()[i] < 0) {
            // Ignored: p - spread, the row's gradient, is then zero.
            p.fill(spread);
            continue;
        }
        const tensor<T> row = logits[i];
        const T m = amax(row);
        p.assign(exp(row - m));
        const T z = sum(p);
        p.assign(p * (T(1) / z));
        const auto label = static_cast<std::size_t>(label_copy.data()[i]);
        double loss = static_cast<double>(m + std::log(z)) - static_cast<double>(on * row(label));
        if (spread != T(0)) loss -= static_cast<double>(spread * sum(row));
        total += loss;
        ++counted;
    }
    // With every row ignored the loss is 0 and so is its gradient (PyTorch gives NaN).
    const T divisor = static_cast<T>(counted == 0 ? 1 : counted);
    tensor<T> out = t.acquire_value<T>(shape{});
    out.data()[0] = static_cast<T>(total / static_cast<double>(divisor));
    return record_op(
        t, "softmax_cross_entropy", out, x.requires_grad(),
        [x, probs, label_copy, rows, classes, divisor, on, spread](tape& tp, const tensor<T>& g) {
            const T scale = g.item() / divisor;
            accumulate_grad(tp, x, (probs.reshape(x.shape()) - spread) * scale);
            T* dx = x.node().grad_accumulator(tp).data();
            for (std::size_t i = 0; i < rows; ++i)
                if (label_copy.data()[i] >= 0)
                    dx[i * classes + static_cast<std::size_t>(label_copy.data()[i])] -= on * scale;
        },
        softmax_cross_entropy_rule<T>{x, probs, label_copy, rows, classes, divisor, on, spread});
}

extern template var<float> softmax_cross_entropy_of<float, std::int32_t>(
    const var<float>&, std::span<const std::int32_t>, const cross_entropy_options&);
extern template var<double> softmax_cross_entropy_of<double, std::int32_t>(
    const var<double>&, std::span<const std::int32_t>, const cross_entropy_options&);

}  // namespace detail

/// Mean over the rows of the cross-entropy between softmax(logits) and the target distribution
/// t = (1 - eps) onehot(label) + eps / classes, eps = options.label_smoothing in [0, 1) (0: plain
/// -log softmax(logits)[i, labels[i]]). Logits are [batch, classes] with one label per sample,
/// or a sequence's [batch, time, classes] with batch x time labels in row-major order. Rows
/// labelled options.ignore_index are left out of the loss, the mean and the gradient.
///
/// Computed as logsumexp(row) - sum(t * row) (never exp of a large logit). The softmax is kept
/// for backward, where d logits = (softmax - t) / rows: one pass, no Jacobian. The labels are
/// copied into a tape buffer. Throws if a label is outside [0, classes) or the counts differ.
/// Cost: three reads of the logits forward, one pass backward.
template <class E, class L>
requires differentiable<E> && std::integral<L>
auto softmax_cross_entropy(const E& e, std::span<const L> labels,
                           const cross_entropy_options& options) {
    return detail::softmax_cross_entropy_of(as_var(e), labels, options);
}
template <class E, class L>
requires differentiable<E> && std::integral<L>
auto softmax_cross_entropy(const E& e, std::span<const L> labels, double label_smoothing = 0) {
    return softmax_cross_entropy(e, labels, cross_entropy_options{label_smoothing});
}

/// softmax_cross_entropy with labels in a vector.
template <class E, class L>
requires differentiable<E> && std::integral<L>
auto softmax_cross_entropy(const E& e, const std::vector<L>& labels, double label_smoothing = 0) {
    return softmax_cross_entropy(e, std::span<const L>(labels), label_smoothing);
}
template <class E, class L>
requires differentiable<E> && std::integral<L>
auto softmax_cross_entropy(const E& e, const std::vector<L>& labels,
                           const cross_entropy_options& options) {
    return softmax_cross_entropy(e, std::span<const L>(labels), options);
}

/// softmax_cross_entropy with labels in an integer tensor of any shape ([batch], [batch, time]).
template <class E, class L>
requires differentiable<E> && std::integral<L>
auto softmax_cross_entropy(const E& e, const tensor<L>& labels, double label_smoothing = 0) {
    return softmax_cross_entropy(e, std::span<const L>(labels.span()), label_smoothing);
}
template <class E, class L>
requires differentiable<E> && std::integral<L>
auto softmax_cross_entropy(const E& e, const tensor<L>& labels,
                           const cross_entropy_options& options) {
    return softmax_cross_entropy(e, std::span<const L>(labels.span()), options);
}

}  // namespace dendrite::inline DENDRITE_TARGET
