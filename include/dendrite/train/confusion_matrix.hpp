#pragma once
// Confusion matrices and the accuracy of a classifier.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "dendrite/config.hpp"
#include "dendrite/tensor/tensor.hpp"

namespace dendrite::inline DENDRITE_TARGET::train {

/// The number of rows i of `scores` [n, classes] whose prediction is labels[i] (n labels). A
/// row's prediction is the first column holding its largest entry; NaN entries never win, and a
/// row that starts with NaN predicts column 0 (a left-to-right scan keeping an entry strictly
/// greater than the best so far, as confusion_matrix::add). Throws shape_error unless scores is
/// [labels.size(), classes].
///
/// Cost O(n classes): SIMD across rows, 16 rows at a time for float (8 for double), each column
/// read with a strided load; the remaining rows one by one.
std::size_t count_correct(const tensor<float>& scores, std::span<const std::int32_t> labels);
std::size_t count_correct(const tensor<double>& scores, std::span<const std::int32_t> labels);

/// counts[truth][predicted] over the examples seen so far.
class confusion_matrix {
  public:
    explicit confusion_matrix(std::size_t classes = 0)
        : classes_(classes), counts_(classes * classes, 0) {}

    /// Adds one example; throws std::out_of_range for a class outside [0, classes).
    void add(std::size_t truth, std::size_t predicted);

    /// Adds a batch: the prediction of row i of `scores` [batch, classes] is its largest entry.
    template <class T>
    void add(std::span<const std::int32_t> labels, const tensor<T>& scores) {
        const std::size_t n = labels.size(), c = scores.rank() == 2 ? scores.dim(1) : 0;
        if (scores.rank() != 2 || scores.dim(0) != n || c != classes_)
            throw shape_error("confusion_matrix: scores of shape " + scores.shape().str() +
                              " for " + std::to_string(n) + " labels and " +
                              std::to_string(classes_) + " classes");
        for (std::size_t i = 0; i < n; ++i) {
            std::size_t best = 0;
            for (std::size_t k = 1; k < c; ++k)
                if (scores(i, k) > scores(i, best)) best = k;
            add(static_cast<std::size_t>(labels[i]), best);
        }
    }

    std::size_t classes() const noexcept { return classes_; }
    std::size_t count(std::size_t truth, std::size_t predicted) const {
        return counts_.at(truth * classes_ + predicted);
    }
    std::size_t total() const noexcept;
    std::size_t correct() const noexcept;
    /// Fraction of examples on the diagonal (NaN when empty).
    double accuracy() const noexcept;
    /// Of the examples of class c, the fraction predicted c.
    double recall(std::size_t c) const;
    /// Of the examples predicted c, the fraction truly c.
    double precision(std::size_t c) const;
    void reset() noexcept;

    /// A table with one row per true class, columns per predicted class, and recall per row;
    /// `names` label the rows when given.
    std::string str(const std::vector<std::string>& names = {}) const;

  private:
    std::size_t classes_;
    std::vector<std::size_t> counts_;
};

}  // namespace dendrite::inline DENDRITE_TARGET::train
