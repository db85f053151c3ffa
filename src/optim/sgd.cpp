// optim::sgd for float and double.
#include "dendrite/optim/sgd.hpp"

#include "dendrite/config.hpp"

namespace dendrite::inline DENDRITE_TARGET::optim {

template class sgd<float>;
template class sgd<double>;

}  // namespace dendrite::inline DENDRITE_TARGET::optim
