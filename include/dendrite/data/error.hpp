#pragma once
// The one exception type of the data readers.

#include <stdexcept>

#include "dendrite/config.hpp"

namespace dendrite::inline DENDRITE_TARGET {

/// Thrown when a data file cannot be read or its contents are wrong. The message starts with the
/// file's path and says what is wrong and where: "train-images-idx3-ubyte.gz: truncated at byte
/// 1200 (of expected 47040016)", "iris.csv: line 17: expected 5 fields, found 4".
class data_error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

}  // namespace dendrite::inline DENDRITE_TARGET
