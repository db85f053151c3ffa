// Checkpointing optimizer state: a run resumed from state() and the parameter values continues
// bit-identically to the uninterrupted run.

#include <catch2/catch.hpp>

#include "dendrite/optim/optim.hpp"
#include "helpers.hpp"

using namespace dendrite;
using namespace optim_test;

namespace {

/// Runs `make()` for 3 steps, snapshots, runs 3 more; then a fresh optimizer restored from the
/// snapshot runs the same 3 steps from the same values. Both must end with the same bits.
template <class T, class Make>
void check_resume(Make make, std::size_t buffers_per_parameter, const std::string& prefix) {
    auto ps = make_params<T>();
    auto opt = make();
    for (std::uint64_t s = 1; s <= 3; ++s) {
        fill_grads(ps, s);
        opt.step(ps);
    }
    const optim::state_list<T> saved = opt.state();
    const auto saved_params = clone_params(ps);

    REQUIRE(saved.size() == ps.size() * buffers_per_parameter + 1);
    REQUIRE(saved.back().name == prefix + ".step");
    REQUIRE(saved.back().value.size() == 1);
    REQUIRE(saved.back().value.item() == T(3));
    for (const auto& e : saved)
        CHECK(e.name.rfind(prefix + ".", 0) == 0);
    std::vector<tensor<T>> copies;
    for (const auto& e : saved)
        copies.push_back(e.value.clone());

    for (std::uint64_t s = 4; s <= 6; ++s) {
        fill_grads(ps, s);
        opt.step(ps);
    }

    auto resumed = clone_params(saved_params);
    auto opt2 = make();
    opt2.load_state(resumed, saved);
    REQUIRE(opt2.steps() == 3);
    for (std::uint64_t s = 4; s <= 6; ++s) {
        fill_grads(resumed, s);
        opt2.step(resumed);
    }
    REQUIRE(bitwise_equal(ps, resumed));
    REQUIRE(opt2.steps() == opt.steps());
    // The snapshot is a copy: the original optimizer's later steps did not change it.
    for (std::size_t e = 0; e < saved.size(); ++e)
        CHECK(std::memcmp(saved[e].value.data(), copies[e].data(), copies[e].size() * sizeof(T)) ==
              0);
}

}  // namespace

TEMPLATE_TEST_CASE("state save and restore continue bit-identically", "[optim][state]", float,
                   double) {
    using T = TestType;
    SECTION("sgd") {
        check_resume<T>(
            [] { return optim::sgd<T>({.lr = 0.05, .momentum = 0.9, .weight_decay = 0.1}); }, 1,
            "sgd");
    }
    SECTION("sgd without momentum keeps only the step") {
        check_resume<T>([] { return optim::sgd<T>({.lr = 0.05}); }, 0, "sgd");
    }
    SECTION("adam") {
        check_resume<T>([] { return optim::adam<T>({.lr = 0.01, .weight_decay = 0.1}); }, 2,
                        "adam");
    }
    SECTION("adamw with amsgrad") {
        check_resume<T>(
            [] { return optim::adamw<T>({.lr = 0.01, .weight_decay = 0.1, .amsgrad = true}); }, 3,
            "adamw");
    }
    SECTION("rmsprop, centered with momentum") {
        check_resume<T>(
            [] { return optim::rmsprop<T>({.lr = 0.01, .momentum = 0.5, .centered = true}); }, 3,
            "rmsprop");
    }
    SECTION("adagrad") {
        check_resume<T>([] { return optim::adagrad<T>({.lr = 0.1, .lr_decay = 0.01}); }, 1,
                        "adagrad");
    }
}

TEMPLATE_TEST_CASE("state entries are named after the parameters", "[optim][state]", float,
                   double) {
    using T = TestType;
    nn::parameter_list<T> ps{nn::parameter<T>(shape{2, 3}, "dense_1.weight"),
                             nn::parameter<T>(shape{3}, "", false)};
    optim::adam<T> opt;
    CHECK(opt.state().size() == 1);  // before the first step: only the step count
    opt.step(ps);
    const auto s = opt.state();
    REQUIRE(s.size() == 5);
    CHECK(s[0].name == "adam.m.dense_1.weight");
    CHECK(s[1].name == "adam.v.dense_1.weight");
    CHECK(s[0].value.shape() == shape{2, 3});
    CHECK(s[2].name == "adam.m.#1");  // unnamed parameters are keyed by position
    CHECK(s[4].name == "adam.step");
}

TEMPLATE_TEST_CASE("load_state validates what it restores", "[optim][state]", float, double) {
    using T = TestType;
    auto ps = make_params<T>();
    optim::adam<T> opt;
    fill_grads(ps, 1);
    opt.step(ps);
    const auto good = opt.state();

    optim::adam<T> other;
    SECTION("a snapshot from before the first step restarts cleanly") {
        optim::adam<T> fresh;
        other.load_state(ps, fresh.state());
        CHECK(other.steps() == 0);
        other.step(ps);
        CHECK(other.steps() == 1);
    }
    SECTION("missing step count") {
        auto s = good;
        s.pop_back();
        CHECK_THROWS_AS(other.load_state(ps, s), std::invalid_argument);
    }
    SECTION("missing buffer") {
        auto s = good;
        s.erase(s.begin() + 1);
        CHECK_THROWS_AS(other.load_state(ps, s), std::invalid_argument);
    }
    SECTION("buffer of the wrong size") {
        auto s = good;
        s[0].value = tensor<T>(shape{2});
        CHECK_THROWS_AS(other.load_state(ps, s), shape_error);
    }
    SECTION("another optimizer's state") {
        CHECK_THROWS_AS(optim::rmsprop<T>().load_state(ps, good), std::invalid_argument);
    }
    SECTION("a failed load leaves the optimizer as it was") {
        auto s = good;
        s[0].value = tensor<T>(shape{2});
        optim::adam<T> used;
        used.step(ps);
        CHECK_THROWS(used.load_state(ps, s));
        CHECK(used.steps() == 1);
        used.step(ps);
        CHECK(used.steps() == 2);
    }
}
