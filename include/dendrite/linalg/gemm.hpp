#pragma once
// Dense matrix products for layers and their gradients.
//
// All matrices are row-major views: element (r, c) of a view (p, ld) is p[r * ld + c], so a
// sub-matrix or a strided view costs nothing. Products are computed by a packed, cache-blocked
// algorithm (GotoBLAS/BLIS); a product of m x k by k x n costs 2mnk flops and packs O(mk + kn)
// elements. Whatever follows the multiply element-wise (bias, activation) rides along in the
// epilogue, and whatever precedes it (the activation derivative of a backward pass) in the
// operand transform, so neither needs its own pass over memory.

#include <cstddef>

#include "dendrite/config.hpp"
#include "dendrite/linalg/detail/driver.hpp"
#include "dendrite/linalg/operand.hpp"
#include "dendrite/linalg/trans.hpp"

namespace dendrite::inline DENDRITE_TARGET::linalg {

/// The epilogue that leaves the product unchanged.
struct no_epilogue {
    template <class X, class... N>
    DENDRITE_ALWAYS_INLINE X operator()(X v, std::size_t, std::size_t, N...) const noexcept {
        return v;
    }
};

/// C = epi(alpha op(A) op(B) + beta C), with op(A) m x k, op(B) k x n, C m x n.
///
/// lda, ldb, ldc are row strides in elements (op(A) = A^T reads A as k x m, so lda >= m then).
/// beta == 0 means C is not read (it may hold NaN). Any of m, n, k may be 0; with k == 0 (or
/// alpha == 0) A and B are not read and C = epi(beta C).
/// `epi(v, i, j)` maps the finished values of row i, columns j .. j + lanes while they are still
/// in registers: `template <class X> X operator()(X v, size_t i, size_t j) const`, called with
/// X = simd::batch<T> (columns j .. j + simd::width<T>) or X = T (column j alone, at the right
/// edge). An epilogue that also takes `(v, i, j, n)` gets the right edge as one register whose
/// first n lanes are columns j .. j + n (the rest are discarded; read through
/// `lanes<X>(p, n)` and write through `store_lanes(p, x, n)`, which touch no memory past
/// them): write it once as `(auto v, std::size_t i, std::size_t j, auto... n)`. It is called
/// exactly once per element of C, from several threads at once when the
/// product is threaded, so it must not mutate shared state unsynchronised. Cost: 2mnk flops,
/// threads per dendrite::num_threads() when the product is large enough to pay for them.
template <class T, class Epilogue>
void gemm(trans ta, trans tb, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a,
          std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc,
          const Epilogue& epi) {
    detail::gemm_driver<T>(m, n, k, alpha, detail::operand<view<T>>{{a, lda}, ta == trans::yes},
                           detail::operand<view<T>>{{b, ldb}, tb == trans::yes}, beta, c, ldc, epi,
                           static_cast<T*>(nullptr));
}

/// C = alpha op(A) op(B) + beta C; see the epilogue overload for shapes and conventions.
template <class T>
void gemm(trans ta, trans tb, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a,
          std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc) {
    gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, no_epilogue{});
}

extern template void gemm<float>(trans, trans, std::size_t, std::size_t, std::size_t, float,
                                 const float*, std::size_t, const float*, std::size_t, float,
                                 float*, std::size_t);
extern template void gemm<double>(trans, trans, std::size_t, std::size_t, std::size_t, double,
                                  const double*, std::size_t, const double*, std::size_t, double,
                                  double*, std::size_t);

}  // namespace dendrite::inline DENDRITE_TARGET::linalg
