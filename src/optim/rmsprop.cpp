// optim::rmsprop for float and double.
#include "dendrite/optim/rmsprop.hpp"

#include "dendrite/config.hpp"

namespace dendrite::inline DENDRITE_TARGET::optim {

template class rmsprop<float>;
template class rmsprop<double>;

}  // namespace dendrite::inline DENDRITE_TARGET::optim
