#pragma once
// Readers for the IDX format of MNIST and its relatives (Fashion-MNIST, KMNIST, EMNIST), raw or
// gzip-compressed.
//
// An IDX file is a big-endian header, then the data: bytes 0-1 are zero, byte 2 the element type
// (0x08 = unsigned byte, the only type these readers accept), byte 3 the number of dimensions d,
// then d 32-bit extents, then prod(extents) elements in row-major order. Image files have d = 3
// (magic 0x00000803: [n, rows, cols]); label files d = 1 (magic 0x00000801: [n]).
//
// Files whose first two bytes are the gzip magic (1f 8b) are decompressed while reading, whatever
// their name; a file named *.gz that is not gzip is an error. A file must hold exactly the bytes
// its header announces: a short file or trailing bytes are errors, never a silently short set.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <vector>

#include "dendrite/config.hpp"
#include "dendrite/data/dataset.hpp"
#include "dendrite/data/error.hpp"
#include "dendrite/tensor/tensor.hpp"

namespace dendrite::inline DENDRITE_TARGET::data {

/// Reads an IDX image file (magic 0x00000803) into floats in [0, 1] (byte / 255).
/// Cost: one pass over the file; memory: the result plus a 64 KiB buffer.
/// Throws data_error naming the file on: a file that cannot be opened, an empty file, a bad magic
/// number (found vs expected), a corrupt or truncated gzip stream, a file shorter than its header
/// announces ("truncated at byte N (of expected M)") or longer than it.
tensor<float> read_idx_images(const std::filesystem::path& path,
                              image_layout layout = image_layout::flat);

/// Reads an IDX label file (magic 0x00000801). Every label must be below `classes`; the first that
/// is not gives a data_error naming the file, the index and the value. Errors otherwise as for
/// read_idx_images.
std::vector<std::int32_t> read_idx_labels(const std::filesystem::path& path,
                                          std::size_t classes = 10);

}  // namespace dendrite::inline DENDRITE_TARGET::data
