// The statistics of comparing runs, against published figures.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "dendrite/train/statistics.hpp"

using namespace dendrite;

TEST_CASE("mean and sample standard deviation", "[train][statistics]") {
    const std::vector<double> v = {2, 4, 4, 4, 5, 5, 7, 9};
    const train::sample_summary s = train::summarize(v);
    CHECK(s.count == 8);
    CHECK(s.mean == 5);
    CHECK(std::abs(s.stddev - std::sqrt(32.0 / 7)) < 1e-15);
    CHECK(train::summarize(std::vector<double>{3.5}).stddev == 0);
    CHECK(train::summarize(std::vector<double>{}).count == 0);
}

TEST_CASE("Welch's t-test reproduces the textbook result on Student's sleep data",
          "[train][statistics]") {
    // Extra hours of sleep under two drugs (Cushny and Peebles, as in Student 1908). Welch's
    // test as R's t.test(extra ~ group, data = sleep) reports it: t = -1.8608, df = 17.776,
    // p-value = 0.07939.
    const std::vector<double> a = {0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0};
    const std::vector<double> b = {1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4};
    const train::welch_test w = train::welch_t_test(a, b);
    CHECK(std::abs(w.t - -1.8608) < 5e-5);
    CHECK(std::abs(w.degrees_of_freedom - 17.776) < 5e-4);
    CHECK(std::abs(w.p_value - 0.07939) < 5e-6);
    // Symmetric: the other way round only flips t's sign.
    const train::welch_test back = train::welch_t_test(b, a);
    CHECK(back.t == -w.t);
    CHECK(std::abs(back.p_value - w.p_value) < 1e-15);
}

TEST_CASE("Welch's t-test at its edges", "[train][statistics]") {
    const std::vector<double> same = {0.5, 0.5, 0.5}, other = {0.75, 0.75};
    CHECK(train::welch_t_test(same, same).p_value == 1);
    CHECK(train::welch_t_test(same, other).p_value == 0);
    // Equal means, some spread: nothing to see.
    const std::vector<double> a = {1, 2, 3}, b = {0, 2, 4};
    CHECK(train::welch_t_test(a, b).p_value == Approx(1).margin(1e-12));
    // Far apart with little spread: p is tiny but positive.
    const std::vector<double> lo = {1.00, 1.01, 0.99, 1.02}, hi = {2.00, 2.01, 1.99, 2.02};
    const double p = train::welch_t_test(lo, hi).p_value;
    CHECK(p > 0);
    CHECK(p < 1e-6);
    CHECK_THROWS_WITH(train::welch_t_test(std::vector<double>{1}, b),
                      Catch::Contains("at least two values per sample; got 1 and 3"));
}
