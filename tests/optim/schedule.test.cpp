// Learning-rate schedules at chosen epochs, and reduce-on-plateau's response to a metric.

#include <cmath>
#include <limits>
#include <numbers>

#include <catch2/catch.hpp>

#include "dendrite/optim/schedule.hpp"
#include "dendrite/optim/sgd.hpp"

using namespace dendrite;

TEST_CASE("schedules model the schedule concept", "[optim][schedule]") {
    STATIC_REQUIRE(optim::schedule<optim::constant_rate>);
    STATIC_REQUIRE(optim::schedule<optim::step_decay>);
    STATIC_REQUIRE(optim::schedule<optim::exponential_decay>);
    STATIC_REQUIRE(optim::schedule<optim::cosine_annealing>);
    STATIC_REQUIRE(optim::schedule<optim::linear_warmup<optim::cosine_annealing>>);
    STATIC_REQUIRE(optim::schedule<optim::reduce_on_plateau>);
    STATIC_REQUIRE(!optim::schedule<int>);
}

TEST_CASE("fixed schedules at chosen epochs", "[optim][schedule]") {
    const optim::constant_rate c(0.1);
    CHECK(c(0) == 0.1);
    CHECK(c(1000) == 0.1);

    const optim::step_decay s(0.1, 3, 0.5);
    CHECK(s(0) == 0.1);
    CHECK(s(2) == 0.1);
    CHECK(s(3) == Approx(0.05));
    CHECK(s(5) == Approx(0.05));
    CHECK(s(6) == Approx(0.025));
    CHECK(s(30) == Approx(0.1 / 1024));

    const optim::exponential_decay e(1.0, 0.9);
    CHECK(e(0) == 1.0);
    CHECK(e(2) == Approx(0.81));
    CHECK(e(10) == Approx(std::pow(0.9, 10)));

    const optim::cosine_annealing cos(1.0, 10, 0.1);
    CHECK(cos(0) == Approx(1.0));
    CHECK(cos(5) == Approx(0.55));
    CHECK(cos(2) == Approx(0.1 + 0.9 * (1 + std::cos(std::numbers::pi / 5)) / 2));
    CHECK(cos(10) == 0.1);
    CHECK(cos(25) == 0.1);
    for (std::size_t t = 1; t <= 10; ++t)
        CHECK(cos(t) < cos(t - 1));

    CHECK_THROWS_AS(optim::step_decay(0.1, 0), std::invalid_argument);
    CHECK_THROWS_AS(optim::cosine_annealing(0.1, 0), std::invalid_argument);
    CHECK_THROWS_AS(optim::constant_rate(-1), std::invalid_argument);
}

TEST_CASE("linear warm-up before another schedule", "[optim][schedule]") {
    const optim::linear_warmup w(4, optim::step_decay(1.0, 2, 0.5));
    CHECK(w(0) == Approx(0.2));
    CHECK(w(1) == Approx(0.4));
    CHECK(w(3) == Approx(0.8));
    CHECK(w(4) == 1.0);  // the wrapped schedule's epoch 0
    CHECK(w(5) == 1.0);
    CHECK(w(6) == Approx(0.5));  // its epoch 2
    const optim::linear_warmup none(0, optim::constant_rate(0.3));
    CHECK(none(0) == 0.3);
}

TEST_CASE("a schedule drives an optimizer's rate", "[optim][schedule]") {
    optim::sgd<float> opt({.lr = 1.0});
    const optim::exponential_decay sched(0.5, 0.5);
    for (std::size_t epoch = 0; epoch < 4; ++epoch) {
        opt.set_learning_rate(sched(epoch));
        CHECK(opt.learning_rate() == Approx(0.5 * std::pow(0.5, epoch)));
    }
}

TEST_CASE("reduce_on_plateau", "[optim][schedule]") {
    SECTION("reduces after more than `patience` epochs without improvement") {
        optim::reduce_on_plateau r(1.0, {.factor = 0.5, .patience = 2});
        CHECK(r.observe(1.0) == 1.0);   // first metric always improves on +inf
        CHECK(r.observe(0.9) == 1.0);   // better
        CHECK(r.observe(0.95) == 1.0);  // bad 1
        CHECK(r.observe(0.95) == 1.0);  // bad 2
        CHECK(r.bad_epochs() == 2);
        CHECK(r.observe(0.95) == 0.5);  // bad 3 > patience: reduced, counter reset
        CHECK(r.bad_epochs() == 0);
        CHECK(r.reductions() == 1);
        CHECK(r.best() == 0.9);
        CHECK(r.observe(0.8) == 0.5);  // better again
        CHECK(r(123) == 0.5);          // as a schedule: the current rate
    }
    SECTION("the relative threshold decides what counts as an improvement") {
        optim::reduce_on_plateau r(1.0, {.factor = 0.5, .patience = 0, .threshold = 0.01});
        r.observe(1.0);
        CHECK(r.observe(0.995) == 0.5);  // less than 1% better: a bad epoch, patience 0
        CHECK(r.observe(0.98) == 0.5);   // 2% better than 1.0
        CHECK(r.best() == 0.98);
    }
    SECTION("cooldown and minimum rate") {
        optim::reduce_on_plateau r(
            1.0, {.factor = 0.1, .patience = 0, .min_rate = 0.005, .cooldown = 2});
        r.observe(1.0);
        CHECK(r.observe(2.0) == Approx(0.1));   // reduced; cooldown starts
        CHECK(r.observe(2.0) == Approx(0.1));   // cooldown 1
        CHECK(r.observe(2.0) == Approx(0.1));   // cooldown 2
        CHECK(r.observe(2.0) == Approx(0.01));  // counting again
        r.observe(2.0), r.observe(2.0);
        CHECK(r.observe(2.0) == 0.005);  // clamped at min_rate
        for (int i = 0; i < 10; ++i)
            r.observe(2.0);
        CHECK(r.rate() == 0.005);
    }
    SECTION("mode max, and NaN never improves") {
        optim::reduce_on_plateau r(
            0.1, {.factor = 0.5, .patience = 1, .mode = optim::plateau_mode::max});
        r.observe(0.5);
        CHECK(r.observe(0.6) == 0.1);
        CHECK(r.best() == 0.6);
        CHECK(r.observe(std::numeric_limits<double>::quiet_NaN()) == 0.1);
        CHECK(r.observe(0.55) == Approx(0.05));
    }
    SECTION("state round trip") {
        optim::reduce_on_plateau a(1.0, {.factor = 0.5, .patience = 1, .cooldown = 1});
        for (double m : {1.0, 1.1, 1.2, 0.9, 1.3})
            a.observe(m);
        optim::reduce_on_plateau b(1.0, {.factor = 0.5, .patience = 1, .cooldown = 1});
        b.restore(a.state());
        for (double m : {1.4, 1.5, 0.1, 1.6, 1.7})
            CHECK(a.observe(m) == b.observe(m));
        CHECK(a.best() == b.best());
    }
    CHECK_THROWS_AS(optim::reduce_on_plateau(1.0, {.factor = 1.0}), std::invalid_argument);
}
