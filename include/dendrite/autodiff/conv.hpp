#pragma once
// 2-d convolution with its bias and activation, fused into GEMMs, forward and backward.

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <type_traits>

#include "dendrite/autodiff/dense.hpp"
#include "dendrite/autodiff/op_node.hpp"
#include "dendrite/config.hpp"
#include "dendrite/expr/derive.hpp"
#include "dendrite/linalg/conv.hpp"
#include "dendrite/linalg/direct_conv.hpp"
#include "dendrite/linalg/gemm.hpp"
#include "dendrite/simd/loop.hpp"
#include "dendrite/simd/parallel.hpp"
#include "dendrite/simd/simd.hpp"

namespace dendrite::inline DENDRITE_TARGET {

/// Strides, zero padding, dilation and channel groups of conv2d (PyTorch's meanings). With
/// groups = g, input channels and output channels are split into g equal groups and output
/// group k sees input group k only; groups = channels = out_channels is a depthwise convolution.
struct conv2d_options {
    std::size_t stride_h = 1, stride_w = 1;
    std::size_t pad_h = 0, pad_w = 0;
    std::size_t dilation_h = 1, dilation_w = 1;
    std::size_t groups = 1;
};

namespace detail {

/// Images below which per-image work is not split over threads: each thread needs a few
/// images' worth of products to repay starting the region.
inline constexpr std::size_t conv_parallel_madds = std::size_t{1} << 18;

/// Runs body(slot, first_image, last_image) over [0, n) images split into `slots` contiguous
/// ranges, one per thread.
template <class Body>
void for_image_slots(std::size_t n, std::size_t slots, Body&& body) {
    simd::parallel_for(slots, 1, slots > 1 ? 1 : 2, [&](std::size_t s0, std::size_t s1) {
        for (std::size_t s = s0; s < s1; ++s)
            body(s, n * s / slots, n * (s + 1) / slots);
    });
}

/// Threads to spread `n` images over: one when the work is small (the GEMMs may then thread
/// on their own), else up to one per image.
inline std::size_t conv_slots(std::size_t n, std::size_t madds) {
    const auto threads = static_cast<std::size_t>(std::max(1, num_threads()));
    if (threads == 1 || n < 2 || madds < conv_parallel_madds) return 1;
    return std::min(threads, n);
}

template <class T>
void add_into(T* dst, const T* src, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
        dst[i] += src[i];
}

template <class EX, class T, class Act>
var<T> conv2d_impl(const EX& ex, const var<T>& w, const var<T>* b, const conv2d_options& o,
                   Act act);

/// Second order of Y = act(Z), Z = conv(X, W) + b, bilinear in (X, W) like dense_rule, with the
/// products formed by the convolution's own kernels on tape leaves holding the tangents:
/// dZ = conv(dX, W) + conv(X, dW) + db; in reverse, the VJP of the linear convolution at dgZ,
/// plus its VJP at gZ with (dX, dW) in place of (X, W), which yields convT(gZ, dW) for X and
/// corr(dX, gZ) for W. Each of those also runs one convolution forward that is not needed.
template <class T, class Act>
struct conv2d_rule {
    var<T> x, w, b;  // b invalid without a bias
    conv2d_options o;
    shape out_shape;
    tensor<T> z;  // empty when act is the identity
    [[no_unique_address]] Act act;
    tensor<T> dz = {};

    static constexpr bool linear = std::is_same_v<Act, identity_activation>;

    static var<T> leaf(tape& t, const tensor<T>& value, bool wants_grad) {
        auto& n = t.make<leaf_node<T>>("hvp operand");
        n.value = value;
        n.requires_grad = wants_grad;
        return var<T>(t, n);
    }
    static var<T> linear_conv(const var<T>& x, const var<T>& w, const var<T>* b,
                              const conv2d_options& o) {
        return conv2d_impl(x, w, b, o, identity_activation{});
    }

    tensor<T> tangent(tape& t) {
        const bool has_dx = x.node().has_tangent(), has_dw = w.node().has_tangent(),
                   has_db = b.valid() && b.node().has_tangent();
        dz = tensor<T>();
        if (!has_dx && !has_dw && !has_db) return {};
        no_grad_guard constants;
        if (has_dx)
            dz = linear_conv(leaf(t, tangent_of(x), false), leaf(t, w.value(), false), nullptr, o)
                     .value();
        if (has_dw) {
            const var<T> part =
                linear_conv(leaf(t, x.value(), false), leaf(t, tangent_of(w), false), nullptr, o);
            if (dz.data() == nullptr)
                dz = part.value();
            else
                dz.assign(dz + part.value());
        }
        if (dz.data() == nullptr) {
            dz = t.acquire_value<T>(out_shape);
            dz.fill(T(0));
        }
        if (has_db) dz.assign(dz + tangent_of(b).reshape(shape{tangent_of(b).size(), 1, 1}));
        if constexpr (linear) {
            return dz;
        } else {
            tensor<T> dy = t.acquire_value<T>(dz.shape());
            activation_tangent(act, z.data(), dz.data(), dy.data(), dz.size());
            return dy;
        }
    }

    void backward_tangent(tape& t, const tensor<T>& g, const tensor<T>* dg) {
        const bool has_dz = dz.data() != nullptr;
        if (dg == nullptr && !has_dz) return;
        tensor<T> gz = g, dgz;
        if constexpr (linear) {
            if (dg) dgz = *dg;
        } else {
            gz = t.acquire_value<T>(g.shape());
            dgz = t.acquire_value<T>(g.shape());
            activation_gradient_tangent(act, z.data(), has_dz ? dz.data() : nullptr, g.data(),
                                        dg ? dg->data() : nullptr, gz.data(), dgz.data(), g.size());
        }
        const auto add = [&](const var<T>& from, const var<T>& to) {
            if (!from.requires_grad() || !from.node().has_grad()) return;
            tensor<T>& acc = to.node().grad_tangent_accumulator(t);
            acc.assign(acc + from.grad());
        };
        const bool has_b = b.valid();
        if (dgz.data() != nullptr) {
            const var<T> lx = leaf(t, x.value(), x.requires_grad());
            const var<T> lw = leaf(t, w.value(), w.requires_grad());
            const var<T> lb = has_b ? leaf(t, b.value(), b.requires_grad()) : var<T>();
            run_backward(t, linear_conv(lx, lw, has_b ? &lb : nullptr, o), dgz);
            add(lx, x);
            add(lw, w);
            if (has_b) add(lb, b);
        }
        const bool has_dx = x.node().has_tangent(), has_dw = w.node().has_tangent();
        const bool into_x = has_dw && x.requires_grad(), into_w = has_dx && w.requires_grad();
        if (into_x || into_w) {
            // X's part, convT(gZ, dW), is the gradient of the leaf in X's place; W's likewise.
            const var<T> lx = leaf(t, has_dx ? tangent_of(x) : x.value(), into_x);
            const var<T> lw = leaf(t, has_dw ? tangent_of(w) : w.value(), into_w);
            run_backward(t, linear_conv(lx, lw, nullptr, o), gz);
            add(lx, x);
            add(lw, w);
        }
    }
    /// Runs only y's own backward from seed g (not the graph before it).
    static void run_backward(tape& t, const var<T>& y, const tensor<T>& g) {
        if (!y.requires_grad()) return;
        y.node().borrow_grad(g);
        y.node().backward(t);
    }
};

template <class EX, class T, class Act>
var<T> conv2d_impl(const EX& ex, const var<T>& w, const var<T>* b, const conv2d_options& o,
                   Act act) {
    const auto x = as_var(ex);
    static_assert(std::is_same_v<typename decltype(x)::value_type, T>,
                  "conv2d: input and weights differ in value type");
    const shape& xs = x.shape();
    const shape& ws = w.shape();
    const auto fail = [&](const std::string& why) {
        throw shape_error("conv2d: input " + xs.str() + " and weights " + ws.str() +
                          (b ? " and bias " + b->shape().str() : std::string()) + ": " + why);
    };
    if (xs.rank() != 4 || ws.rank() != 4)
        fail("expected input [N, C, H, W] and weights [O, C/groups, KH, KW]");
    const std::size_t groups = o.groups;
    if (groups == 0 || o.stride_h == 0 || o.stride_w == 0 || o.dilation_h == 0 || o.dilation_w == 0)
        fail("stride, dilation and groups must be >= 1");
    const std::size_t n = xs[0], c = xs[1], o_ch = ws[0];
    if (c % groups != 0 || o_ch % groups != 0)
        fail("groups (" + std::to_string(groups) + ") must divide in and out channels");
    if (ws[1] * groups != c)
        fail("weights expect " + std::to_string(ws[1] * groups) + " input channels");
    if (b && (b->shape().rank() != 1 || b->shape()[0] != o_ch))
        fail("bias must be [" + std::to_string(o_ch) + "]");
    const linalg::conv_geometry g{c / groups, xs[2],        xs[3],       ws[2],
                                  ws[3],      o.stride_h,   o.stride_w,  o.pad_h,
                                  o.pad_w,    o.dilation_h, o.dilation_w};
    const std::size_t oh = g.out_h(), ow = g.out_w();
    if (oh == 0 || ow == 0 || ws[2] == 0 || ws[3] == 0)
        fail("the kernel does not fit in the padded input");

    constexpr bool linear = std::is_same_v<Act, identity_activation>;
    tape& t = x.tape();
    const std::size_t p = oh * ow, k = g.taps(), og = o_ch / groups, cg = g.channels;
    const std::size_t plane = xs[2] * xs[3];
    const bool pointwise = g.is_pointwise();
    tensor<T> y = t.acquire_value<T>(shape{n, o_ch, oh, ow});
    tensor<T> z = linear ? tensor<T>() : t.acquire_value<T>(shape{n, o_ch, oh, ow});
    const std::size_t slots = conv_slots(n, n * o_ch * k * p);
    // Direct: the products read the image in place (no col); see linalg/direct_conv.hpp.
    const bool direct = !pointwise && linalg::use_direct_conv<T>(g);
    const bool unfolds = !pointwise && !direct;
    // Described once for the layer, forward and backward (kept in the node, not allocated).
    std::optional<linalg::direct_conv_plan<T>> plan;
    if (direct) plan.emplace(g);
    tensor<T> cols = unfolds ? t.acquire_value<T>(shape{slots, k * p}) : tensor<T>();

    const T* xp = x.value().data();
    const T* wp = w.value().data();
    const T* bias = b ? b->value().data() : nullptr;
    T* yp = y.data();
    T* zp = linear ? nullptr : z.data();
    T* colp = unfolds ? cols.data() : nullptr;
    for_image_slots(n, slots, [&](std::size_t s, std::size_t i0, std::size_t i1) {
        T* col = unfolds ? colp + s * k * p : nullptr;
        for (std::size_t i = i0; i < i1; ++i)
            for (std::size_t gr = 0; gr < groups; ++gr) {
                const T* xg = xp + (i * c + gr * cg) * plane;
                const std::size_t out0 = i * o_ch + gr * og;
                const T* bg = bias ? bias + gr * og : nullptr;
                T* zg = linear ? nullptr : zp + out0 * p;
                // Y = act(W_g col + b) with Z kept for backward, while each tile is in registers.
                const auto epilogue = [=](auto v, std::size_t r, std::size_t j, auto... tail) {
                    using X = decltype(v);
                    const X pre = bg ? v + X(bg[r]) : v;
                    if constexpr (linear) {
                        return pre;
                    } else {
                        linalg::store_lanes(zg + r * p + j, pre, tail...);
                        return expr::apply_lanes(act, pre);
                    }
                };
                if (direct) {
                    linalg::conv_direct(*plan, xg, wp + gr * og * k, og, yp + out0 * p, epilogue);
                    continue;
                }
                if (unfolds) linalg::im2col(g, xg, col);
                linalg::gemm<T>(linalg::trans::no, linalg::trans::no, og, p, k, T(1),
                                wp + gr * og * k, k, pointwise ? xg : col, p, T(0), yp + out0 * p,
                                p, epilogue);
            }
    });

    const bool has_b = b != nullptr;
    const var<T> bv = b ? *b : var<T>();
    const bool needs = x.requires_grad() || w.requires_grad() || (has_b && b->requires_grad());
    return record_op(
        t, "conv2d", y, needs,
        [=](tape& tp, const tensor<T>& gy) {
            T* dx = x.requires_grad() ? x.node().grad_accumulator(tp).data() : nullptr;
            T* dw = w.requires_grad() ? w.node().grad_accumulator(tp).data() : nullptr;
            T* db = has_b && bv.requires_grad() ? bv.node().grad_accumulator(tp).data() : nullptr;
            const std::size_t madds = n * o_ch * k * p * ((dx ? 1 : 0) + (dw ? 1 : 0));
            const std::size_t nslots = conv_slots(n, madds);
            // dW = dZ col^T reads col transposed; its K rows are padded with zeros to whole
            // register slivers so that packing transposes them in registers (a ragged edge would go
            // element by element). The padded product lands in per-thread scratch, summed at the
            // end.
            constexpr std::size_t sliver = 2 * simd::width<T>;
            const std::size_t kpad = (k + sliver - 1) / sliver * sliver;
            // Per thread: dZ of one image (when act is not the identity), col, dcol, padded dW and
            // (threads other than the first) db.
            // The direct path's dW partials are registers of lane-wise sums per weight instead.
            const std::size_t direct_partials =
                direct ? linalg::direct_weight_partials(*plan, og) : 0;
            const std::size_t dz_size = linear ? 0 : o_ch * p;
            const std::size_t col_size = dw && !direct ? kpad * p : 0;
            const std::size_t dcol_size = dx && !pointwise ? k * p : 0;
            const std::size_t dw_size = !dw ? 0 : direct ? groups * direct_partials : o_ch * kpad;
            const std::size_t db_size = db ? o_ch : 0;
            const std::size_t per_slot = dz_size + col_size + dcol_size + dw_size + db_size;
            tensor<T> scratch =
                tp.acquire_value<T>(shape{nslots, std::max<std::size_t>(per_slot, 1)});
            T* sp = scratch.data();
            const T* gyp = gy.data();
            const T* xv = x.value().data();
            const T* wv = w.value().data();
            const T* zv = linear ? nullptr : z.data();
            for_image_slots(n, nslots, [&](std::size_t s, std::size_t i0, std::size_t i1) {
                T* dzb = sp + s * per_slot;
                T* col = dzb + dz_size;
                T* dcol = col + col_size;
                T* dwp = dcol + dcol_size;
                T* dbs = db ? (s == 0 ? db : dwp + dw_size) : nullptr;
                if (dw && !direct) std::fill(col + k * p, col + col_size, T(0));
                std::fill(dwp, dwp + dw_size + (s == 0 ? 0 : db_size), T(0));
                for (std::size_t i = i0; i < i1; ++i) {
                    const T* gi = gyp + i * o_ch * p;
                    const T* dz = gi;
                    if constexpr (!linear) {
                        // dZ = dY * act'(Z), one pass; the bias gradient rides along.
                        using B = simd::batch<T>;
                        const T* zi = zv + i * o_ch * p;
                        for (std::size_t r = 0; r < o_ch; ++r) {
                            const T* gr = gi + r * p;
                            const T* zr = zi + r * p;
                            T* d = dzb + r * p;
                            B acc(T(0));
                            T tail = 0;
                            simd::for_lanes<T>(0, p, [&]<class X>(std::size_t j) {
                                const X v =
                                    simd::load_lanes<X>(gr + j) *
                                    value_and_derivative(act, simd::load_lanes<X>(zr + j)).second;
                                simd::store_lanes(d + j, v);
                                if constexpr (simd::is_batch_v<X>)
                                    acc += v;
                                else
                                    tail += v;
                            });
                            if (dbs) dbs[r] += simd::hsum(acc) + tail;
                        }
                        dz = dzb;
                    } else if (dbs) {
                        for (std::size_t r = 0; r < o_ch; ++r) {
                            T acc = 0;
                            for (std::size_t j = 0; j < p; ++j)
                                acc += gi[r * p + j];
                            dbs[r] += acc;
                        }
                    }
                    for (std::size_t gr = 0; gr < groups; ++gr) {
                        const T* xg = xv + (i * c + gr * cg) * plane;
                        const T* dzg = dz + gr * og * p;
                        if (dw && direct) {
                            linalg::direct_weight_grad(*plan, xg, dzg, og,
                                                       dwp + gr * direct_partials);
                        } else if (dw) {
                            // dW_g += dZ_g [og x p] col^T [p x kpad]: the big dimension p is the
                            // depth.
                            linalg::im2col(g, xg, col);
                            linalg::gemm<T>(linalg::trans::no, linalg::trans::yes, og, kpad, p,
                                            T(1), dzg, p, col, p, T(1), dwp + gr * og * kpad, kpad);
                        }
                        if (dx) {
                            // dcol = W_g^T dZ_g [k x p], folded back onto the image.
                            T* dxg = dx + (i * c + gr * cg) * plane;
                            if (pointwise) {
                                linalg::gemm<T>(linalg::trans::yes, linalg::trans::no, k, p, og,
                                                T(1), wv + gr * og * k, k, dzg, p, T(1), dxg, p);
                            } else {
                                linalg::gemm<T>(linalg::trans::yes, linalg::trans::no, k, p, og,
                                                T(1), wv + gr * og * k, k, dzg, p, T(0), dcol, p);
                                linalg::col2im(g, dcol, dxg);
                            }
                        }
                    }
                }
            });
            for (std::size_t s = 0; s < nslots; ++s) {
                const T* part = sp + s * per_slot + dz_size + col_size + dcol_size;
                if (dw && direct)
                    for (std::size_t gr = 0; gr < groups; ++gr)
                        linalg::direct_weight_grad_finish(*plan, og, part + gr * direct_partials,
                                                          dw + gr * og * k);
                else if (dw)
                    for (std::size_t r = 0; r < o_ch; ++r)
                        add_into(dw + r * k, part + r * kpad, k);
                if (db && s != 0) add_into(db, part + dw_size, o_ch);
            }
        },
        conv2d_rule<T, Act>{x, w, bv, o, y.shape(), z, act});
}

}  // namespace detail

/// Y = act(conv(X, W) + b): X [N, C, H, W], W [O, C / groups, KH, KW], b [O] ->
/// Y [N, O, OH, OW], OH = floor((H + 2 pad_h - dilation_h (KH - 1) - 1) / stride_h) + 1 (OW
/// likewise); cross-correlation, as in every framework.
///
/// Forward, per image and group: im2col (K = C/groups KH KW rows, P = OH OW columns; skipped for
/// 1x1 unit-stride convolutions) then one GEMM W_g [O/g x K] col [K x P] whose epilogue adds
/// the bias and applies act (keeping Z = conv + b when act is not the identity). The wide
/// dimension P is the GEMM's vectorised one. Images are spread over threads. Layers with unit
/// column stride, output rows of one or two registers and at most 96 taps per output (a
/// network's first layers) skip the unfolding: linalg/direct_conv.hpp reads the image in place,
/// forward and for dW.
/// Backward, per image: dZ = dY act'(Z) (act' derived from act at compile time) formed in one
/// pass that also sums db; dW += dZ col^T (col re-unfolded, its rows padded to whole register
/// slivers so that packing transposes it in registers); dX =
/// col2im(W^T dZ). Per-thread partial dW and db are added at the end.
/// Cost: 2 N O K P flops forward, twice that backward (once without dX); K P copies per image
/// for each unfold. Scratch comes from the tape's pooled buffers (no steady-state allocation).
template <class EX, class T, class Act = identity_activation>
requires(differentiable<EX>) var<T> conv2d(const EX& x, const var<T>& w, const var<T>& b,
                                           conv2d_options o = {}, Act act = {}) {
    return detail::conv2d_impl(x, w, &b, o, act);
}

/// conv2d without a bias: Y = act(conv(X, W)).
template <class EX, class T, class Act = identity_activation>
requires(differentiable<EX>) var<T> conv2d(const EX& x, const var<T>& w, conv2d_options o = {},
                                           Act act = {}) {
    return detail::conv2d_impl(x, w, static_cast<const var<T>*>(nullptr), o, act);
}

}  // namespace dendrite::inline DENDRITE_TARGET
