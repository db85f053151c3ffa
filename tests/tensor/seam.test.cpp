// A unit that includes what a user assigning expressions includes, and no more: the tensor, the
// operators that form expressions, and the evaluator. Assignment finds the evaluator through
// the seam of tensor.hpp (detail::evaluator_seam); without evaluate.hpp it does not compile
// (tests/compile_fail/assign_without_evaluator.cpp).

#include <cstddef>

#include <catch2/catch.hpp>

#include "dendrite/expr/evaluate.hpp"
#include "dendrite/expr/functions.hpp"
#include "dendrite/tensor/tensor.hpp"

using dendrite::shape;
using dendrite::tensor;

TEMPLATE_TEST_CASE("the evaluator is found where it is included", "[tensor][seam]", float, double) {
    using T = TestType;
    STATIC_REQUIRE(dendrite::detail::evaluator_included<T, tensor<T>>);
    tensor<T> x = tensor<T>::uninitialized(shape{17});
    for (std::size_t i = 0; i < 17; ++i)
        x.data()[i] = static_cast<T>(i);
    // Each of the three ways in: construction, operator= and assign.
    const tensor<T> y = x * 2 + 1;
    tensor<T> z(shape{17});
    z = y - x;
    tensor<T> copy(shape{17});
    copy.assign(x);
    for (std::size_t i = 0; i < 17; ++i) {
        CHECK(y.data()[i] == static_cast<T>(2 * i + 1));
        CHECK(z.data()[i] == static_cast<T>(i + 1));
        CHECK(copy.data()[i] == static_cast<T>(i));
    }
}
