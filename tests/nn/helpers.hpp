#pragma once
// Gradient checks of whole models: with respect to the input (the library's gradcheck) and with
// respect to every element of every parameter (central differences of a weighted loss, written
// here), plus small reference computations.

#include <catch2/catch.hpp>
#include <dendrite/dendrite.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <sstream>
#include <string>

namespace dendrite::nn_testing {

/// gradcheck's verdict, with its report in the failure message.
#define DENDRITE_NN_REQUIRE_GRADCHECK(report, tolerance) \
    do {                                                 \
        const auto& r_ = (report);                       \
        INFO(r_.str());                                  \
        REQUIRE(r_.passed(tolerance));                   \
    } while (false)

/// The outcome of comparing every parameter's gradient with central differences.
struct parameter_report {
    double max_rel_error = 0;  ///< max of |analytic - numeric| / max(|analytic|, |numeric|, 1)
    std::string worst;         ///< "<parameter name>[<flat index>]" of that element
    double analytic_at_worst = 0, numeric_at_worst = 0;
    std::size_t elements = 0;       ///< elements checked
    std::size_t parameters = 0;     ///< parameters checked
    std::size_t nonzero_grads = 0;  ///< parameters whose analytic gradient is not all zero

    std::string str() const {
        std::ostringstream os;
        os << parameters << " parameters, " << elements << " elements, max rel error "
           << max_rel_error << " at " << worst << " (analytic " << analytic_at_worst << ", numeric "
           << numeric_at_worst << ")";
        return os.str();
    }
};

/// Checks d loss / d p for every element of every parameter of `net`, `loss(tape&)` recording a
/// scalar var<double> that depends on the parameters. One backward gives the analytic gradients
/// (accumulated into p.grad after zero_grad); each element is then moved by +-h (h = 1e-5, scaled
/// by the element's magnitude) and the loss re-evaluated. The loss must be deterministic: a model
/// with dropout reseeds its generator inside `loss`.
template <class Model, class Loss>
parameter_report check_parameter_gradients(Model& net, Loss&& loss) {
    parameter_report report;
    auto params = net.parameters();
    net.zero_grad();
    {
        tape t;
        var<double> l = loss(t);
        l.backward();
    }
    for (auto& p : params) {
        const tensor<double> analytic = p.grad.clone();
        ++report.parameters;
        if (std::any_of(analytic.span().begin(), analytic.span().end(),
                        [](double g) { return g != 0; }))
            ++report.nonzero_grads;
        for (std::size_t e = 0; e < p.value.size(); ++e) {
            double& v = p.value.data()[e];
            const double saved = v;
            const double h = 1e-5 * std::max(1.0, std::abs(saved));
            v = saved + h;
            double plus = 0, minus = 0;
            {
                tape t;
                plus = loss(t).item();
            }
            v = saved - h;
            {
                tape t;
                minus = loss(t).item();
            }
            v = saved;
            const double numeric = (plus - minus) / (2 * h);
            const double a = analytic.data()[e];
            const double rel =
                std::abs(a - numeric) / std::max({std::abs(a), std::abs(numeric), 1.0});
            ++report.elements;
            if (!(rel <= report.max_rel_error)) {
                report.max_rel_error = rel;
                report.worst = p.name + "[" + std::to_string(e) + "]";
                report.analytic_at_worst = a;
                report.numeric_at_worst = numeric;
            }
        }
    }
    return report;
}

/// Fixed weights in [0.5, 1.5) for the loss sum(out * weights), so every output element counts.
inline tensor<double> loss_weights(const shape& s, std::uint64_t seed = 99) {
    rng g(seed);
    return uniform<double>(s, 0.5, 1.5, g);
}

/// Checks the gradient of `net` in double with respect to its input `x` (unless `wrt_input` is
/// false, as for embedding ids) and to every parameter, with relative tolerance `tolerance`.
/// The generator of stochastic layers is reseeded before every forward pass.
template <class Model>
void require_model_gradients(Model& net, const tensor<double>& x, double tolerance = 1e-6,
                             bool wrt_input = true) {
    const std::uint64_t mask_seed = 2024;
    shape out_shape;
    {
        tape t;
        net.random().reseed(mask_seed);
        out_shape = net(t, x).shape();
    }
    const tensor<double> w = loss_weights(out_shape);
    if (wrt_input) {
        const auto r = gradcheck(
            [&](auto v) {
                net.random().reseed(mask_seed);
                return net(v.tape(), v);
            },
            x);
        INFO("gradient with respect to the input: " << r.str());
        CHECK(r.passed(tolerance));
    }
    const auto p = check_parameter_gradients(net, [&](tape& t) {
        net.random().reseed(mask_seed);
        return var<double>(sum(net(t, x) * w));
    });
    INFO("gradient with respect to the parameters: " << p.str());
    CHECK(p.max_rel_error <= tolerance);
    CHECK(p.parameters == net.parameters().size());
    CHECK(p.elements == net.parameter_count());
}

/// act(x W + b) for x [batch, in], W [in, out], b [out] (or empty), with plain loops.
template <class F>
tensor<double> dense_reference(const tensor<double>& x, const tensor<double>& w,
                               const tensor<double>& b, F act) {
    const std::size_t batch = x.dim(0), in = x.dim(1), out = w.dim(1);
    tensor<double> y(shape{batch, out});
    for (std::size_t i = 0; i < batch; ++i)
        for (std::size_t j = 0; j < out; ++j) {
            double z = b.size() ? b(j) : 0.0;
            for (std::size_t k = 0; k < in; ++k)
                z += x(i, k) * w(k, j);
            y(i, j) = act(z);
        }
    return y;
}

/// max |a - b| over elements (shapes must agree).
inline double max_abs_difference(const tensor<double>& a, const tensor<double>& b) {
    REQUIRE(a.shape() == b.shape());
    double m = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        m = std::max(m, std::abs(a.data()[i] - b.data()[i]));
    return m;
}

/// Whether the two tensors hold the same bits (shapes agree and every element compares equal).
template <class T>
bool bit_identical(const tensor<T>& a, const tensor<T>& b) {
    if (!(a.shape() == b.shape())) return false;
    return a.size() == 0 || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

}  // namespace dendrite::nn_testing
