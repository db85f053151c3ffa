#pragma once
// layer_registry<T>::add_builtin_kinds, instantiated by builtin_kinds_<type>.cpp.

#include "builtin_registry.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

template <class T>
void layer_registry<T>::add_builtin_kinds() {
    [&]<class... K>(kind_list<K...>) { (add<K>(), ...); }(builtin_layer_kinds{});
}

}  // namespace dendrite::inline DENDRITE_TARGET::nn
