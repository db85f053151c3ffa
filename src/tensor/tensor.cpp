// tensor<T> for the element types of data sets, labels and networks.
#include "dendrite/tensor/tensor.hpp"

#include "dendrite/config.hpp"

namespace dendrite::inline DENDRITE_TARGET {

template class tensor<float>;
template class tensor<double>;
template class tensor<std::int32_t>;
template class tensor<std::int64_t>;

}  // namespace dendrite::inline DENDRITE_TARGET
