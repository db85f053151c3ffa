#pragma once
// Matrix product of variables, through the packed GEMM.

#include <string>

#include "dendrite/autodiff/op_node.hpp"
#include "dendrite/config.hpp"
#include "dendrite/linalg/gemm.hpp"

namespace dendrite::inline DENDRITE_TARGET {

namespace detail {
inline void check_matrix(const shape& s, const char* which) {
    if (s.rank() != 2)
        throw shape_error(std::string("matmul: ") + which +
                          " operand must be a matrix, got shape " + s.str());
}
}  // namespace detail

/// C = op(A) op(B), op transposing when asked; A, B rank 2 with matching inner extents.
/// Backward: dA += dC op(B)^T (laid out as A), dB += op(A)^T dC. Cost: 2mnk flops forward, twice
/// that backward.
template <class EA, class EB>
requires(differentiable<EA> || differentiable<EB>) auto matmul(const EA& ea, const EB& eb,
                                                               bool transpose_a = false,
                                                               bool transpose_b = false) {
    const auto a = as_var(ea);
    const auto b = as_var(eb);
    using T = typename decltype(a)::value_type;
    detail::check_matrix(a.shape(), "left");
    detail::check_matrix(b.shape(), "right");
    const std::size_t m = transpose_a ? a.shape()[1] : a.shape()[0];
    const std::size_t k = transpose_a ? a.shape()[0] : a.shape()[1];
    const std::size_t kb = transpose_b ? b.shape()[1] : b.shape()[0];
    const std::size_t n = transpose_b ? b.shape()[0] : b.shape()[1];
    if (k != kb)
        throw shape_error("matmul: shapes " + a.shape().str() + (transpose_a ? "^T" : "") +
                          " and " + b.shape().str() + (transpose_b ? "^T" : "") +
                          " do not chain (" + std::to_string(k) + " vs " + std::to_string(kb) +
                          ")");
    if (&a.tape() != &b.tape()) throw autodiff_error("matmul: operands come from different tapes");
    tape& t = a.tape();
    using linalg::trans;
    const trans ta = transpose_a ? trans::yes : trans::no;
    const trans tb = transpose_b ? trans::yes : trans::no;
    const std::size_t lda = a.shape()[1], ldb = b.shape()[1];

    tensor<T> c = t.acquire_value<T>(shape{m, n});
    linalg::gemm<T>(ta, tb, m, n, k, T(1), a.value().data(), lda, b.value().data(), ldb, T(0),
                    c.data(), n);

    return record_op(t, "matmul", c, a.requires_grad() || b.requires_grad(),
                     [=](tape& tp, const tensor<T>& g) {
                         const T* A = a.value().data();
                         const T* B = b.value().data();
                         if (a.requires_grad()) {
                             T* dA = a.node().grad_accumulator(tp).data();
                             if (!transpose_a)  // dA (m x k) += g op(B)^T
                                 linalg::gemm<T>(trans::no, transpose_b ? trans::no : trans::yes, m,
                                                 k, n, T(1), g.data(), n, B, ldb, T(1), dA, k);
                             else  // dA (k x m) += op(B) g^T
                                 linalg::gemm<T>(tb, trans::yes, k, m, n, T(1), B, ldb, g.data(), n,
                                                 T(1), dA, m);
                         }
                         if (b.requires_grad()) {
                             T* dB = b.node().grad_accumulator(tp).data();
                             if (!transpose_b)  // dB (k x n) += op(A)^T g
                                 linalg::gemm<T>(transpose_a ? trans::no : trans::yes, trans::no, k,
                                                 n, m, T(1), A, lda, g.data(), n, T(1), dB, n);
                             else  // dB (n x k) += g^T op(A)
                                 linalg::gemm<T>(trans::yes, ta, n, k, m, T(1), g.data(), n, A, lda,
                                                 T(1), dB, k);
                         }
                     });
}

}  // namespace dendrite::inline DENDRITE_TARGET
