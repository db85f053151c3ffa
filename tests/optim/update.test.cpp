// Each optimizer against a scalar reference of its published update rule, over several steps,
// at awkward sizes (vector body, scalar tail, threaded path), in float and double.

#include <limits>

#include <catch2/catch.hpp>

#include "dendrite/optim/optim.hpp"
#include "helpers.hpp"

using namespace dendrite;
using namespace optim_test;

namespace {

// Both sides compute in T but group operations differently (bias corrections folded into
// scalars, division order, fused products under clang): weights agree within 8 ulps of
// max(1, |w|) after 6 steps (measured: within 4).
template <class T>
constexpr double tolerance = 8 * std::numeric_limits<T>::epsilon();

template <class T, class Opt, class Ref>
void check_against_reference(Opt opt, Ref ref, int steps = 6) {
    auto ps = make_params<T>();
    auto want = values_of(ps);
    for (int s = 1; s <= steps; ++s) {
        fill_grads(ps, static_cast<std::uint64_t>(s));
        ref.step(want, ps);
        opt.step(ps);
        std::size_t bad = 0;
        for (std::size_t k = 0; k < ps.size(); ++k)
            bad += count_far(ps[k].value.data(), want[k].data(), ps[k].size(), tolerance<T>,
                             ps[k].name + " (size " + std::to_string(ps[k].size()) + ") step " +
                                 std::to_string(s));
        REQUIRE(bad == 0);
    }
    REQUIRE(opt.steps() == static_cast<std::size_t>(steps));
}

}  // namespace

TEMPLATE_TEST_CASE("sgd matches PyTorch's update rule", "[optim][sgd]", float, double) {
    using T = TestType;
    SECTION("plain, with weight decay") {
        check_against_reference<T>(optim::sgd<T>({.lr = 0.1, .weight_decay = 0.1}),
                                   sgd_reference<T>{0.1, 0, 0, 0.1, false});
    }
    SECTION("momentum") {
        check_against_reference<T>(
            optim::sgd<T>({.lr = 0.05, .momentum = 0.9, .weight_decay = 0.1}),
            sgd_reference<T>{0.05, 0.9, 0, 0.1, false});
    }
    SECTION("momentum with dampening") {
        check_against_reference<T>(optim::sgd<T>({.lr = 0.05, .momentum = 0.8, .dampening = 0.3}),
                                   sgd_reference<T>{0.05, 0.8, 0.3, 0, false});
    }
    SECTION("Nesterov") {
        check_against_reference<T>(
            optim::sgd<T>({.lr = 0.05, .momentum = 0.9, .nesterov = true, .weight_decay = 0.01}),
            sgd_reference<T>{0.05, 0.9, 0, 0.01, true});
    }
}

TEMPLATE_TEST_CASE("adam and adamw match Kingma & Ba and Loshchilov & Hutter", "[optim][adam]",
                   float, double) {
    using T = TestType;
    SECTION("Adam, L2 weight decay") {
        check_against_reference<T>(optim::adam<T>({.lr = 0.01, .weight_decay = 0.1}),
                                   adam_reference<T>{0.01, 0.9, 0.999, 1e-8, 0.1, false, false});
    }
    SECTION("Adam, other betas and eps") {
        check_against_reference<T>(
            optim::adam<T>({.lr = 0.02, .beta1 = 0.5, .beta2 = 0.9, .eps = 1e-3}),
            adam_reference<T>{0.02, 0.5, 0.9, 1e-3, 0, false, false});
    }
    SECTION("AdamW, decoupled weight decay") {
        check_against_reference<T>(optim::adamw<T>({.lr = 0.01, .weight_decay = 0.1}),
                                   adam_reference<T>{0.01, 0.9, 0.999, 1e-8, 0.1, true, false});
    }
    SECTION("AMSGrad") {
        check_against_reference<T>(
            optim::adam<T>({.lr = 0.01, .beta2 = 0.9, .weight_decay = 0.05, .amsgrad = true}),
            adam_reference<T>{0.01, 0.9, 0.9, 1e-8, 0.05, false, true});
    }
}

TEMPLATE_TEST_CASE("rmsprop matches its update rule", "[optim][rmsprop]", float, double) {
    using T = TestType;
    SECTION("plain, with weight decay") {
        check_against_reference<T>(optim::rmsprop<T>({.lr = 0.01, .weight_decay = 0.1}),
                                   rmsprop_reference<T>{0.01, 0.99, 1e-8, 0, 0.1, false});
    }
    SECTION("centered") {
        check_against_reference<T>(optim::rmsprop<T>({.lr = 0.01, .alpha = 0.9, .centered = true}),
                                   rmsprop_reference<T>{0.01, 0.9, 1e-8, 0, 0, true});
    }
    SECTION("momentum") {
        check_against_reference<T>(optim::rmsprop<T>({.lr = 0.01, .momentum = 0.9}),
                                   rmsprop_reference<T>{0.01, 0.99, 1e-8, 0.9, 0, false});
    }
    SECTION("centered with momentum and weight decay") {
        check_against_reference<T>(
            optim::rmsprop<T>(
                {.lr = 0.01, .alpha = 0.9, .momentum = 0.5, .centered = true, .weight_decay = 0.1}),
            rmsprop_reference<T>{0.01, 0.9, 1e-8, 0.5, 0.1, true});
    }
}

TEMPLATE_TEST_CASE("adagrad matches Duchi et al.", "[optim][adagrad]", float, double) {
    using T = TestType;
    SECTION("plain") {
        check_against_reference<T>(optim::adagrad<T>({.lr = 0.1}),
                                   adagrad_reference<T>{0.1, 0, 0, 0, 1e-10});
    }
    SECTION("lr decay, weight decay, initial accumulator") {
        check_against_reference<T>(optim::adagrad<T>({.lr = 0.1,
                                                      .lr_decay = 0.1,
                                                      .weight_decay = 0.1,
                                                      .initial_accumulator_value = 0.5,
                                                      .eps = 1e-6}),
                                   adagrad_reference<T>{0.1, 0.1, 0.1, 0.5, 1e-6});
    }
}

TEMPLATE_TEST_CASE("weight decay skips parameters with decay = false", "[optim]", float, double) {
    using T = TestType;
    // With zero gradients only the decay term moves a weight.
    auto run = [](auto opt) {
        auto ps = make_params<T>();
        const auto before = values_of(ps);
        for (auto& p : ps)
            p.zero_grad();
        opt.step(ps);
        for (std::size_t k = 0; k < ps.size(); ++k) {
            const T* w = ps[k].value.data();
            if (ps[k].decay) {
                // Moved toward 0 (the normalising methods may step past it).
                CHECK((w[0] - before[k][0]) * before[k][0] < T(0));
            } else {
                CHECK(std::memcmp(w, before[k].data(), ps[k].size() * sizeof(T)) == 0);
            }
        }
    };
    run(optim::sgd<T>({.lr = 0.1, .momentum = 0.9, .weight_decay = 0.1}));
    run(optim::adam<T>({.lr = 0.1, .weight_decay = 0.1}));
    run(optim::adamw<T>({.lr = 0.1, .weight_decay = 0.1}));
    run(optim::rmsprop<T>({.lr = 0.1, .weight_decay = 0.1}));
    run(optim::adagrad<T>({.lr = 0.1, .weight_decay = 0.1}));
}

TEMPLATE_TEST_CASE("the update is the same for any thread count", "[optim]", float, double) {
    using T = TestType;
    auto run = [](int threads) {
        const int saved = num_threads();
        set_num_threads(threads);
        auto ps = make_params<T>();
        optim::adam<T> opt({.lr = 0.01, .weight_decay = 0.1});
        for (std::uint64_t s = 1; s <= 3; ++s) {
            fill_grads(ps, s);
            opt.step(ps);
        }
        set_num_threads(saved);
        return ps;
    };
    REQUIRE(bitwise_equal(run(1), run(2)));
}

TEMPLATE_TEST_CASE("learning rate and step count", "[optim]", float, double) {
    using T = TestType;
    optim::sgd<T> opt({.lr = 0.5});
    CHECK(opt.learning_rate() == 0.5);
    opt.set_learning_rate(0.25);
    CHECK(opt.learning_rate() == 0.25);
    CHECK_THROWS_AS(opt.set_learning_rate(-1), std::invalid_argument);
    auto ps = make_params<T>();
    fill_grads(ps, 1);
    const T w0 = ps[0].value.data()[0], g0 = ps[0].grad.data()[0];
    opt.step(ps);
    CHECK(ps[0].value.data()[0] == w0 - T(0.25) * g0);
    CHECK(opt.steps() == 1);

    CHECK_THROWS_AS(optim::sgd<T>({.nesterov = true}), std::invalid_argument);
    CHECK_THROWS_AS(optim::adam<T>({.beta1 = 1}), std::invalid_argument);
    CHECK_THROWS_AS(optim::rmsprop<T>({.eps = 0}), std::invalid_argument);
    CHECK_THROWS_AS(optim::adagrad<T>({.lr_decay = -1}), std::invalid_argument);
}

TEMPLATE_TEST_CASE("step rejects a parameter list that changed", "[optim]", float, double) {
    using T = TestType;
    optim::adam<T> opt;
    auto ps = make_params<T>();
    opt.step(ps);
    auto fewer = ps;
    fewer.pop_back();
    CHECK_THROWS_AS(opt.step(fewer), std::invalid_argument);
    auto resized = ps;
    resized[1] = nn::parameter<T>(shape{8}, "p1");
    CHECK_THROWS_AS(opt.step(resized), shape_error);
    auto mismatched = ps;
    mismatched[0].grad = tensor<T>(shape{2});
    CHECK_THROWS_AS(opt.step(mismatched), shape_error);
    nn::parameter_list<T> twins{nn::parameter<T>(shape{3}, "w"), nn::parameter<T>(shape{3}, "w")};
    CHECK_THROWS_AS(optim::sgd<T>({.momentum = 0.5}).step(twins), std::invalid_argument);
}

TEMPLATE_TEST_CASE("every optimizer models the optimizer concept", "[optim]", float, double) {
    using T = TestType;
    STATIC_REQUIRE(optim::optimizer<optim::sgd<T>, T>);
    STATIC_REQUIRE(optim::optimizer<optim::adam<T>, T>);
    STATIC_REQUIRE(optim::optimizer<optim::adamw<T>, T>);
    STATIC_REQUIRE(optim::optimizer<optim::rmsprop<T>, T>);
    STATIC_REQUIRE(optim::optimizer<optim::adagrad<T>, T>);
    STATIC_REQUIRE(!optim::optimizer<optim::sgd<float>, double>);
}
