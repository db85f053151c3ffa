// The fused dense layer: forward epilogue and backward operand transform with a derivative
// derived at compile time, checked against finite differences and against the unfused graph.
#include <catch2/catch.hpp>
#include <dendrite/dendrite.hpp>

using namespace dendrite;

namespace {
const auto mish = [](auto x) { return x * tanh(softplus(x)); };
const auto gelu_tanh = [](auto x) {
    return 0.5 * x * (1.0 + tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
};
}  // namespace

TEST_CASE("derive gives the derivative of a generic lambda on scalars and lanes",
          "[dense][derive]") {
    for (double z : {-3.0, -0.7, 0.0, 0.4, 2.5}) {
        const double h = 1e-6;
        const double numeric = (mish(z + h) - mish(z - h)) / (2 * h);
        const auto [value, slope] = value_and_derivative(mish, z);
        CHECK(value == Approx(mish(z)).epsilon(1e-14));
        CHECK(slope == Approx(numeric).epsilon(1e-8));
    }
    const simd::batch<float> lanes(0.75f);
    const float expected = derive(mish)(0.75f);
    CHECK(derive(mish)(lanes).get(0) == Approx(expected).epsilon(1e-6));
}

TEST_CASE("dense passes gradcheck for built-in and custom activations at awkward sizes",
          "[dense][gradcheck]") {
    rng g(7);
    for (auto [batch, in, out] :
         {std::array<std::size_t, 3>{1, 1, 1}, {3, 7, 17}, {5, 17, 33}, {2, 33, 7}}) {
        const auto x = uniform<double>({batch, in}, -1, 1, g);
        const auto w = uniform<double>({in, out}, -1, 1, g);
        const auto b = uniform<double>({out}, -1, 1, g);
        INFO("batch " << batch << ", in " << in << ", out " << out);
        const auto plain =
            gradcheck([](auto xv, auto wv, auto bv) { return dense(xv, wv, bv); }, x, w, b);
        CHECK(plain.passed(1e-7));
        const auto with_mish =
            gradcheck([](auto xv, auto wv, auto bv) { return dense(xv, wv, bv, mish); }, x, w, b);
        INFO(with_mish.str());
        CHECK(with_mish.passed(1e-7));
        const auto with_gelu = gradcheck(
            [](auto xv, auto wv, auto bv) { return dense(xv, wv, bv, gelu_tanh); }, x, w, b);
        CHECK(with_gelu.passed(1e-7));
    }
}

TEST_CASE("dense agrees with the unfused matmul + bias + activation graph", "[dense]") {
    rng g(11);
    const auto x = uniform<float>({33, 65}, -1, 1, g);
    const auto w = uniform<float>({65, 17}, -1, 1, g);
    const auto b = uniform<float>({17}, -1, 1, g);
    tape t;
    const auto xv = variable(t, x), wv = variable(t, w), bv = variable(t, b);
    const var<float> fused = dense(xv, wv, bv, mish);
    const var<float> unfused = mish(matmul(xv, wv) + bv);
    CHECK(amax(abs(fused.value() - unfused.value())) < 1e-5f);

    sum(fused).backward(true);
    const tensor<float> dw_fused = wv.grad().clone(), db_fused = bv.grad().clone(),
                        dx_fused = xv.grad().clone();
    tape t2;
    const auto xv2 = variable(t2, x), wv2 = variable(t2, w), bv2 = variable(t2, b);
    sum(mish(matmul(xv2, wv2) + bv2)).backward();
    CHECK(amax(abs(dw_fused - wv2.grad())) < 1e-4f);
    CHECK(amax(abs(db_fused - bv2.grad())) < 1e-4f);
    CHECK(amax(abs(dx_fused - xv2.grad())) < 1e-4f);
}

TEST_CASE("dense rejects shapes that do not chain, naming them", "[dense][errors]") {
    tape t;
    const auto x = variable(t, tensor<float>(shape{4, 3}));
    const auto w = variable(t, tensor<float>(shape{5, 2}));
    const auto b = variable(t, tensor<float>(shape{2}));
    REQUIRE_THROWS_WITH(dense(x, w, b), Catch::Contains("[4, 3]") && Catch::Contains("[5, 2]"));
}
