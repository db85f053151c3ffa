// optim::adagrad for float and double.
#include "dendrite/optim/adagrad.hpp"

#include "dendrite/config.hpp"

namespace dendrite::inline DENDRITE_TARGET::optim {

template class adagrad<float>;
template class adagrad<double>;

}  // namespace dendrite::inline DENDRITE_TARGET::optim
