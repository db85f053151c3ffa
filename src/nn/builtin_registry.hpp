#pragma once
// The built-in entries of layer_registry<T>. The kinds whose layers take activations instantiate
// one fused layer per built-in activation (each with its own GEMM epilogue): the heaviest code of
// the library, so each such kind and value type is compiled in a unit of its own
// (fused_<kind>_<type>.cpp), and the units build in parallel.

#include "dendrite/nn/registry.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

namespace detail {
extern template struct kind_builders<dense_kind, float>;
extern template struct kind_builders<dense_kind, double>;
extern template struct kind_builders<conv2d_kind, float>;
extern template struct kind_builders<conv2d_kind, double>;
}  // namespace detail

template <class T>
const layer_registry<T>& layer_registry<T>::builtin() {
    static const layer_registry registry = [] {
        layer_registry r;
        r.add_builtin_kinds();
        r.add_builtin_activations();
        return r;
    }();
    return registry;
}

}  // namespace dendrite::inline DENDRITE_TARGET::nn
