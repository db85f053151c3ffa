#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <set>
#include <tuple>
#include <vector>

#include "dendrite/data/error.hpp"
#include "dendrite/data/loader.hpp"

using namespace dendrite;

namespace {

/// n examples of 3 features; example i holds (i, i + 0.5, -i) and label i % 4.
data::dataset numbered(std::size_t n) {
    data::dataset ds{tensor<float>(shape{n, 3}), std::vector<std::int32_t>(n), 4};
    for (std::size_t i = 0; i < n; ++i) {
        ds.x(i, 0) = static_cast<float>(i);
        ds.x(i, 1) = static_cast<float>(i) + 0.5f;
        ds.x(i, 2) = -static_cast<float>(i);
        ds.y[i] = static_cast<std::int32_t>(i % 4);
    }
    return ds;
}

std::vector<std::size_t> epoch_indices(data::batch_loader& loader) {
    std::vector<std::size_t> seen;
    for (const data::batch& b : loader.next_epoch())
        seen.insert(seen.end(), b.indices.begin(), b.indices.end());
    return seen;
}

}  // namespace

TEST_CASE("without shuffling, batches are views of consecutive rows", "[data][loader]") {
    const data::dataset ds = numbered(10);
    data::batch_loader loader(ds, {.batch_size = 4, .shuffle = false});
    CHECK(loader.batches_per_epoch() == 3);
    std::vector<std::size_t> sizes;
    for (const data::batch& b : loader.next_epoch()) {
        sizes.push_back(b.size());
        CHECK(b.x.shares_storage_with(ds.x));
        CHECK(b.x.dim(0) == b.size());
        for (std::size_t k = 0; k < b.size(); ++k) {
            CHECK(b.indices[k] == b.index * 4 + k);
            CHECK(b.x(k, 0) == static_cast<float>(b.indices[k]));
            CHECK(b.y[k] == ds.y[b.indices[k]]);
        }
    }
    CHECK(sizes == std::vector<std::size_t>{4, 4, 2});

    data::batch_loader dropping(ds, {.batch_size = 4, .shuffle = false, .drop_last = true});
    CHECK(dropping.batches_per_epoch() == 2);
    std::size_t count = 0;
    for (const data::batch& b : dropping.next_epoch())
        count += b.size();
    CHECK(count == 8);
}

TEST_CASE("with shuffling, each epoch is a permutation gathered into contiguous batches",
          "[data][loader]") {
    const data::dataset ds = numbered(103);
    data::batch_loader loader(ds, {.batch_size = 16, .shuffle = true, .seed = 7});
    CHECK(loader.batches_per_epoch() == 7);
    std::vector<std::vector<std::size_t>> epochs;
    for (int e = 0; e < 3; ++e) {
        std::vector<std::size_t> seen;
        for (const data::batch& b : loader.next_epoch()) {
            CHECK(b.x.is_contiguous());
            CHECK(!b.x.shares_storage_with(ds.x));
            CHECK(b.x.dim(0) == b.size());
            CHECK(b.x.dim(1) == 3);
            for (std::size_t k = 0; k < b.size(); ++k) {
                const std::size_t i = b.indices[k];
                CHECK(b.x(k, 0) == static_cast<float>(i));
                CHECK(b.x(k, 2) == -static_cast<float>(i));
                CHECK(b.y[k] == ds.y[i]);
            }
            seen.insert(seen.end(), b.indices.begin(), b.indices.end());
        }
        CHECK(seen.size() == 103);
        std::vector<std::size_t> sorted = seen;
        std::sort(sorted.begin(), sorted.end());
        std::vector<std::size_t> all(103);
        std::iota(all.begin(), all.end(), std::size_t{0});
        CHECK(sorted == all);
        epochs.push_back(seen);
    }
    CHECK(loader.epoch() == 3);
    CHECK(epochs[0] != epochs[1]);
    CHECK(epochs[1] != epochs[2]);

    data::batch_loader same(ds, {.batch_size = 16, .seed = 7});
    CHECK(epoch_indices(same) == epochs[0]);
    data::batch_loader other(ds, {.batch_size = 16, .seed = 8});
    CHECK(epoch_indices(other) != epochs[0]);

    data::batch_loader dropping(ds, {.batch_size = 16, .drop_last = true, .seed = 7});
    const auto dropped = epoch_indices(dropping);
    CHECK(dropped.size() == 96);
    CHECK(std::equal(dropped.begin(), dropped.end(), epochs[0].begin()));
}

TEST_CASE("batches of rank-4 images keep their shape", "[data][loader]") {
    data::dataset ds{tensor<float>(shape{5, 1, 2, 2}), {0, 1, 0, 1, 0}, 2};
    for (std::size_t i = 0; i < 5; ++i)
        ds.x(i, 0, 1, 1) = static_cast<float>(i);
    data::batch_loader loader(ds, {.batch_size = 2, .seed = 3});
    for (const data::batch& b : loader.next_epoch()) {
        CHECK(b.x.rank() == 4);
        CHECK(b.x.dim(1) == 1);
        for (std::size_t k = 0; k < b.size(); ++k)
            CHECK(b.x(k, 0, 1, 1) == static_cast<float>(b.indices[k]));
    }
}

TEST_CASE("a restored loader continues bit-identically", "[data][loader]") {
    const data::dataset ds = numbered(50);
    data::batch_loader a(ds, {.batch_size = 8, .seed = 11});
    epoch_indices(a);
    epoch_indices(a);
    const data::loader_state saved = a.state();
    CHECK(saved.epoch == 2);
    // The current epoch's batches are available again after restoring ...
    std::vector<std::size_t> current;
    for (std::size_t i = 0; i < a.batches_per_epoch(); ++i) {
        const auto& b = a.at(i);
        current.insert(current.end(), b.indices.begin(), b.indices.end());
    }
    const auto third = epoch_indices(a);
    const auto fourth = epoch_indices(a);

    data::batch_loader b(ds, {.batch_size = 8, .seed = 11});
    b.restore(data::loader_state::parse(saved.str()));
    CHECK(b.epoch() == 2);
    std::vector<std::size_t> restored;
    for (std::size_t i = 0; i < b.batches_per_epoch(); ++i) {
        const auto& bt = b.at(i);
        restored.insert(restored.end(), bt.indices.begin(), bt.indices.end());
    }
    CHECK(restored == current);
    // ... and so are the epochs after it.
    CHECK(epoch_indices(b) == third);
    CHECK(epoch_indices(b) == fourth);
}

TEST_CASE("loader state text round-trips and rejects garbage", "[data][loader]") {
    data::batch_loader a(numbered(9), {.batch_size = 2, .seed = 5});
    a.next_epoch();
    const data::loader_state s = a.state();
    const data::loader_state t = data::loader_state::parse(s.str());
    CHECK(t.epoch == s.epoch);
    CHECK(
        std::equal(std::begin(t.generator.s), std::end(t.generator.s), std::begin(s.generator.s)));
    CHECK_THROWS_AS(data::loader_state::parse("epoch=3"), data_error);
    CHECK_THROWS_AS(data::loader_state::parse(s.str() + " extra"), data_error);
    CHECK_THROWS_AS(data::loader_state::parse(""), data_error);
}

namespace {

// Whether two batches hold the same examples, bit for bit.
bool same_batch(const data::batch& a, const data::batch& b) {
    return a.index == b.index && a.size() == b.size() && a.x.shape() == b.x.shape() &&
           std::equal(a.indices.begin(), a.indices.end(), b.indices.begin()) &&
           std::equal(a.y.begin(), a.y.end(), b.y.begin()) &&
           std::memcmp(a.x.data(), b.x.data(), a.x.size() * sizeof(float)) == 0;
}

// n examples of `features` values each, all different, and labels below 7.
data::dataset wide(std::size_t n, std::size_t features) {
    data::dataset ds{tensor<float>(shape{n, features}), std::vector<std::int32_t>(n), 7};
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = 0; j < features; ++j)
            ds.x(i, j) = static_cast<float>(i) + static_cast<float>(j) * 1e-4f;
        ds.y[i] = static_cast<std::int32_t>(i * 5 % 7);
    }
    return ds;
}

}  // namespace

TEST_CASE("a prefetching loader hands out exactly the batches of one that is not",
          "[data][loader][prefetch]") {
    // Batches large enough that the next one is often still being gathered when it is asked
    // for, small ones that are always ready, and a short last batch in both.
    for (const auto& [n, features, batch] :
         {std::tuple<std::size_t, std::size_t, std::size_t>{3001, 512, 500},
          {1003, 3, 16},
          {37, 5, 37},
          {5, 2, 8}}) {
        INFO("n = " << n << ", features = " << features << ", batch = " << batch);
        const data::dataset ds = wide(n, features);
        data::batch_loader fast(ds, {.batch_size = batch, .seed = 4, .prefetch = true});
        data::batch_loader plain(ds, {.batch_size = batch, .seed = 4, .prefetch = false});
        std::size_t compared = 0;
        for (int epoch = 0; epoch < 12; ++epoch) {
            const auto a = fast.next_epoch();
            const auto b = plain.next_epoch();
            REQUIRE(a.size() == b.size());
            if (epoch % 4 == 1) {
                // Out of order, repeated, and an epoch left after a few batches.
                for (const std::size_t i : {std::size_t{2}, std::size_t{0}, std::size_t{0},
                                            a.size() - 1, std::size_t{1}}) {
                    if (i >= a.size()) continue;
                    CHECK(same_batch(fast.at(i), plain.at(i)));
                    ++compared;
                }
                continue;
            }
            auto ib = b.begin();
            for (const data::batch& x : a) {
                CHECK(same_batch(x, *ib));
                ++ib;
                ++compared;
            }
        }
        CHECK(compared > 12);
        // Moved, and restored to an earlier state: still the same batches.
        const data::loader_state saved = plain.state();
        data::batch_loader moved = std::move(fast);
        moved.restore(saved);
        plain.restore(saved);
        for (int epoch = 0; epoch < 2; ++epoch) {
            auto ib = plain.next_epoch().begin();
            for (const data::batch& x : moved.next_epoch()) {
                CHECK(same_batch(x, *ib));
                ++ib;
            }
        }
    }
}

TEST_CASE("loader misuse is reported", "[data][loader]") {
    const data::dataset ds = numbered(5);
    CHECK_THROWS_AS(data::batch_loader(ds, {.batch_size = 0}), std::invalid_argument);
    data::batch_loader loader(ds, {.batch_size = 2});
    CHECK_THROWS_AS(loader.at(0), std::logic_error);
    loader.next_epoch();
    CHECK_THROWS_AS(loader.at(3), std::out_of_range);
    data::dataset bad = ds;
    bad.y.pop_back();
    CHECK_THROWS_WITH(data::batch_loader(bad),
                      Catch::Contains("x has 5 examples but y has 4 labels"));
    bad = ds;
    bad.y[2] = 4;
    CHECK_THROWS_WITH(data::batch_loader(bad),
                      Catch::Contains("label 4 of example 2 is outside [0, 4)"));
    data::batch_loader empty(data::dataset{tensor<float>(shape{0, 3}), {}, 4}, {.batch_size = 2});
    CHECK(empty.batches_per_epoch() == 0);
    for (const data::batch& b : empty.next_epoch())
        FAIL("no batch expected, got " << b.size());
}

TEST_CASE("train_validation_split is a seeded partition", "[data][split]") {
    const data::dataset ds = numbered(101);
    const auto [train, val] = data::train_validation_split(ds, 0.2, 99);
    CHECK(val.size() == 20);
    CHECK(train.size() == 81);
    CHECK(train.classes == 4);
    std::set<float> seen;
    for (const data::dataset* part : {&train, &val})
        for (std::size_t i = 0; i < part->size(); ++i) {
            const float id = part->x(i, 0);
            CHECK(part->x(i, 1) == id + 0.5f);
            CHECK(part->y[i] == static_cast<std::int32_t>(static_cast<std::size_t>(id) % 4));
            CHECK(seen.insert(id).second);
        }
    CHECK(seen.size() == 101);

    const auto [train2, val2] = data::train_validation_split(ds, 0.2, 99);
    CHECK(std::equal(val.x.span().begin(), val.x.span().end(), val2.x.span().begin()));
    const auto [train3, val3] = data::train_validation_split(ds, 0.2, 100);
    CHECK(!std::equal(val.x.span().begin(), val.x.span().end(), val3.x.span().begin()));

    CHECK(data::train_validation_split(ds, 0.0, 1).second.size() == 0);
    CHECK(data::train_validation_split(ds, 1.0, 1).first.size() == 0);
    CHECK_THROWS_AS(data::train_validation_split(ds, 1.5, 1), std::invalid_argument);
    CHECK_THROWS_AS(data::train_validation_split(ds, -0.1, 1), std::invalid_argument);
}
