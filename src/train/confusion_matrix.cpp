#include "dendrite/train/confusion_matrix.hpp"
#include "dendrite/config.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

#include "dendrite/simd/simd.hpp"

namespace dendrite::inline DENDRITE_TARGET::train {

namespace {

template <class T>
std::size_t count_correct_rows(const tensor<T>& scores, std::span<const std::int32_t> labels) {
    const std::size_t n = labels.size();
    if (scores.rank() != 2 || scores.dim(0) != n)
        throw shape_error("count_correct: scores of shape " + scores.shape().str() + " for " +
                          std::to_string(n) + " labels");
    const std::size_t classes = scores.dim(1);
    std::size_t correct = 0, i = 0;
    // Column indices are held in T lanes: exact below 2^24 (float).
    if (scores.is_contiguous() && classes > 0 && classes < (std::size_t{1} << 24)) {
        using B = simd::batch<T>;
        constexpr std::size_t W = simd::width<T>;
        const auto stride = static_cast<std::ptrdiff_t>(classes);
        const B one(T(1)), zero(T(0));
        alignas(simd::alignment) T truth[W];
        for (; i + W <= n; i += W) {
            const T* rows = scores.data() + i * classes;
            B best = simd::load_strided(rows, stride), arg(T(0));
            for (std::size_t k = 1; k < classes; ++k) {
                const B v = simd::load_strided(rows + k, stride);
                const auto greater = v > best;
                best = simd::select(greater, v, best);
                arg = simd::select(greater, B(static_cast<T>(k)), arg);
            }
            for (std::size_t l = 0; l < W; ++l)
                truth[l] = static_cast<T>(labels[i + l]);
            correct += static_cast<std::size_t>(
                simd::hsum(simd::select(arg == simd::load_aligned(truth), one, zero)));
        }
    }
    for (; i < n; ++i) {
        std::size_t best = 0;
        for (std::size_t k = 1; k < classes; ++k)
            if (scores(i, k) > scores(i, best)) best = k;
        correct += best == static_cast<std::size_t>(labels[i]);
    }
    return correct;
}

}  // namespace

std::size_t count_correct(const tensor<float>& scores, std::span<const std::int32_t> labels) {
    return count_correct_rows(scores, labels);
}

std::size_t count_correct(const tensor<double>& scores, std::span<const std::int32_t> labels) {
    return count_correct_rows(scores, labels);
}

void confusion_matrix::add(std::size_t truth, std::size_t predicted) {
    if (truth >= classes_ || predicted >= classes_)
        throw std::out_of_range("confusion_matrix: class " +
                                std::to_string(std::max(truth, predicted)) + " outside [0, " +
                                std::to_string(classes_) + ")");
    ++counts_[truth * classes_ + predicted];
}

std::size_t confusion_matrix::total() const noexcept {
    std::size_t n = 0;
    for (std::size_t c : counts_)
        n += c;
    return n;
}

std::size_t confusion_matrix::correct() const noexcept {
    std::size_t n = 0;
    for (std::size_t c = 0; c < classes_; ++c)
        n += counts_[c * classes_ + c];
    return n;
}

double confusion_matrix::accuracy() const noexcept {
    const std::size_t n = total();
    return n ? static_cast<double>(correct()) / static_cast<double>(n)
             : std::numeric_limits<double>::quiet_NaN();
}

double confusion_matrix::recall(std::size_t c) const {
    std::size_t row = 0;
    for (std::size_t p = 0; p < classes_; ++p)
        row += count(c, p);
    return row ? static_cast<double>(count(c, c)) / static_cast<double>(row)
               : std::numeric_limits<double>::quiet_NaN();
}

double confusion_matrix::precision(std::size_t c) const {
    std::size_t column = 0;
    for (std::size_t t = 0; t < classes_; ++t)
        column += count(t, c);
    return column ? static_cast<double>(count(c, c)) / static_cast<double>(column)
                  : std::numeric_limits<double>::quiet_NaN();
}

void confusion_matrix::reset() noexcept {
    std::fill(counts_.begin(), counts_.end(), 0);
}

std::string confusion_matrix::str(const std::vector<std::string>& names) const {
    std::size_t label_width = 5;
    for (std::size_t c = 0; c < classes_; ++c)
        label_width =
            std::max(label_width, c < names.size() ? names[c].size() : std::to_string(c).size());
    std::size_t cell = 5;
    for (std::size_t v : counts_)
        cell = std::max(cell, std::to_string(v).size() + 1);

    std::string out =
        std::string(label_width, ' ') + " predicted:\n" + std::string(label_width, ' ');
    char buf[64];
    for (std::size_t p = 0; p < classes_; ++p) {
        std::snprintf(buf, sizeof buf, "%*zu", static_cast<int>(cell), p);
        out += buf;
    }
    out += "  recall\n";
    for (std::size_t t = 0; t < classes_; ++t) {
        const std::string label = t < names.size() ? names[t] : std::to_string(t);
        out += label + std::string(label_width - label.size(), ' ');
        for (std::size_t p = 0; p < classes_; ++p) {
            std::snprintf(buf, sizeof buf, "%*zu", static_cast<int>(cell), count(t, p));
            out += buf;
        }
        std::snprintf(buf, sizeof buf, "  %.3f\n", recall(t));
        out += buf;
    }
    return out;
}

}  // namespace dendrite::inline DENDRITE_TARGET::train
