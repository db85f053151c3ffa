#pragma once
// gradcheck: compares the tape's gradients with central finite differences, in double.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "dendrite/autodiff/leaves.hpp"
#include "dendrite/autodiff/op_node.hpp"
#include "dendrite/autodiff/reductions.hpp"
#include "dendrite/config.hpp"
#include "dendrite/tensor/random.hpp"

namespace dendrite::inline DENDRITE_TARGET {

/// How one input's analytic gradient compares with finite differences.
struct gradcheck_input {
    double max_abs_error = 0;  ///< max over elements of |analytic - numeric|
    double max_rel_error =
        0;  ///< max over elements of |analytic - numeric| / max(|analytic|, |numeric|, 1)
    std::size_t worst_index = 0;  ///< flat index of the element with the largest relative error
    double analytic_at_worst = 0;
    double numeric_at_worst = 0;
};

/// The result of gradcheck: one entry per input, in argument order.
struct gradcheck_report {
    std::vector<gradcheck_input> inputs;

    /// True when every element satisfies |analytic - numeric| <= atol + rtol * max(|analytic|,
    /// |numeric|).
    bool passed(double tolerance = 1e-6) const {
        for (const auto& in : inputs)
            if (in.max_rel_error > tolerance) return false;
        return true;
    }
    std::string str() const {
        std::ostringstream os;
        for (std::size_t i = 0; i < inputs.size(); ++i)
            os << "input " << i << ": max abs error " << inputs[i].max_abs_error
               << ", max rel error " << inputs[i].max_rel_error << " at element "
               << inputs[i].worst_index << " (analytic " << inputs[i].analytic_at_worst
               << ", numeric " << inputs[i].numeric_at_worst << ")\n";
        return os.str();
    }
};

namespace detail {
template <class F, std::size_t... I>
double gradcheck_objective(F& f, std::array<tensor<double>, sizeof...(I)>& x,
                           const tensor<double>& weights, std::index_sequence<I...>) {
    tape t;
    auto out = as_var(f(variable(t, x[I])...));
    if (out.size() == 1) return out.item();
    return sum(out.value() * weights);
}
}  // namespace detail

/// Checks the gradient of `f(vars...)` with respect to every element of every input.
///
/// `f` takes one var<double> per input and returns a var (or an expression over vars). A
/// non-scalar result is reduced to sum(result * w) with fixed random weights w, so every output
/// element is checked. Each derivative is estimated by central differences at several step
/// sizes (1e-2 .. 1e-7, scaled by the element's magnitude) and the closest estimate is kept:
/// truncation error shrinks with the step and rounding error grows, and the best of several
/// steps is robust across functions of different curvature. Cost: 2 * 6 * (total elements)
/// evaluations of f.
template <class F, class... Tensors>
gradcheck_report gradcheck(F&& f, const Tensors&... inputs) {
    constexpr std::size_t N = sizeof...(Tensors);
    static_assert(N > 0, "gradcheck: give at least one input tensor");
    std::array<tensor<double>, N> x{tensor<double>(inputs).clone()...};
    const auto seq = std::make_index_sequence<N>{};

    // Analytic gradients.
    tensor<double> weights;
    std::array<tensor<double>, N> analytic;
    {
        tape t;
        std::array<var<double>, N> vars;
        for (std::size_t i = 0; i < N; ++i)
            vars[i] = variable(t, x[i]);
        auto out = [&]<std::size_t... I>(std::index_sequence<I...>) {
            return as_var(f(vars[I]...));
        }
        (seq);
        rng g(12345);
        weights = uniform<double>(out.shape(), 0.5, 1.5, g);
        if (out.size() == 1)
            out.backward();
        else
            out.backward(weights);
        for (std::size_t i = 0; i < N; ++i)
            analytic[i] =
                vars[i].grad().size() ? vars[i].grad().clone() : tensor<double>(x[i].shape());
    }

    gradcheck_report report;
    report.inputs.resize(N);
    static constexpr double steps[] = {1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7};
    for (std::size_t i = 0; i < N; ++i) {
        auto& r = report.inputs[i];
        for (std::size_t e = 0; e < x[i].size(); ++e) {
            double& xe = x[i].data()[e];
            const double saved = xe;
            const double a = analytic[i].data()[e];
            double best = 0, best_err = INFINITY;
            for (double h0 : steps) {
                const double h = h0 * std::max(1.0, std::abs(saved));
                xe = saved + h;
                const double fp = detail::gradcheck_objective(f, x, weights, seq);
                xe = saved - h;
                const double fm = detail::gradcheck_objective(f, x, weights, seq);
                xe = saved;
                const double num = (fp - fm) / (2 * h);
                if (std::abs(num - a) < best_err || !std::isfinite(best_err)) {
                    best_err = std::abs(num - a);
                    best = num;
                }
            }
            const double abs_err = std::abs(best - a);
            const double rel_err = abs_err / std::max({std::abs(a), std::abs(best), 1.0});
            if (!(abs_err <= r.max_abs_error)) r.max_abs_error = abs_err;
            if (!(rel_err <= r.max_rel_error)) {
                r.max_rel_error = rel_err;
                r.worst_index = e;
                r.analytic_at_worst = a;
                r.numeric_at_worst = best;
            }
        }
    }
    return report;
}

}  // namespace dendrite::inline DENDRITE_TARGET
