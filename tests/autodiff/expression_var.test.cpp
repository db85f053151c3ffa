// An element-wise expression over vars offers what a var offers to read: value, item, backward...
// recorded as one fused node on first use, and only once.
#include <type_traits>

#include "helpers.hpp"

using namespace dendrite;
using namespace dendrite::testing;

namespace {

// A data term and an L2 penalty, both scalars on the tape.
struct two_terms {
    var<double> data, l2;
};

two_terms terms(const var<double>& w, const tensor<double>& x) {
    return {sum(square(x * w - 1.0)), sum(square(w))};
}

template <class E>
constexpr bool reads_like_var = requires(const E& e) {
    e.backward();
    e.item();
    e.value();
};

}  // namespace

TEST_CASE("an expression over vars reads and differentiates like a var", "[autodiff][expression]") {
    rng g(31);
    const tensor<double> wv = uniform<double>(shape{17}, -1.0, 1.0, g);
    const tensor<double> xv = uniform<double>(shape{17}, -2.0, 2.0, g);

    tape t;
    auto w = variable(t, wv);
    const two_terms a = terms(w, xv);
    auto loss = a.data + 0.01 * a.l2;  // no var<double> written: an expression
    STATIC_REQUIRE(!std::is_same_v<decltype(loss), var<double>>);
    const std::size_t before = t.size();
    const double value = loss.item();
    CHECK(t.size() == before + 1);  // recorded as one node on first use
    CHECK(loss.value().shape() == shape{});
    CHECK(loss.size() == 1);
    CHECK(loss.requires_grad());
    CHECK(&loss.tape() == &t);
    loss.backward();
    CHECK(t.size() == before + 1);  // and only then
    CHECK(loss.grad().item() == 1.0);

    // The same as declaring the var, bit for bit.
    tape u;
    auto w2 = variable(u, wv);
    const two_terms b = terms(w2, xv);
    var<double> reference = b.data + 0.01 * b.l2;
    CHECK(value == reference.item());
    reference.backward();
    CHECK(w.grad().shape() == w2.grad().shape());
    for (std::size_t i = 0; i < wv.size(); ++i)
        CHECK(w.grad()(i) == w2.grad()(i));
    // d/dw of sum((x w - 1)^2) + 0.01 sum(w^2) = 2 x (x w - 1) + 0.02 w.
    for (std::size_t i = 0; i < wv.size(); ++i)
        CHECK(w.grad()(i) == Approx(2 * xv(i) * (xv(i) * wv(i) - 1) + 0.02 * wv(i)).epsilon(1e-12));

    // A detached copy is a constant with the same value.
    const var<double> d = loss.detach();
    CHECK(d.item() == value);
    CHECK_FALSE(d.requires_grad());
}

TEST_CASE("a non-scalar expression over vars takes a seed, or says it needs one",
          "[autodiff][expression]") {
    tape t;
    auto x = variable(t, tensor<double>{0.5, -1.0, 2.0});
    const auto y = x * x + 1.0;
    CHECK_THROWS_WITH(y.backward(), Catch::Contains("is not a scalar; pass a seed gradient"));
    y.backward(tensor<double>{1.0, 2.0, 3.0});
    CHECK(x.grad()(0) == 1.0);   // 2 x * 1
    CHECK(x.grad()(1) == -4.0);  // 2 x * 2
    CHECK(x.grad()(2) == 12.0);  // 2 x * 3
    CHECK(y.value()(2) == 5.0);
}

TEST_CASE("expressions of tensors are not vars", "[autodiff][expression]") {
    const tensor<float> a{1.0f, 2.0f};
    STATIC_REQUIRE(!reads_like_var<decltype(a + a)>);
    STATIC_REQUIRE(!reads_like_var<decltype(exp(a * 2.0f))>);
    // One of vars is, whatever its depth, and wherever a tensor joins it.
    tape t;
    auto x = variable(t, tensor<float>{1.0f, 2.0f});
    STATIC_REQUIRE(reads_like_var<decltype(exp(x * a) + 1.0f)>);
    STATIC_REQUIRE(reads_like_var<decltype(where(x > 0.0f, x, a))>);
}
