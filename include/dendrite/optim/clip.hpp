#pragma once
// Gradient clipping over a whole parameter list: by global L2 norm and by value.

#include <cmath>
#include <cstddef>
#include <stdexcept>

#include "dendrite/config.hpp"
#include "dendrite/expr/evaluate.hpp"
#include "dendrite/expr/functions.hpp"
#include "dendrite/simd/loop.hpp"
#include "dendrite/simd/parallel.hpp"
#include "dendrite/simd/simd.hpp"
#include "dendrite/tensor/parameter.hpp"

namespace dendrite::inline DENDRITE_TARGET::optim {

namespace detail {

/// sum x_i^2 over [0, n) in one pass: four independent register accumulators per chunk (so the
/// adds pipeline), the chunk's remainder added one element at a time after them, in double;
/// chunks split across threads above simd::parallel_threshold, starting at multiples of 16
/// registers, and combined in double, in a fixed order for a given thread count.
template <class T>
double sum_of_squares(const T* x, std::size_t n) {
    return simd::parallel_reduce(
        n, simd::width<T> * 16, simd::parallel_threshold, 0.0,
        [x](std::size_t begin, std::size_t end) {
            using B = simd::batch<T>;
            B acc[4] = {B(T(0)), B(T(0)), B(T(0)), B(T(0))};
            auto registers = [&]<class X>(std::size_t i, auto k) {
                const B v = simd::load(x + i);
                acc[k] = acc[k] + v * v;
            };
            const std::size_t tail =
                simd::for_whole_registers_unrolled<T, 4>(begin, end, registers);
            double s = static_cast<double>(simd::hsum((acc[0] + acc[1]) + (acc[2] + acc[3])));
            auto elements = [&]<class X>(std::size_t i) {
                s += static_cast<double>(x[i]) * static_cast<double>(x[i]);
            };
            simd::for_each_element<T>(tail, end, elements);
            return s;
        },
        [](double a, double b) { return a + b; });
}

}  // namespace detail

/// The global L2 norm of all gradients, sqrt(sum over parameters and elements of g^2).
/// Cost: one read pass over every gradient; no allocation.
template <class T>
T grad_norm(const nn::parameter_list<T>& params) {
    double s = 0;
    for (const auto& p : params) {
        if (!p.grad.is_contiguous())
            throw shape_error("grad_norm: gradient of '" + p.name + "' is a strided view");
        s += detail::sum_of_squares(p.grad.data(), p.grad.size());
    }
    return static_cast<T>(std::sqrt(s));
}

/// Rescales all gradients together so that their global L2 norm is at most `max_norm`, as
/// PyTorch's clip_grad_norm_: with N = grad_norm(params), every g becomes
/// g * max_norm / (N + eps) when that factor is below 1, and is left alone otherwise. Returns N,
/// the norm before clipping. When N is infinite or NaN the gradients are left untouched (a
/// rescale would turn them into NaN or zeros), so the caller can test the result and skip the
/// step. Cost: one read pass, plus one read-write pass (a fused expression) when clipping; no
/// allocation.
template <class T>
T clip_grad_norm(nn::parameter_list<T>& params, double max_norm, double eps = 1e-6) {
    if (!(max_norm >= 0)) throw std::invalid_argument("clip_grad_norm: max_norm must be >= 0");
    const T norm = grad_norm(params);
    if (!std::isfinite(norm)) return norm;
    const double factor = max_norm / (static_cast<double>(norm) + eps);
    if (factor >= 1) return norm;
    const T f = static_cast<T>(factor);
    for (auto& p : params)
        p.grad.assign(p.grad * f);
    return norm;
}

/// Clamps every gradient element to [-clip, clip] (NaN stays NaN). Cost: one read-write pass over
/// every gradient; no allocation.
template <class T>
void clip_grad_value(nn::parameter_list<T>& params, double clip) {
    if (!(clip >= 0)) throw std::invalid_argument("clip_grad_value: clip must be >= 0");
    const T hi = static_cast<T>(clip);
    for (auto& p : params) {
        if (!p.grad.is_contiguous())
            throw shape_error("clip_grad_value: gradient of '" + p.name + "' is a strided view");
        p.grad.assign(expr::max(expr::min(p.grad, hi), -hi));
    }
}

}  // namespace dendrite::inline DENDRITE_TARGET::optim
