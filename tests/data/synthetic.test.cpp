#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "dendrite/data/synthetic.hpp"

using namespace dendrite;

namespace {

/// Held-out accuracy of multinomial logistic regression trained by plain SGD: a floor for what any
/// network reaches, computed without the library's autodiff.
double linear_accuracy(const data::dataset& train, const data::dataset& test, int epochs) {
    const std::size_t d = train.example_size(), k = train.classes;
    std::vector<double> w(d * k, 0.0), b(k, 0.0), logits(k);
    auto scores = [&](const float* x) {
        for (std::size_t c = 0; c < k; ++c) {
            double s = b[c];
            for (std::size_t j = 0; j < d; ++j)
                s += w[j * k + c] * x[j];
            logits[c] = s;
        }
    };
    const double lr = 0.05;
    for (int e = 0; e < epochs; ++e)
        for (std::size_t i = 0; i < train.size(); ++i) {
            const float* x = train.x.data() + i * d;
            scores(x);
            const double m = *std::max_element(logits.begin(), logits.end());
            double z = 0;
            for (double& l : logits)
                z += (l = std::exp(l - m));
            for (std::size_t c = 0; c < k; ++c) {
                const double g =
                    logits[c] / z - (static_cast<std::int32_t>(c) == train.y[i] ? 1.0 : 0.0);
                b[c] -= lr * g;
                for (std::size_t j = 0; j < d; ++j)
                    w[j * k + c] -= lr * g * x[j];
            }
        }
    std::size_t correct = 0;
    for (std::size_t i = 0; i < test.size(); ++i) {
        scores(test.x.data() + i * d);
        correct += static_cast<std::int32_t>(std::max_element(logits.begin(), logits.end()) -
                                             logits.begin()) == test.y[i];
    }
    return static_cast<double>(correct) / static_cast<double>(test.size());
}

}  // namespace

TEST_CASE("synthetic digits: shapes, range, balance, determinism", "[data][synthetic]") {
    const data::dataset ds = data::synthetic_digits(1000, 42);
    REQUIRE(ds.x.shape() == shape{1000, 784});
    CHECK(ds.classes == 10);
    CHECK(ds.class_names.size() == 10);
    std::vector<int> counts(10, 0);
    for (std::int32_t l : ds.y)
        ++counts.at(static_cast<std::size_t>(l));
    for (int c : counts)
        CHECK(c == 100);
    const auto [lo, hi] = std::minmax_element(ds.x.span().begin(), ds.x.span().end());
    CHECK(*lo >= 0.0f);
    CHECK(*hi <= 1.0f);
    CHECK(*hi > 0.9f);

    const data::dataset again = data::synthetic_digits(1000, 42);
    CHECK(again.y == ds.y);
    CHECK(std::equal(ds.x.span().begin(), ds.x.span().end(), again.x.span().begin()));
    const data::dataset other = data::synthetic_digits(1000, 43);
    CHECK(!std::equal(ds.x.span().begin(), ds.x.span().end(), other.x.span().begin()));

    const data::dataset images = data::synthetic_digits(10, 42, data::image_layout::channels);
    CHECK(images.x.shape() == shape{10, 1, 28, 28});
}

TEST_CASE("synthetic digits are learnable but not trivially", "[data][synthetic]") {
    const data::dataset train = data::synthetic_digits(3000, 1);
    const data::dataset test = data::synthetic_digits(1000, 2);
    const double acc = linear_accuracy(train, test, 3);
    INFO("held-out accuracy of a linear model: " << acc);
    CHECK(acc > 0.8);
    CHECK(acc < 0.995);
}
