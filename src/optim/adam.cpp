// optim::adam (and through it adamw) for float and double.
#include "dendrite/optim/adam.hpp"

#include "dendrite/config.hpp"

namespace dendrite::inline DENDRITE_TARGET::optim {

template class adam<float>;
template class adam<double>;

}  // namespace dendrite::inline DENDRITE_TARGET::optim
