// A steady-state epoch of batches allocates nothing: the loader gathers shuffled rows into
// buffers it reuses (on its background thread too), and batches are views.
//
// Every global operator new of this executable is replaced by a counting one; it counts only
// while `counting` is set.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <new>
#include <utility>

#include "../support/counting_new.hpp"

#include "dendrite/data/loader.hpp"
#include "dendrite/data/synthetic.hpp"

using dendrite_test::allocations;
using dendrite_test::counting;

using namespace dendrite;

TEST_CASE("a steady-state epoch of batches allocates nothing", "[data][loader][allocation]") {
    const data::dataset ds = data::synthetic_digits(1000, 4);
    for (const auto& [shuffle, prefetch] : {std::pair{true, true}, {true, false}, {false, false}}) {
        INFO("shuffle " << shuffle << ", prefetch " << prefetch);
        data::batch_loader loader(
            ds, {.batch_size = 64, .shuffle = shuffle, .seed = 1, .prefetch = prefetch});
        double checksum = 0;
        auto epoch = [&] {
            for (const data::batch& b : loader.next_epoch())
                checksum += b.x(0, 0) + b.y[0];
        };
        epoch();
        allocations = 0;
        counting = true;
        epoch();
        epoch();
        counting = false;
        CHECK(allocations.load() == 0);
        CHECK(checksum > 0);
    }
    {
        tensor<float> probe;
        allocations = 0;
        counting = true;
        probe = tensor<float>(shape{10});
        counting = false;
        CHECK(allocations.load() == 1);  // the counter does see allocations
    }
}
