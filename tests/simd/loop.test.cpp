// The loop engine: every element visited once, in order, a whole register or one element at a
// time (for_lanes), with the accumulator slot of an unrolled group (for_lanes_unrolled), or a
// masked last register whose memory past the range is never touched (for_registers).

#include <cstddef>
#include <type_traits>
#include <vector>

#include <catch2/catch.hpp>

#include "dendrite/simd/loop.hpp"
#include "dendrite/simd/simd.hpp"

using namespace dendrite;

namespace {

constexpr std::size_t sizes[] = {0, 1, 7, 15, 16, 17, 33, 64, 257};

/// What a body saw at each index: 0 never, 1 in a register, 2 as a scalar; more means twice.
template <class T>
struct visits {
    std::vector<int> seen;
    std::vector<std::size_t> order;
    explicit visits(std::size_t n) : seen(n, 0) {}
};

}  // namespace

TEMPLATE_TEST_CASE("for_lanes: whole registers, then each element left, in order", "[simd][loop]",
                   float, double) {
    using T = TestType;
    constexpr std::size_t w = simd::width<T>;
    for (std::size_t n : sizes)
        for (std::size_t begin : {std::size_t{0}, std::size_t{3}}) {
            if (begin > n) continue;
            visits<T> v(n);
            simd::for_lanes<T>(begin, n, [&]<class X>(std::size_t i) {
                v.order.push_back(i);
                const std::size_t lanes = simd::is_batch_v<X> ? w : 1;
                for (std::size_t k = 0; k < lanes; ++k)
                    v.seen[i + k] += simd::is_batch_v<X> ? 1 : 2;
            });
            INFO("n = " << n << ", begin = " << begin);
            const std::size_t whole = begin + (n - begin) / w * w;
            for (std::size_t i = 0; i < n; ++i)
                CHECK(v.seen[i] == (i < begin ? 0 : i < whole ? 1 : 2));
            for (std::size_t k = 1; k < v.order.size(); ++k)
                CHECK(v.order[k] > v.order[k - 1]);
        }
}

TEMPLATE_TEST_CASE("for_lanes_unrolled: groups of registers with their slot, then the rest",
                   "[simd][loop]", float, double) {
    using T = TestType;
    constexpr std::size_t w = simd::width<T>;
    for (std::size_t n : sizes) {
        std::vector<int> slot(n, -1), scalar(n, 0);
        simd::for_lanes_unrolled<T, 4>(0, n, [&]<class X>(std::size_t i, auto k) {
            if constexpr (simd::is_batch_v<X>) {
                for (std::size_t l = 0; l < w; ++l)
                    slot[i + l] = static_cast<int>(k);
            } else {
                CHECK(k == 0);
                scalar[i] += 1;
            }
        });
        INFO("n = " << n);
        const std::size_t groups = n / (4 * w) * 4 * w, whole = n / w * w;
        for (std::size_t i = 0; i < n; ++i) {
            if (i < groups)
                CHECK(slot[i] == static_cast<int>(i / w % 4));
            else if (i < whole)
                CHECK(slot[i] == 0);
            else
                CHECK((slot[i] == -1 && scalar[i] == 1));
        }
        // The building blocks: registers up to the returned index, elements after it.
        std::size_t registers = 0;
        auto count = [&]<class X>(std::size_t, auto) { ++registers; };
        CHECK(simd::for_whole_registers_unrolled<T, 4>(0, n, count) == whole);
        CHECK(registers == n / w);
    }
}

TEMPLATE_TEST_CASE("for_registers: whole registers, then one masked register", "[simd][loop]",
                   float, double) {
    using T = TestType;
    constexpr std::size_t w = simd::width<T>;
    for (std::size_t n : sizes) {
        // y = 2 x + 1 over [0, n), the elements after n set to a sentinel that must survive.
        std::vector<T> x(n + w), y(n + w, T(-7));
        for (std::size_t i = 0; i < n + w; ++i)
            x[i] = static_cast<T>(i) + T(0.5);
        std::size_t partial_calls = 0;
        simd::for_registers<T>(0, n, [&](std::size_t i, auto lanes) {
            using B = simd::batch<T>;
            if constexpr (decltype(lanes)::partial) {
                ++partial_calls;
                CHECK(lanes.count() == n % w);
                // Lanes past the range read the fill value, not memory.
                const B v = lanes.load(x.data() + i, T(100));
                CHECK(v.get(w - 1) == T(100));
            } else {
                CHECK(lanes.count() == w);
            }
            lanes.store(y.data() + i, B(T(2)) * lanes.load(x.data() + i) + B(T(1)));
        });
        INFO("n = " << n);
        CHECK(partial_calls == (n % w != 0 ? 1u : 0u));
        for (std::size_t i = 0; i < n; ++i)
            CHECK(y[i] == T(2) * x[i] + T(1));
        for (std::size_t i = n; i < n + w; ++i)
            CHECK(y[i] == T(-7));
    }
}

TEMPLATE_TEST_CASE("load_lanes and store_lanes serve a register and an element alike",
                   "[simd][loop]", float, double) {
    using T = TestType;
    constexpr std::size_t w = simd::width<T>;
    std::vector<T> a(w), b(w, T(0));
    for (std::size_t i = 0; i < w; ++i)
        a[i] = static_cast<T>(i * i);
    simd::store_lanes(b.data(), simd::load_lanes<simd::batch<T>>(a.data()));
    CHECK(b == a);
    simd::store_lanes(b.data() + 1, simd::load_lanes<T>(a.data() + 2));
    CHECK(b[1] == a[2]);
    CHECK(b[2] == a[2]);
}
