// The plain products and the micro-kernels are compiled once here; every other translation unit
// sees them as extern templates and skips instantiating the packing routines and the kernels.

#include "dendrite/linalg/gemm.hpp"
#include "dendrite/config.hpp"

namespace dendrite::inline DENDRITE_TARGET::linalg {

namespace detail {
template const kernel_fn<float>* kernel_table<float>() noexcept;
template const kernel_fn<double>* kernel_table<double>() noexcept;
}  // namespace detail

template void gemm<float>(trans, trans, std::size_t, std::size_t, std::size_t, float, const float*,
                          std::size_t, const float*, std::size_t, float, float*, std::size_t);
template void gemm<double>(trans, trans, std::size_t, std::size_t, std::size_t, double,
                           const double*, std::size_t, const double*, std::size_t, double, double*,
                           std::size_t);

}  // namespace dendrite::inline DENDRITE_TARGET::linalg
