#pragma once

#include "dendrite/config.hpp"

namespace dendrite::inline DENDRITE_TARGET::linalg {

/// Whether an operand enters a product as stored (no) or transposed (yes).
enum class trans : bool { no = false, yes = true };

}  // namespace dendrite::inline DENDRITE_TARGET::linalg
