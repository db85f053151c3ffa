#pragma once
// layer_registry<T>::add_builtin_activations, instantiated by builtin_activations_<type>.cpp.

#include "builtin_registry.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

template <class T>
void layer_registry<T>::add_builtin_activations() {
    // The kinds' own builders fuse the built-in activations, so these need not.
    std::apply([&](const auto&... a) { (add_activation(a, false), ...); }, builtin_activations());
}

}  // namespace dendrite::inline DENDRITE_TARGET::nn
