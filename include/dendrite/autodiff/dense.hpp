#pragma once
// A dense layer with its activation, fused into the GEMM, forward and backward.

#include <string>
#include <type_traits>

#include "dendrite/autodiff/op_node.hpp"
#include "dendrite/config.hpp"
#include "dendrite/expr/derive.hpp"
#include "dendrite/expr/taylor.hpp"
#include "dendrite/linalg/fused.hpp"
#include "dendrite/linalg/gemm.hpp"
#include "dendrite/simd/jet.hpp"
#include "dendrite/simd/loop.hpp"

namespace dendrite::inline DENDRITE_TARGET {

/// The identity activation (a dense layer without one).
struct identity_activation {
    template <class X>
    X operator()(const X& x) const {
        return x;
    }
};

namespace detail {

/// dY = act'(Z) dZ over n elements: the tangent of a layer's output from its pre-activation's.
template <class T, class Act>
void activation_tangent(const Act& act, const T* z, const T* dz, T* dy, std::size_t n) {
    simd::for_lanes<T>(0, n, [&]<class X>(std::size_t j) {
        const X slope = value_and_derivative(act, simd::load_lanes<X>(z + j)).second;
        simd::store_lanes(dy + j, slope * simd::load_lanes<X>(dz + j));
    });
}

/// Into gz and dgz, over n elements: the pre-activation's gradient gZ = gY act'(Z) and its
/// tangent dgZ = dgY act'(Z) + gY act''(Z) dZ (dgY, dZ null when zero). act' and act'' come from
/// one forward evaluation on second-order series (expr/taylor.hpp), far less code to compile
/// than differentiating act' in reverse on jets.
template <class T, class Act>
void activation_gradient_tangent(const Act& act, const T* z, const T* dz, const T* gy, const T* dgy,
                                 T* gz, T* dgz, std::size_t n) {
    simd::for_lanes<T>(0, n, [&]<class X>(std::size_t j) {
        const X zero(T(0));
        const auto d = value_and_derivatives<2>(act, simd::load_lanes<X>(z + j));
        const X g = simd::load_lanes<X>(gy + j);
        const X dg = dgy ? simd::load_lanes<X>(dgy + j) : zero;
        const X dzv = dz ? simd::load_lanes<X>(dz + j) : zero;
        simd::store_lanes(gz + j, g * d[1]);
        simd::store_lanes(dgz + j, dg * d[1] + g * d[2] * dzv);
    });
}

/// Second order of Y = act(Z), Z = X W + b. Forward: dZ = dX W + X dW + db, dY = act'(Z) dZ.
/// Reverse, with gZ = gY act'(Z) and its tangent dgZ = dgY act'(Z) + gY act''(Z) dZ (one pass): the
/// tangents of dW = X^T gZ, db = colsum gZ and dX = gZ W^T, each a product of two factors that both
/// move: X^T dgZ + dX^T gZ, colsum dgZ, dgZ W^T + gZ dW^T.
template <class T, class Act>
struct dense_rule {
    var<T> x, w, b;
    tensor<T> z;
    [[no_unique_address]] Act act;
    std::size_t batch, in, out;
    tensor<T> dz = {};  // Z's tangent, kept by tangent() for backward_tangent()

    static constexpr bool linear = std::is_same_v<Act, identity_activation>;

    tensor<T> tangent(tape& t) {
        using linalg::trans;
        const bool has_dx = x.node().has_tangent(), has_dw = w.node().has_tangent(),
                   has_db = b.node().has_tangent();
        dz = tensor<T>();
        if (!has_dx && !has_dw && !has_db) return {};
        dz = t.acquire_value<T>(shape{batch, out});
        T beta = 0;
        if (has_dx) {
            linalg::gemm<T>(trans::no, trans::no, batch, out, in, T(1), tangent_of(x).data(), in,
                            w.value().data(), out, beta, dz.data(), out);
            beta = 1;
        }
        if (has_dw) {
            linalg::gemm<T>(trans::no, trans::no, batch, out, in, T(1), x.value().data(), in,
                            tangent_of(w).data(), out, beta, dz.data(), out);
            beta = 1;
        }
        if (beta == T(0)) dz.fill(T(0));
        if (has_db) dz.assign(dz + tangent_of(b));
        if constexpr (linear) {
            return dz;
        } else {
            tensor<T> dy = t.acquire_value<T>(shape{batch, out});
            activation_tangent(act, z.data(), dz.data(), dy.data(), batch * out);
            return dy;
        }
    }

    void add_column_sums(const tensor<T>& dgz, T* tb) const {
        for (std::size_t i = 0; i < batch; ++i)
            for (std::size_t j = 0; j < out; ++j)
                tb[j] += dgz.data()[i * out + j];
    }

    void backward_tangent(tape& t, const tensor<T>& g, const tensor<T>* dg) {
        using linalg::trans;
        const bool has_dz = dz.data() != nullptr;
        if (dg == nullptr && !has_dz) return;
        // gZ (needed with a moving weight or input) and dgZ, in one pass.
        tensor<T> gz = t.acquire_value<T>(shape{batch, out});
        tensor<T> dgz = t.acquire_value<T>(shape{batch, out});
        activation_gradient_tangent(act, z.data(), has_dz ? dz.data() : nullptr, g.data(),
                                    dg ? dg->data() : nullptr, gz.data(), dgz.data(), batch * out);
        const T* dx = x.node().has_tangent() ? tangent_of(x).data() : nullptr;
        const T* dw = w.node().has_tangent() ? tangent_of(w).data() : nullptr;
        T* tw = w.requires_grad() ? w.node().grad_tangent_accumulator(t).data() : nullptr;
        T* tb = b.requires_grad() ? b.node().grad_tangent_accumulator(t).data() : nullptr;
        T* tx = x.requires_grad() ? x.node().grad_tangent_accumulator(t).data() : nullptr;
        // Through the values, the first-order backward with dgZ for dZ: tW += X^T dgZ,
        // tb += column sums of dgZ (taken while packing), tX += dgZ W^T.
        if (tw) {
            const auto as_is = [](auto d, auto) { return d; };
            linalg::dense_backward<T>(batch, in, out, x.value().data(), in, w.value().data(), out,
                                      dgz.data(), out, dgz.data(), out, as_is, tw, out, tb, tx, in,
                                      T(1), T(1));
        } else {
            if (tb) add_column_sums(dgz, tb);
            if (tx)
                linalg::gemm<T>(trans::no, trans::yes, batch, in, out, T(1), dgz.data(), out,
                                w.value().data(), out, T(1), tx, in);
        }
        // Through the tangents of the inputs: tW += dX^T gZ, tX += gZ dW^T.
        if (tw && dx)
            linalg::gemm<T>(trans::yes, trans::no, in, out, batch, T(1), dx, in, gz.data(), out,
                            T(1), tw, out);
        if (tx && dw)
            linalg::gemm<T>(trans::no, trans::yes, batch, in, out, T(1), gz.data(), out, dw, out,
                            T(1), tx, in);
    }
};

}  // namespace detail

/// Y = act(X W + b): X [batch, in], W [in, out], b [out], act any element-wise function written
/// with dendrite's functions (a built-in or a user's lambda).
///
/// Forward is ONE GEMM whose epilogue adds the bias and applies act while each tile is still in
/// registers, also keeping Z = X W + b for the backward pass. Backward is two GEMMs reading
/// dZ = dY * act'(Z), with act' derived at compile time from act (expr/derive.hpp), formed while
/// the operand is packed; db is the column sums of dZ, taken in the same pass.
/// Cost: 2 batch in out flops forward, 4 backward (2 when X needs no gradient).
template <class EX, class T, class Act = identity_activation>
requires(differentiable<EX>) var<T> dense(const EX& ex, const var<T>& w, const var<T>& b,
                                          Act act = {}) {
    const auto x = as_var(ex);
    static_assert(std::is_same_v<typename decltype(x)::value_type, T>,
                  "dense: input and weights differ in value type");
    const shape& xs = x.shape();
    const shape& ws = w.shape();
    if (xs.rank() != 2 || ws.rank() != 2 || xs[1] != ws[0] || b.shape().rank() != 1 ||
        b.shape()[0] != ws[1])
        throw shape_error("dense: input " + xs.str() + ", weights " + ws.str() + " and bias " +
                          b.shape().str() + " do not form [batch, in] x [in, out] + [out]");
    tape& t = x.tape();
    const std::size_t batch = xs[0], in = xs[1], out = ws[1];
    tensor<T> y = t.acquire_value<T>(shape{batch, out});
    tensor<T> z = t.acquire_value<T>(shape{batch, out});
    T* zp = z.data();
    const T* bias = b.value().data();
    linalg::gemm<T>(linalg::trans::no, linalg::trans::no, batch, out, in, T(1), x.value().data(),
                    in, w.value().data(), out, T(0), y.data(), out,
                    [=](auto v, std::size_t i, std::size_t j, auto... n) {
                        using X = decltype(v);
                        const X pre = v + linalg::lanes<X>(bias + j, n...);
                        linalg::store_lanes(zp + i * out + j, pre, n...);
                        return expr::apply_lanes(act, pre);
                    });
    const bool needs = x.requires_grad() || w.requires_grad() || b.requires_grad();
    return record_op(
        t, "dense", y, needs,
        [=](tape& tp, const tensor<T>& g) {
            const auto dz = [act](auto dy, auto pre) {
                return dy * value_and_derivative(act, pre).second;
            };
            T* dw = w.node().grad_accumulator(tp).data();
            T* db = b.node().grad_accumulator(tp).data();
            T* dx = x.requires_grad() ? x.node().grad_accumulator(tp).data() : nullptr;
            linalg::dense_backward<T>(batch, in, out, x.value().data(), in, w.value().data(), out,
                                      g.data(), out, z.data(), out, dz, dw, out, db, dx, in, T(1),
                                      T(1));
        },
        detail::dense_rule<T, Act>{x, w, b, z, act, batch, in, out});
}

}  // namespace dendrite::inline DENDRITE_TARGET
