// fit's loop is the plain loop: the same weights, losses and accuracies as a hand-written loop
// over data::batch_loader with the same seed, for a static and a run-time network; its accuracy
// count agrees with a scalar argmax; and a steady-state epoch allocates nothing.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include <dendrite/dendrite.hpp>

#include "../support/counting_new.hpp"

using namespace dendrite;

namespace {

auto sequential_net() {
    auto net = nn::sequential(nn::input<784>, nn::dense<24>, nn::relu, nn::dense<16>, nn::relu,
                              nn::dense<10>);
    net.init(5);
    return net;
}

nn::network<float> runtime_net() {
    return nn::network<float>(784, "dense:24,relu,dense:16,relu,dense:10", 5);
}

struct epoch_sums {
    double loss = 0;
    std::size_t correct = 0, seen = 0;
};

// The loop as a user writes it, the accuracy by a scalar argmax; the loader gathers every batch
// itself (no prefetching).
template <class Net>
std::vector<epoch_sums> hand_written_loop(Net& net, optim::sgd<float>& opt, const data::dataset& ds,
                                          std::size_t batch, std::uint64_t seed,
                                          std::size_t epochs) {
    data::batch_loader loader(
        ds, {.batch_size = batch, .shuffle = true, .seed = seed, .prefetch = false});
    auto params = net.parameters();
    tape t;
    std::vector<epoch_sums> sums;
    for (std::size_t e = 0; e < epochs; ++e) {
        net.train();
        epoch_sums s;
        for (const data::batch& b : loader.next_epoch()) {
            t.clear();
            net.zero_grad();
            const auto logits = net(t, b.x);
            const auto l = softmax_cross_entropy(logits, b.y);
            l.backward();
            opt.step(params);
            s.loss += static_cast<double>(l.item()) * static_cast<double>(b.size());
            const tensor<float>& z = logits.value();
            for (std::size_t i = 0; i < b.size(); ++i) {
                std::size_t best = 0;
                for (std::size_t k = 1; k < z.dim(1); ++k)
                    if (z(i, k) > z(i, best)) best = k;
                s.correct += best == static_cast<std::size_t>(b.y[i]);
            }
            s.seen += b.size();
        }
        sums.push_back(s);
    }
    return sums;
}

template <class Make>
void check_same_as_hand_written(Make make) {
    auto fitted = make(), by_hand = make(), untouched = make();
    const data::dataset ds = data::synthetic_digits(997, 12);  // a short last batch
    constexpr std::size_t epochs = 3, batch = 64;
    constexpr std::uint64_t seed = 21;
    optim::sgd<float> opt_fit({.lr = 0.05, .momentum = 0.9});
    optim::sgd<float> opt_hand({.lr = 0.05, .momentum = 0.9});

    train::fit_options o;
    o.epochs = epochs;
    o.batch_size = batch;
    o.seed = seed;
    o.log = nullptr;
    const train::fit_result result = train::fit(fitted, opt_fit, ds, o);
    const auto sums = hand_written_loop(by_hand, opt_hand, ds, batch, seed, epochs);

    REQUIRE(result.history.size() == epochs);
    for (std::size_t e = 0; e < epochs; ++e) {
        INFO("epoch " << e + 1);
        CHECK(result.history[e].train_loss == sums[e].loss / static_cast<double>(sums[e].seen));
        CHECK(result.history[e].train_acc ==
              static_cast<double>(sums[e].correct) / static_cast<double>(sums[e].seen));
    }
    auto a = fitted.parameters(), b = by_hand.parameters(), u = untouched.parameters();
    REQUIRE(a.size() == b.size());
    std::size_t moved = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        INFO(a[i].name);
        const std::size_t bytes = a[i].value.size() * sizeof(float);
        REQUIRE(a[i].value.size() == b[i].value.size());
        CHECK(std::memcmp(a[i].value.data(), b[i].value.data(), bytes) == 0);
        moved += std::memcmp(a[i].value.data(), u[i].value.data(), bytes) != 0;
    }
    CHECK(moved == a.size());  // training changed every parameter: the comparison means something
}

}  // namespace

TEST_CASE("fit trains bit-identically to a hand-written loop over batch_loader", "[train][loop]") {
    SECTION("nn::sequential") {
        check_same_as_hand_written(sequential_net);
    }
    SECTION("nn::network") {
        check_same_as_hand_written(runtime_net);
    }
}

namespace {

// The rule of fit's accuracy, one row at a time.
template <class T>
std::size_t scalar_correct(const tensor<T>& z, const std::vector<std::int32_t>& labels) {
    std::size_t correct = 0;
    for (std::size_t i = 0; i < labels.size(); ++i) {
        std::size_t best = 0;
        for (std::size_t k = 1; k < z.dim(1); ++k)
            if (z(i, k) > z(i, best)) best = k;
        correct += best == static_cast<std::size_t>(labels[i]);
    }
    return correct;
}

}  // namespace

TEMPLATE_TEST_CASE("count_correct agrees with a scalar argmax, ties, zeros, NaN and infinities",
                   "[train][metrics]", float, double) {
    using T = TestType;
    rng g(3);
    const T specials[] = {std::numeric_limits<T>::quiet_NaN(), -std::numeric_limits<T>::infinity(),
                          std::numeric_limits<T>::infinity(), T(-0.0), T(0.0)};
    for (const std::size_t classes : {1, 2, 3, 10, 17})
        for (const std::size_t n : {0, 1, 7, 8, 15, 16, 17, 33, 100}) {
            INFO("n = " << n << ", classes = " << classes);
            tensor<T> z(shape{n, classes});
            std::vector<std::int32_t> labels(n);
            for (std::size_t i = 0; i < n; ++i) {
                // Few distinct values, so that rows hold ties; every fifth entry a special.
                for (std::size_t k = 0; k < classes; ++k)
                    z(i, k) = g.below(5) == 0 ? specials[g.below(5)] : static_cast<T>(g.below(4));
                labels[i] = static_cast<std::int32_t>(g.below(classes));
            }
            const std::size_t expected = scalar_correct(z, labels);
            CHECK(train::count_correct(z, labels) == expected);
            // A transposed view is not contiguous: the same count, row by row.
            const tensor<T> zt = z.transpose().clone().transpose();
            CHECK(train::count_correct(zt, labels) == expected);
            if (n > 0) {
                // The prediction of every row made right: all correct.
                for (std::size_t i = 0; i < n; ++i) {
                    std::size_t best = 0;
                    for (std::size_t k = 1; k < classes; ++k)
                        if (z(i, k) > z(i, best)) best = k;
                    labels[i] = static_cast<std::int32_t>(best);
                }
                CHECK(train::count_correct(z, labels) == n);
            }
        }
    const tensor<T> z(shape{4, 3});
    const std::vector<std::int32_t> three(3);
    CHECK_THROWS_AS(train::count_correct(z, three), shape_error);
}

namespace {

// SGD that turns the allocation counter on after the first step of epoch `from` and off after
// the last step of epoch `to`: what fit does in between, steps and everything around them.
struct counting_sgd {
    optim::sgd<float> inner{{.lr = 0.01, .momentum = 0.9}};
    std::size_t batches_per_epoch = 0, from = 0, to = 0, steps = 0;
    std::size_t counted = 0;

    void step(nn::parameter_list<float>& params) {
        inner.step(params);
        ++steps;
        if (steps == (from - 1) * batches_per_epoch + 1) {
            dendrite_test::allocations = 0;
            dendrite_test::counting = true;
        }
        if (steps == to * batches_per_epoch) {
            dendrite_test::counting = false;
            counted = dendrite_test::allocations.load();
        }
    }
    double learning_rate() const noexcept { return inner.learning_rate(); }
    void set_learning_rate(double lr) { inner.set_learning_rate(lr); }
    auto state() const { return inner.state(); }
    template <class S>
    void load_state(const nn::parameter_list<float>& params, const S& s) {
        inner.load_state(params, s);
    }
};

template <class Net>
void check_no_allocation(Net net, std::size_t batch) {
    const data::dataset ds = data::synthetic_digits(700, 4);
    counting_sgd opt;
    opt.batches_per_epoch = (ds.size() + batch - 1) / batch;
    opt.from = 2;
    opt.to = 4;
    train::fit_options o;
    o.epochs = 4;
    o.batch_size = batch;
    o.log = nullptr;
    const auto result = train::fit(net, opt, ds, o);
    REQUIRE(opt.steps == 4 * opt.batches_per_epoch);
    CHECK(opt.counted == 0);
    CHECK(result.history.size() == 4);
}

}  // namespace

TEST_CASE("a steady-state epoch of fit allocates nothing", "[train][loop][allocation]") {
    for (const std::size_t batch : {32, 128, 700}) {
        INFO("batch " << batch);
        check_no_allocation(sequential_net(), batch);
        check_no_allocation(runtime_net(), batch);
    }
    // The counter does see allocations made between two steps.
    const std::size_t seen = dendrite_test::allocations_during([] { std::vector<int> v(3); });
    CHECK(seen == 1);
}
