// The built-in kinds of layer_registry<double> (see builtin_registry.hpp).
#include "builtin_kinds.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

template void layer_registry<double>::add_builtin_kinds();

}  // namespace dendrite::inline DENDRITE_TARGET::nn
