#pragma once
// The one exception type of the writers and checkpoint readers.

#include <stdexcept>

#include "dendrite/config.hpp"

namespace dendrite::inline DENDRITE_TARGET {

/// Thrown when a file cannot be written or a checkpoint cannot be read. The message starts with the
/// file's path and, for checkpoints, names the tensor at fault: "model.safetensors: tensor
/// 'dense_1.weight': data_offsets [0, 400] hold 400 bytes but F32 [10, 20] needs 800".
class io_error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

}  // namespace dendrite::inline DENDRITE_TARGET
