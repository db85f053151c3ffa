#pragma once
// Matrix products of variables, through the packed GEMM: two matrices, or batches of them
// (operands of rank 2 to 4 whose leading axes broadcast, as numpy's matmul).

#include <algorithm>
#include <string>

#include "dendrite/autodiff/op_node.hpp"
#include "dendrite/config.hpp"
#include "dendrite/linalg/gemm.hpp"
#include "dendrite/simd/parallel.hpp"

namespace dendrite::inline DENDRITE_TARGET {

namespace detail {

/// One product C = op(A) op(B): m x k times k x n, with A's and B's row lengths.
struct matmul_geometry {
    bool transpose_a, transpose_b;
    std::size_t m, n, k, lda, ldb;
};

/// The products of a batch: product i (row-major over at most two broadcast leading axes) reads
/// A's matrix at a_offset(i) and B's at b_offset(i), writes C's matrix i. An operand whose
/// leading axis has extent 1 where the batch's is larger is read by several products: shared.
struct matmul_batch {
    std::size_t count = 1;
    std::size_t inner = 1;  // extent of the second leading axis
    std::size_t a_step[2] = {0, 0}, b_step[2] = {0, 0};
    bool a_shared = false, b_shared = false;

    std::size_t a_offset(std::size_t i) const noexcept {
        return i / inner * a_step[0] + i % inner * a_step[1];
    }
    std::size_t b_offset(std::size_t i) const noexcept {
        return i / inner * b_step[0] + i % inner * b_step[1];
    }
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

/// Calls body(i) for every product of the batch: on threads when `independent` (no two write
/// the same memory), else in order. Each product's GEMM then runs on its caller's thread.
template <class Body>
void for_each_product(const matmul_batch& bt, bool independent, Body&& body) {
    auto range = [&](std::size_t b, std::size_t e) {
        for (std::size_t i = b; i < e; ++i)
            body(i);
    };
    if (independent && bt.count > 1)
        simd::parallel_for(bt.count, 1, 2, range);
    else
        range(0, bt.count);
}

/// C_i = op(A_i) op(B_i) + beta C_i for every product of the batch.
template <class T>
void batched_product(const matmul_geometry& geo, const matmul_batch& bt, const T* A, const T* B,
                     T beta, T* C) {
    using linalg::trans;
    const trans ta = geo.transpose_a ? trans::yes : trans::no;
    const trans tb = geo.transpose_b ? trans::yes : trans::no;
    for_each_product(bt, true, [&](std::size_t i) {
        linalg::gemm<T>(ta, tb, geo.m, geo.n, geo.k, T(1), A + bt.a_offset(i), geo.lda,
                        B + bt.b_offset(i), geo.ldb, beta, C + i * geo.m * geo.n, geo.n);
    });
}

/// matmul_vjp over the batch. A shared operand's gradient sums the products that read it, one
/// after another; the other runs on threads. A (or B) may be null when dB (or dA) is.
template <class T>
void batched_vjp(const matmul_geometry& geo, const matmul_batch& bt, const T* A, const T* B,
                 const T* g, T* dA, T* dB) {
    const std::size_t c_size = geo.m * geo.n;
    if (dA)
        for_each_product(bt, !bt.a_shared, [&](std::size_t i) {
            matmul_vjp<T>(geo, nullptr, B + bt.b_offset(i), g + i * c_size, dA + bt.a_offset(i),
                          nullptr);
        });
    if (dB)
        for_each_product(bt, !bt.b_shared, [&](std::size_t i) {
            matmul_vjp<T>(geo, A + bt.a_offset(i), nullptr, g + i * c_size, nullptr,
                          dB + bt.b_offset(i));
        });
}

/// Second order of C = op(A) op(B), bilinear: dC = op(dA) op(B) + op(A) op(dB); the gradients'
/// tangents are the VJP at dg, plus the VJP at g with the operands' tangents in place of the
/// operands (g op(dB)^T into A's, op(dA)^T g into B's).
template <class T>
struct matmul_rule {
    var<T> a, b;
    matmul_geometry geo;
    matmul_batch bt;
    shape out;

    tensor<T> tangent(tape& t) const {
        const bool da = a.node().has_tangent(), db = b.node().has_tangent();
        if (!da && !db) return {};
        tensor<T> d = t.acquire_value<T>(out);
        T beta = 0;
        if (da) {
            batched_product<T>(geo, bt, tangent_of(a).data(), b.value().data(), beta, d.data());
            beta = 1;
        }
        if (db) batched_product<T>(geo, bt, a.value().data(), tangent_of(b).data(), beta, d.data());
        return d;
    }
    void backward_tangent(tape& t, const tensor<T>& g, const tensor<T>* dg) const {
        T* ta = a.requires_grad() ? a.node().grad_tangent_accumulator(t).data() : nullptr;
        T* tb = b.requires_grad() ? b.node().grad_tangent_accumulator(t).data() : nullptr;
        if (dg) batched_vjp<T>(geo, bt, a.value().data(), b.value().data(), dg->data(), ta, tb);
        const T* da = a.node().has_tangent() ? tangent_of(a).data() : nullptr;
        const T* db = b.node().has_tangent() ? tangent_of(b).data() : nullptr;
        batched_vjp<T>(geo, bt, da, db, g.data(), db ? ta : nullptr, da ? tb : nullptr);
    }
};

/// The geometry, batch and result shape of matmul(a, b): shapes [..., m, k] (or [..., k, m]
/// transposed) and [..., k, n], leading axes broadcast. Throws shape_error naming both shapes.
struct matmul_plan {
    matmul_geometry geo;
    matmul_batch bt;
    shape out;
};
matmul_plan plan_matmul(const shape& a, const shape& b, bool transpose_a, bool transpose_b);

}  // namespace detail

/// C = op(A) op(B), op transposing the last two axes when asked. A and B have rank 2 to 4: their
/// last two axes are the matrices ([m, k] x [k, n]) and their leading axes are batches that
/// broadcast as in numpy ([B, H, T, d] x [B, H, d, T], [B, T, D] x [D, E], [H, 1, T, d] x [1, B,
/// d, T]). A right operand without batch axes is folded into one product ([B T, D] x [D, E]);
/// otherwise the batch's products run on threads, each on the packed GEMM.
/// Backward: dA += dC op(B)^T (laid out as A), dB += op(A)^T dC, summed over the products that
/// share an operand. Cost: 2mnk flops per product forward, twice that backward.
template <class EA, class EB>
requires(differentiable<EA> || differentiable<EB>) auto matmul(const EA& ea, const EB& eb,
                                                               bool transpose_a = false,
                                                               bool transpose_b = false) {
    const auto a = as_var(ea);
    const auto b = as_var(eb);
    using T = typename decltype(a)::value_type;
    const detail::matmul_plan p =
        detail::plan_matmul(a.shape(), b.shape(), transpose_a, transpose_b);
    if (&a.tape() != &b.tape()) throw autodiff_error("matmul: operands come from different tapes");
    tape& t = a.tape();
    tensor<T> c = t.acquire_value<T>(p.out);
    detail::batched_product<T>(p.geo, p.bt, a.value().data(), b.value().data(), T(0), c.data());
    return record_op(
        t, "matmul", c, a.requires_grad() || b.requires_grad(),
        [a, b, geo = p.geo, bt = p.bt](tape& tp, const tensor<T>& g) {
            detail::batched_vjp<T>(
                geo, bt, a.value().data(), b.value().data(), g.data(),
                a.requires_grad() ? a.node().grad_accumulator(tp).data() : nullptr,
                b.requires_grad() ? b.node().grad_accumulator(tp).data() : nullptr);
        },
        detail::matmul_rule<T>{a, b, p.geo, p.bt, p.out});
}

}  // namespace dendrite::inline DENDRITE_TARGET
