#pragma once
// Named tensors in the safetensors format (https://github.com/huggingface/safetensors), which
// PyTorch, NumPy and JAX tooling read.
//
// Layout: an 8-byte little-endian header length N; N bytes of UTF-8 JSON
//   {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
//    "__metadata__": {"key": "value"}}
// padded with spaces so that the data starts at a multiple of 8; then the tensors' raw
// little-endian bytes, row-major, each at [begin, end) relative to the start of the data.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "dendrite/config.hpp"
#include "dendrite/io/error.hpp"
#include "dendrite/tensor/tensor.hpp"

namespace dendrite::inline DENDRITE_TARGET::io {

/// A tensor of one of the element types checkpoints hold: F32, F64, I32, I64.
using any_tensor =
    std::variant<tensor<float>, tensor<double>, tensor<std::int32_t>, tensor<std::int64_t>>;
/// Tensors with their names, in order.
using named_tensors = std::vector<std::pair<std::string, any_tensor>>;
/// Free-form string metadata ("__metadata__" in the header).
using metadata_map = std::map<std::string, std::string>;

/// "F32", "F64", "I32" or "I64".
std::string_view dtype_name(const any_tensor& t) noexcept;

/// Writes `tensors` (any rank 0-4, strided views included) and `metadata` to `path`, atomically
/// (see atomic_file): the file at `path` is the old one or the complete new one. Names must be
/// unique, non-empty and not "__metadata__". Throws io_error naming the file (and the tensor).
/// Cost: one pass over the data; strided views are copied one at a time.
void save_safetensors(const std::filesystem::path& path, const named_tensors& tensors,
                      const metadata_map& metadata = {});

/// The contents of a safetensors file.
struct safetensors_file {
    /// The tensors in the order of their data in the file.
    named_tensors tensors;
    metadata_map metadata;

    /// The tensor called `name`, or nullptr.
    const any_tensor* find(std::string_view name) const noexcept;
    /// The tensor called `name` as a tensor<T>; throws io_error when it is missing or has another
    /// element type.
    template <class T>
    const tensor<T>& get(std::string_view name) const {
        const any_tensor* t = find(name);
        if (!t) throw io_error("safetensors: no tensor named '" + std::string(name) + "'");
        if (const auto* p = std::get_if<tensor<T>>(t)) return *p;
        throw io_error("safetensors: tensor '" + std::string(name) + "' has dtype " +
                       std::string(dtype_name(*t)));
    }
};

/// Reads a safetensors file written by any conforming writer. Checks, naming the file and the
/// tensor: the header length against the file size, well-formed JSON, supported dtypes (F32, F64,
/// I32, I64; others such as F16 or BF16 are refused by name), shapes of rank <= 4, offsets inside
/// the data section, no two tensors overlapping (gaps are accepted), and end - begin ==
/// product(shape) * dtype size.
/// Throws io_error. Cost: reads the file once.
safetensors_file load_safetensors(const std::filesystem::path& path);

}  // namespace dendrite::inline DENDRITE_TARGET::io
