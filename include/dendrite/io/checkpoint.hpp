#pragma once
// Model parameters saved to and restored from safetensors files, by name.

#include <algorithm>
#include <filesystem>
#include <span>
#include <string>
#include <utility>

#include "dendrite/config.hpp"
#include "dendrite/io/safetensors.hpp"
#include "dendrite/nn/parameter.hpp"

namespace dendrite::inline DENDRITE_TARGET::io {

/// Saves each parameter's value under its name, with `metadata`, atomically. Names must be unique
/// and non-empty. Throws io_error.
template <class T>
void save_parameters(const std::filesystem::path& path, const nn::parameter_list<T>& params,
                     const metadata_map& metadata = {}) {
    named_tensors tensors;
    tensors.reserve(params.size());
    for (const auto& p : params)
        tensors.emplace_back(p.name, p.value);
    save_safetensors(path, tensors, metadata);
}

/// Copies the tensors of `path` into the parameters of the same names, in place (the layers see
/// the new values). Every parameter must be present with its exact shape and element type; tensors
/// the list does not name are ignored. Nothing is modified unless all parameters match.
/// Returns the file's metadata. Throws io_error naming the file and the parameter.
template <class T>
metadata_map load_parameters(const std::filesystem::path& path, nn::parameter_list<T>& params) {
    safetensors_file file = load_safetensors(path);
    const std::string where = path.string() + ": parameter '";
    for (const auto& p : params) {
        const any_tensor* t = file.find(p.name);
        if (!t) throw io_error(where + p.name + "' is not in the file");
        const auto* typed = std::get_if<tensor<T>>(t);
        if (!typed)
            throw io_error(where + p.name + "' has dtype " + std::string(dtype_name(*t)) +
                           " in the file, " + std::string(dtype_name(any_tensor(p.value))) +
                           " in the model");
        if (!(typed->shape() == p.value.shape()))
            throw io_error(where + p.name + "' has shape " + typed->shape().str() +
                           " in the file, " + p.value.shape().str() + " in the model");
    }
    for (auto& p : params) {
        const std::span<const T> src = std::get<tensor<T>>(*file.find(p.name)).span();
        std::copy(src.begin(), src.end(), p.value.span().begin());
    }
    return std::move(file.metadata);
}

}  // namespace dendrite::inline DENDRITE_TARGET::io
