// The optimizers' per-parameter state buffers for float and double.
#include "dendrite/optim/detail/state.hpp"

#include "dendrite/config.hpp"

namespace dendrite::inline DENDRITE_TARGET::optim::detail {

template class slot_buffers<float>;
template class slot_buffers<double>;

}  // namespace dendrite::inline DENDRITE_TARGET::optim::detail
