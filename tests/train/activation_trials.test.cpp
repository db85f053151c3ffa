// Activations compared by training: what is run, what is reported, and what is refused.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "../data/temp_dir.hpp"
#include "dendrite/data/synthetic.hpp"
#include "dendrite/train/activation_trials.hpp"

using namespace dendrite;

namespace {

data::train_test_data small_digits() {
    return {
        data::synthetic_digits(640, 1), data::synthetic_digits(200, 2), "640 generated digits", {}};
}

train::activation_trial_options quick() {
    train::activation_trial_options o;
    o.networks = {{"small MLP", "dense:24,{act},dense:10"},
                  {"small CNN", "conv:4:5,{act},maxpool:2,flatten,dense:10"}};
    o.seeds = 3;
    o.epochs = 2;
    o.batch_size = 64;
    return o;
}

std::string read(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("every network trains with every activation, seed by seed, reproducibly",
          "[train][activation_trials]") {
    auto kinds = nn::layer_registry<float>::builtin();
    kinds.add_activation(nn::activation{[](auto x) { return x * sigmoid(x); }, "my_swish"});
    const auto d = small_digits();
    const std::vector<train::trial_activation> acts = {
        "relu", "swish", {"my_swish", "swish written out"}, {"leaky_relu:0.2", "leaky 0.2"}};
    const train::activation_trials a = train::run_activation_trials(d, acts, quick(), kinds);
    REQUIRE(a.results.size() == 8);
    CHECK(a.results[0].network == "small MLP");
    CHECK(a.results[4].network == "small CNN");
    CHECK(a.results[2].activation == "swish written out");
    for (const train::activation_trial& t : a.results) {
        INFO(t.network << ", " << t.activation);
        REQUIRE(t.test_accuracy.size() == 3);
        CHECK(t.seeds == std::vector<std::uint64_t>{1, 2, 3});
        for (std::size_t s = 0; s < 3; ++s) {
            CHECK(t.test_accuracy[s] > 0.2);  // chance is 0.1: every run learnt something
            CHECK(t.test_accuracy[s] <= 1.0);
            CHECK(t.seconds_per_epoch[s] > 0);
        }
        CHECK(t.against_baseline.has_value() == (t.activation != "relu"));
    }
    // The same function under another name gives the same runs, to the bit.
    CHECK(a.results[2].test_accuracy == a.results[1].test_accuracy);
    CHECK(a.results[6].test_accuracy == a.results[5].test_accuracy);
    // And the same seeds give the same runs again.
    const train::activation_trials again =
        train::run_activation_trials(d, {"relu", "swish"}, quick(), kinds);
    CHECK(again.results[0].test_accuracy == a.results[0].test_accuracy);
    CHECK(again.results[3].test_accuracy == a.results[5].test_accuracy);
}

TEST_CASE("the report, the runs and the picture are written", "[train][activation_trials]") {
    auto o = quick();
    o.networks.pop_back();
    o.baseline = "gelu";
    const train::activation_trials t =
        train::run_activation_trials(small_digits(), {"relu", "gelu"}, o);
    const std::string md = train::activation_trials_report(t);
    CHECK_THAT(md, Catch::Contains("## small MLP"));
    CHECK_THAT(md, Catch::Contains("| activation | test accuracy (%) | vs gelu (points) | p |"));
    CHECK_THAT(md, Catch::Contains("| gelu | "));
    CHECK_THAT(md, Catch::Contains("(baseline)"));
    CHECK_THAT(md, Catch::Contains("3 times (seeds 1 to 3"));

    test_support::temp_dir dir;
    train::write_activation_trials(dir.path() / "lab", t);
    const std::string csv = read(dir.path() / "lab" / "trials.csv");
    CHECK(csv.rfind("network,activation,seed,test_accuracy,seconds_per_epoch\n", 0) == 0);
    CHECK(std::count(csv.begin(), csv.end(), '\n') == 1 + 2 * 3);
    CHECK_THAT(csv, Catch::Contains("small MLP,gelu,2,"));
    const std::string svg = read(dir.path() / "lab" / "trials.svg");
    CHECK(std::count(svg.begin(), svg.end(), '<') > 20);
    CHECK_THAT(svg, Catch::Contains("<circle"));
    CHECK(read(dir.path() / "lab" / "trials.md") == md);
}

TEST_CASE("what cannot be compared is refused, by name", "[train][activation_trials]") {
    const auto d = small_digits();
    auto o = quick();
    CHECK_THROWS_WITH(train::run_activation_trials(d, {"relu", "frobnicate"}, o),
                      Catch::Contains("'frobnicate' is not an activation the registry knows"));
    CHECK_THROWS_WITH(train::run_activation_trials(d, {"relu", "dense:4"}, o),
                      Catch::Contains("'dense:4' is not an activation"));
    CHECK_THROWS_WITH(train::run_activation_trials(d, {"gelu", "mish"}, o),
                      Catch::Contains("the baseline 'relu' is not among the activations tried"));
    CHECK_THROWS_WITH(train::run_activation_trials(d, {}, o), Catch::Contains("no activations"));
    o.networks = {{"fixed", "dense:10"}};
    CHECK_THROWS_WITH(train::run_activation_trials(d, {"relu"}, o),
                      Catch::Contains("network 'fixed' (\"dense:10\") has no \"{act}\""));
    o.networks = {{"too few outputs", "dense:8,{act},dense:3"}};
    CHECK_THROWS_WITH(train::run_activation_trials(d, {"relu"}, o),
                      Catch::Contains("gives 3 outputs but the data has 10 classes"));
    o.seeds = 0;
    CHECK_THROWS_WITH(train::run_activation_trials(d, {"relu"}, o),
                      Catch::Contains("seeds, epochs and batch size must be > 0"));
}
