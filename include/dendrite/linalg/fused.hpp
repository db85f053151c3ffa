#pragma once
// Products whose operand is formed on the fly while it is packed: the backward pass of a dense
// layer multiplies by dZ = dY * act'(Z) without writing dZ, and takes the bias gradient (the
// column sums of dZ) from the same pass.

#include <cstddef>

#include "dendrite/config.hpp"
#include "dendrite/linalg/detail/driver.hpp"
#include "dendrite/linalg/gemm.hpp"
#include "dendrite/linalg/operand.hpp"
#include "dendrite/linalg/trans.hpp"

namespace dendrite::inline DENDRITE_TARGET::linalg {

/// C = alpha op(A) op(B) + beta C, where B is the formula `b` (zipped: B[r][c] =
/// b.f(b.g[r][c], b.s[r][c])) evaluated once per element while it is packed.
/// `b_column_sums` (length n, or null) becomes beta * b_column_sums + the column sums of op(B)
/// (sum over the k rows of op(B)), taken in the same pass. Shapes and conventions as gemm.
/// Cost: 2mnk flops + kn evaluations of b.f.
template <class T, class F>
void gemm(trans ta, trans tb, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a,
          std::size_t lda, const zipped<T, F>& b, T beta, T* c, std::size_t ldc, T* b_column_sums) {
    detail::gemm_driver<T>(m, n, k, alpha, detail::operand<view<T>>{{a, lda}, ta == trans::yes},
                           detail::operand<zipped<T, F>>{b, tb == trans::yes}, beta, c, ldc,
                           no_epilogue{}, b_column_sums);
}

/// C = alpha op(A) op(B) + beta C, where A is the formula `a` (see zipped), evaluated while it
/// is packed: once per element when n <= 4096, else once per 4096 columns of C.
/// Cost: 2mnk flops + mk evaluations of a.f per 4096 columns.
template <class T, class F>
void gemm(trans ta, trans tb, std::size_t m, std::size_t n, std::size_t k, T alpha,
          const zipped<T, F>& a, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc) {
    detail::gemm_driver<T>(m, n, k, alpha, detail::operand<zipped<T, F>>{a, ta == trans::yes},
                           detail::operand<view<T>>{{b, ldb}, tb == trans::yes}, beta, c, ldc,
                           no_epilogue{}, static_cast<T*>(nullptr));
}

/// Backward pass of a dense layer Y = act(X W + b), X batch x in, W in x out, Y batch x out.
///
/// Given dY and the saved tensor S (Z or Y, whichever `dz` expects), with
/// dZ = dz(dY, S) element-wise (`template <class X> X operator()(X dy, X s) const`):
///   dW = X^T dZ + beta dW         (in x out)
///   db = column sums of dZ + beta db   (out)
///   dX = dZ W^T + beta_dx dX      (batch x in; skipped when dx is null, e.g. the first layer)
/// dZ is never stored: it is formed while packing the dZ operand of each product, and db is
/// taken while packing it for dW. Pass beta = 1 to accumulate into existing gradients.
/// Cost: 4 batch in out flops (2 without dx) + 2 batch out evaluations of dz.
template <class T, class Derivative>
void dense_backward(std::size_t batch, std::size_t in, std::size_t out, const T* x, std::size_t ldx,
                    const T* w, std::size_t ldw, const T* dy, std::size_t lddy, const T* saved,
                    std::size_t ldsaved, const Derivative& dz, T* dw, std::size_t lddw, T* db,
                    T* dx, std::size_t lddx, T beta = T(0), T beta_dx = T(0)) {
    const auto dzv = zip(dy, lddy, saved, ldsaved, dz);
    gemm(trans::yes, trans::no, in, out, batch, T(1), x, ldx, dzv, beta, dw, lddw, db);
    if (dx) gemm(trans::no, trans::yes, batch, in, out, T(1), dzv, w, ldw, beta_dx, dx, lddx);
}

}  // namespace dendrite::inline DENDRITE_TARGET::linalg
