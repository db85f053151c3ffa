// Gradient clipping by global norm and by value.

#include <cmath>
#include <limits>

#include <catch2/catch.hpp>

#include "dendrite/optim/clip.hpp"
#include "helpers.hpp"

using namespace dendrite;
using namespace optim_test;

namespace {
template <class T>
double reference_norm(const nn::parameter_list<T>& ps) {
    long double s = 0;
    for (const auto& p : ps)
        for (std::size_t i = 0; i < p.size(); ++i)
            s += static_cast<long double>(p.grad.data()[i]) * p.grad.data()[i];
    return static_cast<double>(std::sqrt(s));
}
}  // namespace

TEMPLATE_TEST_CASE("grad_norm is the global L2 norm", "[optim][clip]", float, double) {
    using T = TestType;
    auto ps = make_params<T>();
    fill_grads(ps, 3);
    // Float accumulates per register lane over up to 65k elements: relative error ~1e-6.
    const double tol = sizeof(T) == 4 ? 1e-5 : 1e-13;
    CHECK(static_cast<double>(optim::grad_norm(ps)) == Approx(reference_norm(ps)).epsilon(tol));
    // Each awkward size alone, through the vector body and the tail.
    for (auto& p : ps) {
        nn::parameter_list<T> one{p};
        CHECK(static_cast<double>(optim::grad_norm(one)) ==
              Approx(reference_norm(one)).epsilon(tol));
    }
    nn::parameter_list<T> none;
    CHECK(optim::grad_norm(none) == T(0));
}

TEMPLATE_TEST_CASE("clip_grad_norm rescales all gradients together", "[optim][clip]", float,
                   double) {
    using T = TestType;
    auto ps = make_params<T>();
    fill_grads(ps, 4);
    const auto before = clone_params(ps);
    const double norm = reference_norm(ps);
    const double tol = sizeof(T) == 4 ? 1e-5 : 1e-13;

    SECTION("above the bound: scaled by max_norm / (norm + 1e-6), norm before returned") {
        const double max_norm = norm / 4;
        const T returned = optim::clip_grad_norm(ps, max_norm);
        CHECK(static_cast<double>(returned) == Approx(norm).epsilon(tol));
        const T factor = static_cast<T>(max_norm / (static_cast<double>(returned) + 1e-6));
        std::size_t bad = 0;
        for (std::size_t k = 0; k < ps.size(); ++k) {
            std::vector<T> want(ps[k].size());
            for (std::size_t i = 0; i < want.size(); ++i)
                want[i] = before[k].grad.data()[i] * factor;
            bad += count_far(ps[k].grad.data(), want.data(), want.size(), 0.0, ps[k].name);
        }
        CHECK(bad == 0);
        CHECK(static_cast<double>(optim::grad_norm(ps)) ==
              Approx(max_norm * norm / (norm + 1e-6)).epsilon(tol));
    }
    SECTION("below the bound: untouched") {
        optim::clip_grad_norm(ps, norm * 2);
        for (std::size_t k = 0; k < ps.size(); ++k)
            CHECK(std::memcmp(ps[k].grad.data(), before[k].grad.data(), ps[k].size() * sizeof(T)) ==
                  0);
    }
    SECTION("a non-finite norm is returned and leaves gradients alone") {
        ps[2].grad.data()[3] = std::numeric_limits<T>::infinity();
        CHECK(std::isinf(optim::clip_grad_norm(ps, 1.0)));
        CHECK(std::memcmp(ps[0].grad.data(), before[0].grad.data(), ps[0].size() * sizeof(T)) == 0);
        ps[2].grad.data()[3] = std::numeric_limits<T>::quiet_NaN();
        CHECK(std::isnan(optim::clip_grad_norm(ps, 1.0)));
    }
    CHECK_THROWS_AS(optim::clip_grad_norm(ps, -1.0), std::invalid_argument);
}

TEMPLATE_TEST_CASE("clip_grad_value clamps each element", "[optim][clip]", float, double) {
    using T = TestType;
    auto ps = make_params<T>();
    fill_grads(ps, 5);
    ps[4].grad.data()[100] = std::numeric_limits<T>::quiet_NaN();
    ps[4].grad.data()[101] = -std::numeric_limits<T>::infinity();
    const auto before = clone_params(ps);
    optim::clip_grad_value(ps, 0.25);
    std::size_t bad = 0;
    for (std::size_t k = 0; k < ps.size(); ++k)
        for (std::size_t i = 0; i < ps[k].size(); ++i) {
            const T g = before[k].grad.data()[i], got = ps[k].grad.data()[i];
            const T want = std::isnan(g) ? g : std::min(std::max(g, T(-0.25)), T(0.25));
            if (!(got == want || (std::isnan(got) && std::isnan(want)))) ++bad;
        }
    CHECK(bad == 0);
    CHECK(std::isnan(ps[4].grad.data()[100]));
    CHECK(ps[4].grad.data()[101] == T(-0.25));
}
