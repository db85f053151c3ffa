// The built-in activations of layer_registry<double> as layers of their own (see
// builtin_registry.hpp).
#include "builtin_activations.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

template void layer_registry<double>::add_builtin_activations();

}  // namespace dendrite::inline DENDRITE_TARGET::nn
