#pragma once

namespace dendrite::linalg {

/// Whether an operand enters a product as stored (no) or transposed (yes).
enum class trans : bool { no = false, yes = true };

}  // namespace dendrite::linalg
