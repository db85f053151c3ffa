// The built-in kinds of layer_registry<float> (see builtin_registry.hpp).
#include "builtin_kinds.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

template void layer_registry<float>::add_builtin_kinds();

}  // namespace dendrite::inline DENDRITE_TARGET::nn
