#pragma once
// The data the examples and the command-line trainer use: an MNIST-format directory when there is
// one, else generated digits.

#include <cstdint>
#include <string>
#include <vector>

#include "dendrite/config.hpp"
#include "dendrite/data/dataset.hpp"

namespace dendrite::inline DENDRITE_TARGET::data {

/// Training and test sets, where they came from, and the class names when known.
struct train_test_data {
    dataset train, test;
    std::string description;
    std::vector<std::string> class_names;
};

/// Reads the MNIST-format directory `dir`; with `dir` empty, Debian's Fashion-MNIST when
/// installed, else synthetic_digits (20000 training and 4000 test images from `seed`), saying
/// which in `description`. Throws data_error for a directory that is given but unreadable.
train_test_data mnist_or_synthetic(const std::string& dir, std::uint64_t seed);

}  // namespace dendrite::inline DENDRITE_TARGET::data
