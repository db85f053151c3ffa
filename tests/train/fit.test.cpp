// The training loop: it learns, it resumes bit-identically from a checkpoint, it stops early, and
// its metrics are right.
#include <catch2/catch.hpp>
#include <dendrite/dendrite.hpp>
#include <filesystem>
#include <fstream>

using namespace dendrite;

namespace {
auto small_net(std::uint64_t seed) {
    auto net = nn::sequential(nn::input<784>, nn::dense<32>, nn::relu, nn::dropout(0.1),
                              nn::batch_norm, nn::dense<10>);
    net.init(seed);
    return net;
}

std::filesystem::path temp_dir(const char* name) {
    auto dir = std::filesystem::temp_directory_path() / ("dendrite_fit_" + std::string(name));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}
}  // namespace

TEST_CASE("fit learns generated digits and evaluate agrees with its confusion matrix", "[train]") {
    const auto train_set = data::synthetic_digits(2000, 1);
    const auto test_set = data::synthetic_digits(500, 2);
    auto net = small_net(3);
    optim::adamw<float> opt({.lr = 3e-3});
    train::fit_options o;
    o.epochs = 4;
    o.batch_size = 64;
    o.log = nullptr;
    o.validation = &test_set;
    const auto result = train::fit(net, opt, train_set, o);
    REQUIRE(result.history.size() == 4);
    CHECK(result.history.back().train_loss < result.history.front().train_loss);
    const auto e = train::evaluate(net, test_set);
    CHECK(e.accuracy > 0.8);
    CHECK(e.confusion.total() == 500);
    CHECK(e.accuracy == Approx(static_cast<double>(e.confusion.correct()) / 500));
    CHECK(result.history.back().val_acc == Approx(e.accuracy));
}

TEST_CASE("a run resumed from a checkpoint ends bit-identical to an uninterrupted one",
          "[train][checkpoint]") {
    const auto train_set = data::synthetic_digits(600, 5);
    const auto dir = temp_dir("resume");
    train::fit_options o;
    o.batch_size = 50;
    o.seed = 9;
    o.log = nullptr;
    o.learning_rate = optim::cosine_annealing(2e-3, 4);

    auto uninterrupted = small_net(4);
    optim::adam<float> opt_a({.lr = 2e-3});
    o.epochs = 4;
    train::fit(uninterrupted, opt_a, train_set, o);

    auto first = small_net(4);
    optim::adam<float> opt_b({.lr = 2e-3});
    o.epochs = 2;
    o.checkpoint = dir / "checkpoint.safetensors";
    o.history_csv = dir / "history.csv";
    train::fit(first, opt_b, train_set, o);

    auto resumed = small_net(77);  // different start: everything must come from the checkpoint
    optim::adam<float> opt_c({.lr = 2e-3});
    o.epochs = 4;
    o.resume = true;
    const auto result = train::fit(resumed, opt_c, train_set, o);
    CHECK(result.history.size() == 4);  // the two saved rows and two new ones

    auto a = uninterrupted.parameters(), c = resumed.parameters();
    REQUIRE(a.size() == c.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        INFO(a[i].name);
        CHECK(std::equal(a[i].value.span().begin(), a[i].value.span().end(),
                         c[i].value.span().begin()));
    }
    std::vector<float> ra, rc;
    uninterrupted.for_each_buffer([&](const std::string&, tensor<float>& t) {
        ra.insert(ra.end(), t.span().begin(), t.span().end());
    });
    resumed.for_each_buffer([&](const std::string&, tensor<float>& t) {
        rc.insert(rc.end(), t.span().begin(), t.span().end());
    });
    CHECK(ra == rc);
    std::filesystem::remove_all(dir);
}

TEST_CASE("early stopping ends training when the validation loss stops improving", "[train]") {
    const auto train_set = data::synthetic_digits(300, 6);
    auto net = small_net(1);
    optim::sgd<float> opt(
        {.lr = 0.0});  // no learning: the validation loss never improves after epoch 1
    train::fit_options o;
    o.epochs = 10;
    o.patience = 2;
    o.log = nullptr;
    o.validation = &train_set;
    const auto result = train::fit(net, opt, train_set, o);
    CHECK(result.stopped_early);
    CHECK(result.history.size() < 10);
}

TEST_CASE("a callback returning false stops training", "[train]") {
    const auto train_set = data::synthetic_digits(200, 6);
    auto net = small_net(1);
    optim::sgd<float> opt({.lr = 0.01});
    train::fit_options o;
    o.epochs = 5;
    o.log = nullptr;
    std::size_t calls = 0;
    o.callbacks.push_back([&](const io::epoch_record& r) { return ++calls, r.epoch < 2; });
    const auto result = train::fit(net, opt, train_set, o);
    CHECK(calls == 2);
    CHECK(result.history.size() == 2);
}

TEST_CASE("fit writes its history, chart and checkpoint", "[train][io]") {
    const auto train_set = data::synthetic_digits(200, 8);
    const auto dir = temp_dir("outputs");
    auto net = small_net(2);
    optim::sgd<float> opt({.lr = 0.05, .momentum = 0.9});
    train::fit_options o;
    o.epochs = 2;
    o.log = nullptr;
    o.history_csv = dir / "h.csv";
    o.chart_svg = dir / "h.svg";
    o.checkpoint = dir / "c.safetensors";
    train::fit(net, opt, train_set, o);
    CHECK(io::read_history(dir / "h.csv").size() == 2);
    std::ifstream svg(dir / "h.svg");
    std::string text((std::istreambuf_iterator<char>(svg)), {});
    CHECK(text.find("<svg") != std::string::npos);
    const auto file = io::load_safetensors(dir / "c.safetensors");
    CHECK(file.metadata.at("epoch") == "2");
    CHECK(file.find("1.dense.weight") != nullptr);
    CHECK(file.find("optimizer.sgd.step") != nullptr);
    std::filesystem::remove_all(dir);
}

TEST_CASE("confusion matrix counts, accuracy, recall and precision", "[train][metrics]") {
    train::confusion_matrix m(3);
    const std::vector<std::int32_t> labels{0, 1, 2, 2};
    const tensor<float> scores(
        shape{4, 3}, {0.9f, 0.1f, 0.0f, 0.2f, 0.7f, 0.1f, 0.1f, 0.8f, 0.1f, 0.0f, 0.1f, 0.9f});
    m.add(labels, scores);
    CHECK(m.total() == 4);
    CHECK(m.count(2, 1) == 1);
    CHECK(m.accuracy() == Approx(0.75));
    CHECK(m.recall(2) == Approx(0.5));
    CHECK(m.precision(1) == Approx(0.5));
    CHECK_THROWS_AS(m.add(3, 0), std::out_of_range);
    CHECK(m.str({"a", "b", "c"}).find("recall") != std::string::npos);
}

TEST_CASE("fit trains sequence classifiers of both builders", "[train][sequence]") {
    // Whether id 3 occurs among 8 ids of 5: the last step of a recurrent layer must remember it.
    rng g(1);
    const auto make = [&](std::size_t n) {
        data::dataset d{tensor<float>(shape{n, 8}, 0.0f), {}, 2};
        for (std::size_t i = 0; i < n; ++i) {
            bool seen = false;
            for (std::size_t j = 0; j < 8; ++j) {
                const std::uint64_t id = g.below(5);
                d.x(i, j) = static_cast<float>(id);
                seen = seen || id == 3;
            }
            d.y.push_back(seen ? 1 : 0);
        }
        return d;
    };
    const data::dataset train = make(1000), test = make(300);
    train::fit_options options;
    options.epochs = 6;
    options.batch_size = 32;
    options.log = nullptr;
    nn::network<float> runtime(shape{8}, "embedding:5:8,gru:16,last,dense:2", 1);
    optim::adamw<float> opt({.lr = 1e-2});
    train::fit(runtime, opt, train, options);
    CHECK(train::evaluate(runtime, test).accuracy >= 0.95);

    auto fixed =
        nn::sequential(nn::input<8>, nn::embedding<5, 8>, nn::lstm<16>, nn::last, nn::dense<2>);
    fixed.init(1);
    optim::adamw<float> opt2({.lr = 1e-2});
    train::fit(fixed, opt2, train, options);
    CHECK(train::evaluate(fixed, test).accuracy >= 0.95);
}
