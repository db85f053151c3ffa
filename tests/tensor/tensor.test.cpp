// dendrite::tensor: construction, shapes, printing, views and their errors, copies and handles,
// and seeded random tensors.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

#include <catch2/catch.hpp>

#include "dendrite/expr/evaluate.hpp"
#include "dendrite/tensor/print.hpp"
#include "dendrite/tensor/random.hpp"
#include "dendrite/tensor/tensor.hpp"

using dendrite::shape;
using dendrite::shape_error;
using dendrite::tensor;

namespace {
template <class T>
tensor<T> iota(const shape& s) {
    tensor<T> t = tensor<T>::uninitialized(s);
    for (std::size_t i = 0; i < t.size(); ++i)
        t.data()[i] = static_cast<T>(i);
    return t;
}
template <class F>
std::string message_of(F&& f) {
    try {
        f();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "no exception";
}
}  // namespace

TEMPLATE_TEST_CASE("construction, shapes and alignment", "[tensor]", float, double) {
    using T = TestType;
    const tensor<T> empty;
    CHECK(empty.shape() == shape{0});
    CHECK(empty.empty());
    const tensor<T> z(shape{2, 3, 4});
    CHECK(z.rank() == 3);
    CHECK(z.size() == 24);
    CHECK(z.stride(0) == 12);
    CHECK(z.stride(2) == 1);
    CHECK(z(1, 2, 3) == 0);
    CHECK(reinterpret_cast<std::uintptr_t>(z.data()) % 64 == 0);
    const tensor<T> f(shape{5}, T(2.5));
    CHECK((f(0) == T(2.5) && f(4) == T(2.5)));
    const tensor<T> l{T(1), T(2), T(3)};
    CHECK(l.shape() == shape{3});
    const tensor<T> m(shape{2, 2}, {1, 2, 3, 4});
    CHECK(m(1, 0) == 3);
    CHECK_THROWS_AS(tensor<T>(shape{2, 2}, {1, 2, 3}), shape_error);
    CHECK_THROWS_AS((shape{1, 2, 3, 4, 5}), shape_error);
    const tensor<T> s(shape{}, T(7));
    CHECK(s.rank() == 0);
    CHECK(s.size() == 1);
    CHECK(s.item() == 7);
    CHECK_THROWS_AS(m.item(), shape_error);
    T buffer[6] = {0, 1, 2, 3, 4, 5};
    tensor<T> w = tensor<T>::wrap(buffer, {2, 3});
    w(1, 1) = 40;
    CHECK(buffer[4] == 40);  // no copy
}

TEST_CASE("printing", "[tensor]") {
    CHECK(dendrite::to_string(tensor<float>(shape{2, 2}, {1, 2, 3, 4.5f})) ==
          "tensor([[1, 2],\n        [3, 4.5]], shape=[2, 2])");
    CHECK(dendrite::to_string(tensor<double>(shape{}, 3.0)) == "tensor(3, shape=[])");
    CHECK(dendrite::to_string(iota<float>({10})) == "tensor([0, 1, 2, ..., 7, 8, 9], shape=[10])");
    CHECK(dendrite::to_string(iota<float>({3, 4}).transpose()) ==
          "tensor([[0, 4, 8],\n        [1, 5, 9],\n        [2, 6, 10],\n        [3, 7, 11]], "
          "shape=[4, 3])");
    CHECK(shape{32, 784}.str() == "[32, 784]");
}

TEMPLATE_TEST_CASE("views share storage and copy nothing", "[tensor][views]", float, double) {
    using T = TestType;
    tensor<T> data = iota<T>({10, 7});
    SECTION("rows of a batch") {
        tensor<T> batch = data.rows(2, 5);
        CHECK(batch.shape() == shape{3, 7});
        CHECK(batch.data() == data.data() + 14);
        CHECK(batch.is_contiguous());
        batch(0, 0) = -1;
        CHECK(data(2, 0) == -1);
        CHECK(batch.shares_storage_with(data));
    }
    SECTION("slice along an inner axis is strided") {
        tensor<T> s = data.slice(1, 2, 5);
        CHECK(s.shape() == shape{10, 3});
        CHECK(s.stride(0) == 7);
        CHECK_FALSE(s.is_contiguous());
        CHECK(s(4, 1) == data(4, 3));
        CHECK(data.slice(1, 3, 3).size() == 0);
        CHECK_THROWS_AS(data.slice(2, 0, 1), shape_error);
        CHECK_THROWS_AS(data.slice(1, 5, 8), shape_error);
        CHECK_THROWS_AS(data.slice(1, 4, 3), shape_error);
    }
    SECTION("operator[] drops the first axis") {
        tensor<T> r = data[3];
        CHECK(r.shape() == shape{7});
        CHECK(r(6) == data(3, 6));
        CHECK(data[3][6].item() == data(3, 6));
        CHECK(data[3][6].rank() == 0);
        CHECK_THAT(message_of([&] { (void)data[10]; }),
                   Catch::Contains("index 10") && Catch::Contains("[10, 7]"));
    }
    SECTION("transpose swaps shape and strides") {
        tensor<T> t = data.transpose();
        CHECK(t.shape() == shape{7, 10});
        CHECK(t(6, 9) == data(9, 6));
        tensor<T> r4 = iota<T>({2, 3, 4, 5}).transpose(1, 3);
        CHECK(r4.shape() == shape{2, 5, 4, 3});
        CHECK(r4(1, 4, 2, 0) == iota<T>({2, 3, 4, 5})(1, 0, 2, 4));
        CHECK_THROWS_AS(data.transpose(0, 2), shape_error);
    }
    SECTION("reshape and flatten of contiguous tensors, errors on strided views") {
        tensor<T> r = data.reshape({7, 10});
        CHECK(r.data() == data.data());
        CHECK(r(1, 0) == 10);
        CHECK(data.rows(1, 3).flatten().shape() == shape{14});
        CHECK_THAT(message_of([&] {
                       (void)data.reshape({3, 3});
                   }),
                   Catch::Contains("[10, 7]") && Catch::Contains("[3, 3]"));
        CHECK_THAT(message_of([&] { (void)data.transpose().flatten(); }),
                   Catch::Contains("strided view"));
        CHECK_THROWS_AS(data.slice(1, 0, 3).reshape({30}), shape_error);
        CHECK_THROWS_AS(data.transpose().span(), shape_error);
    }
}

TEMPLATE_TEST_CASE("at() checks bounds and names the index and the shape", "[tensor]", float,
                   double) {
    using T = TestType;
    tensor<T> t = iota<T>({2, 3});
    CHECK(t.at(1, 2) == 5);
    CHECK_THROWS_AS(t.at(2, 0), std::out_of_range);
    CHECK(message_of([&] { (void)t.at(1, 3); }) ==
          "tensor::at: index (1, 3) out of range for shape [2, 3]");
    // The wrong number of indices is an error too, not a silent partial index.
    CHECK_THAT(message_of([&] { (void)t.at(1); }),
               Catch::Contains("(1)") && Catch::Contains("[2, 3]"));
    CHECK_THROWS_AS(t.at(0, 0, 0), std::out_of_range);
}

TEMPLATE_TEST_CASE("clone copies, fill writes through strided views only", "[tensor]", float,
                   double) {
    using T = TestType;
    tensor<T> data = iota<T>({6, 5});
    tensor<T> c = data.transpose().clone();
    CHECK(c.is_contiguous());
    CHECK_FALSE(c.shares_storage_with(data));
    CHECK(c(4, 5) == data(5, 4));
    c(0, 0) = 100;
    CHECK(data(0, 0) == 0);
    data.slice(1, 1, 3).fill(-1);
    for (std::size_t i = 0; i < 6; ++i)
        for (std::size_t j = 0; j < 5; ++j)
            CHECK(data(i, j) == (j == 1 || j == 2 ? T(-1) : T(5 * i + j)));
    data.transpose().slice(0, 4, 5).fill(9);  // column 4 through a transposed view
    for (std::size_t i = 0; i < 6; ++i)
        CHECK(data(i, 4) == 9);
}

TEMPLATE_TEST_CASE("a copy is a handle to the same storage", "[tensor]", float, double) {
    using T = TestType;
    tensor<T> x = iota<T>({4});
    tensor<T> y = x;
    CHECK(y.shares_storage_with(x));
    CHECK_FALSE(x.owns_storage_exclusively());
    y(0) = 42;
    CHECK(x(0) == 42);
    y = x * 2;  // shared: y gets fresh storage, x keeps its values
    CHECK(x(1) == 1);
    CHECK(y(1) == 2);
    CHECK(x.owns_storage_exclusively());
    tensor<T> z(shape{4});
    z.assign(x);  // copies elements
    x(3) = -5;
    CHECK(z(3) == 3);
}

TEST_CASE("seeded random tensors are reproducible", "[tensor][random]") {
    dendrite::rng a(123), b(123), c(124);
    const tensor<float> u1 = dendrite::uniform<float>({1000}, -2, 3, a),
                        u2 = dendrite::uniform<float>({1000}, -2, 3, b);
    const tensor<float> u3 = dendrite::uniform<float>({1000}, -2, 3, c);
    CHECK(std::memcmp(u1.data(), u2.data(), 1000 * sizeof(float)) == 0);
    CHECK(std::memcmp(u1.data(), u3.data(), 1000 * sizeof(float)) != 0);
    double lo = 1e9, hi = -1e9, mean = 0;
    for (float v : u1.span()) {
        lo = std::min<double>(lo, v);
        hi = std::max<double>(hi, v);
        mean += v / 1000.0;
    }
    CHECK((lo >= -2 && hi < 3));
    CHECK(std::abs(mean - 0.5) < 0.15);  // 5 standard errors of the mean
    dendrite::rng g(0);
    CHECK(g.next() ==
          11091344671253066420ull);  // the stream is part of the interface: checkpoints replay it
    const auto st = a.state();
    const double n1 = a.normal();
    a.restore(st);
    CHECK(a.normal() == n1);
    dendrite::rng h(5);
    const tensor<double> nrm = dendrite::normal<double>({20000}, 1.0, 2.0, h);
    double m = 0, v = 0;
    for (double x : nrm.span())
        m += x / 20000;
    for (double x : nrm.span())
        v += (x - m) * (x - m) / 19999;
    CHECK(std::abs(m - 1.0) < 0.05);  // 3.5 standard errors
    CHECK(std::abs(v - 4.0) < 0.2);
}
