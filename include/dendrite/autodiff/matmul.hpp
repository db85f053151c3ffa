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
struct matmul_geometry {
    bool transpose_a, transpose_b;
    std::size_t m, n, k, lda, ldb;
};

/// The vector-Jacobian product of C = op(A) op(B) at upstream g: dA += g op(B)^T (laid out as
/// A) when dA, dB += op(A)^T g when dB. Each product reads only the other operand, which is what
/// lets the second-order rule pass tangents in place of values.
template <class T>
void matmul_vjp(const matmul_geometry& geo, const T* A, const T* B, const T* g, T* dA, T* dB) {
    using linalg::trans;
    const auto [transpose_a, transpose_b, m, n, k, lda, ldb] = geo;
    const trans ta = transpose_a ? trans::yes : trans::no;
    const trans tb = transpose_b ? trans::yes : trans::no;
    if (dA) {
        if (!transpose_a)  // dA (m x k) += g op(B)^T
            linalg::gemm<T>(trans::no, transpose_b ? trans::no : trans::yes, m, k, n, T(1), g, n, B,
                            ldb, T(1), dA, k);
        else  // dA (k x m) += op(B) g^T
            linalg::gemm<T>(tb, trans::yes, k, m, n, T(1), B, ldb, g, n, T(1), dA, m);
    }
    if (dB) {
        if (!transpose_b)  // dB (k x n) += op(A)^T g
            linalg::gemm<T>(transpose_a ? trans::no : trans::yes, trans::no, k, n, m, T(1), A, lda,
                            g, n, T(1), dB, n);
        else  // dB (n x k) += g^T op(A)
            linalg::gemm<T>(trans::yes, ta, n, k, m, T(1), g, n, A, lda, T(1), dB, k);
    }
}

/// Second order of C = op(A) op(B), bilinear: dC = op(dA) op(B) + op(A) op(dB); the gradients'
/// tangents are the VJP at dg, plus the VJP at g with the operands' tangents in place of the
/// operands (g op(dB)^T into A's, op(dA)^T g into B's).
template <class T>
struct matmul_rule {
    var<T> a, b;
    matmul_geometry geo;

    tensor<T> tangent(tape& t) const {
        using linalg::trans;
        const bool da = a.node().has_tangent(), db = b.node().has_tangent();
        if (!da && !db) return {};
        tensor<T> d = t.acquire_value<T>(shape{geo.m, geo.n});
        const trans ta = geo.transpose_a ? trans::yes : trans::no;
        const trans tb = geo.transpose_b ? trans::yes : trans::no;
        T beta = 0;
        if (da) {
            linalg::gemm<T>(ta, tb, geo.m, geo.n, geo.k, T(1), tangent_of(a).data(), geo.lda,
                            b.value().data(), geo.ldb, beta, d.data(), geo.n);
            beta = 1;
        }
        if (db)
            linalg::gemm<T>(ta, tb, geo.m, geo.n, geo.k, T(1), a.value().data(), geo.lda,
                            tangent_of(b).data(), geo.ldb, beta, d.data(), geo.n);
        return d;
    }
    void backward_tangent(tape& t, const tensor<T>& g, const tensor<T>* dg) const {
        T* ta = a.requires_grad() ? a.node().grad_tangent_accumulator(t).data() : nullptr;
        T* tb = b.requires_grad() ? b.node().grad_tangent_accumulator(t).data() : nullptr;
        if (dg) matmul_vjp<T>(geo, a.value().data(), b.value().data(), dg->data(), ta, tb);
        const T* da = a.node().has_tangent() ? tangent_of(a).data() : nullptr;
        const T* db = b.node().has_tangent() ? tangent_of(b).data() : nullptr;
        matmul_vjp<T>(geo, da, db, g.data(), db ? ta : nullptr, da ? tb : nullptr);
    }
};

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
    const detail::matmul_geometry geo{transpose_a, transpose_b, m, n, k, lda, ldb};
    return record_op(
        t, "matmul", c, a.requires_grad() || b.requires_grad(),
        [=](tape& tp, const tensor<T>& g) {
            detail::matmul_vjp<T>(
                geo, a.value().data(), b.value().data(), g.data(),
                a.requires_grad() ? a.node().grad_accumulator(tp).data() : nullptr,
                b.requires_grad() ? b.node().grad_accumulator(tp).data() : nullptr);
        },
        detail::matmul_rule<T>{a, b, geo});
}

}  // namespace dendrite::inline DENDRITE_TARGET
