#pragma once
// A labelled data set for classification, and its split into training and validation parts.

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "dendrite/config.hpp"
#include "dendrite/tensor/tensor.hpp"

namespace dendrite::inline DENDRITE_TARGET::data {

/// How images are laid out in a data set's x.
enum class image_layout {
    flat,      ///< [n, rows * cols]: what dense layers take
    channels,  ///< [n, 1, rows, cols]: what convolutions take
};

/// Examples along the first axis of `x` ([n, features] or [n, channels, rows, cols]) with one
/// integer label in [0, classes) per example in `y`. Copying shares `x` and copies `y`.
struct dataset {
    tensor<float> x;
    std::vector<std::int32_t> y;
    std::size_t classes = 0;
    /// Optional names of the classes (for example from a CSV label column); empty when unknown.
    std::vector<std::string> class_names = {};

    /// Number of examples.
    std::size_t size() const noexcept { return y.size(); }
    /// Elements per example: x.size() / size().
    std::size_t example_size() const noexcept {
        return x.rank() == 0 || x.dim(0) == 0 ? 0 : x.size() / x.dim(0);
    }
};

/// Checks that `ds` is consistent: x has rank >= 1 and is contiguous, x.dim(0) == y.size(), and
/// every label is in [0, classes). Throws data_error naming `what` and the first problem. O(n).
void validate(const dataset& ds, const char* what = "dataset");

/// The examples at `indices`, in that order, gathered into a new contiguous data set. O(copy).
dataset subset(const dataset& ds, const std::vector<std::size_t>& indices);

/// Splits `ds` at random into (training, validation), the validation part holding
/// round(fraction * n) examples. The same seed gives the same split. `fraction` must be in [0, 1];
/// both parts are copies (contiguous). O(n * example_size).
std::pair<dataset, dataset> train_validation_split(const dataset& ds, double fraction,
                                                   std::uint64_t seed);

}  // namespace dendrite::inline DENDRITE_TARGET::data
