// Gradient checks of every non-element-wise op: reductions, amax/amin, matmul, shape ops,
// softmax, log_softmax and the losses; and float results against double.
#include <cstdint>
#include <vector>

#include "helpers.hpp"

using namespace dendrite;
using namespace dendrite::testing;

TEST_CASE("sum and mean over all elements and along each axis", "[autodiff][gradcheck][reduce]") {
    rng g(401);
    for (const shape& s : odd_shapes) {
        INFO(s.str());
        const tensor<double> x = uniform<double>(s, -1, 1, g);
        require_gradcheck(gradcheck([](auto a) { return sum(a * a); }, x), 1e-6);
        require_gradcheck(gradcheck([](auto a) { return mean(exp(a)); }, x), 1e-6);
        for (std::size_t axis = 0; axis < s.rank(); ++axis)
            for (bool keep : {false, true}) {
                INFO("axis " << axis << " keepdims " << keep);
                require_gradcheck(gradcheck([&](auto a) { return sum(sin(a), axis, keep); }, x),
                                  1e-6);
                require_gradcheck(gradcheck([&](auto a) { return mean(a * a, axis, keep); }, x),
                                  1e-6);
            }
    }
}

TEST_CASE("axis reductions of vars match the plain tensor reductions", "[autodiff][reduce]") {
    rng g(402);
    const tensor<double> xv = uniform<double>({4, 3, 5}, -1, 1, g);
    tape t;
    auto x = variable(t, xv);
    for (std::size_t axis = 0; axis < 3; ++axis) {
        const tensor<double> want_sum = sum(xv, axis), want_max = amax(xv, axis, true),
                             want_min = amin(xv, axis);
        CHECK(sum(abs(sum(x, axis).value() - want_sum)) < 1e-12);
        CHECK(sum(abs(amax(x, axis, true).value() - want_max)) == 0.0);
        CHECK(sum(abs(amin(x, axis).value() - want_min)) == 0.0);
    }
}

TEST_CASE("amax and amin: gradcheck away from ties, even split on ties",
          "[autodiff][gradcheck][reduce]") {
    rng g(403);
    for (const shape& s : odd_shapes) {
        INFO(s.str());
        // distinct values (a shuffled ramp), so no slice has a tie
        tensor<double> x = tensor<double>::uninitialized(s);
        for (std::size_t i = 0; i < x.size(); ++i)
            x.data()[i] = 0.1 * static_cast<double>(i) - 1.0;
        for (std::size_t i = x.size(); i-- > 1;)
            std::swap(x.data()[i], x.data()[g.below(i + 1)]);
        require_gradcheck(gradcheck([](auto a) { return amax(a * 2.0); }, x), 1e-6);
        require_gradcheck(gradcheck([](auto a) { return amin(a); }, x), 1e-6);
        for (std::size_t axis = 0; axis < s.rank(); ++axis) {
            require_gradcheck(gradcheck([&](auto a) { return amax(a, axis); }, x), 1e-6);
            require_gradcheck(gradcheck([&](auto a) { return amin(sin(a), axis, true); }, x), 1e-6);
        }
    }
    tape t;
    auto x = variable(t, tensor<double>({2, 3}, {1, 5, 5, 2, 2, 2}));
    auto y = amax(x, 1);
    y.backward(tensor<double>{1.0, 3.0});
    CHECK(x.grad()(0, 0) == 0.0);
    CHECK(x.grad()(0, 1) == 0.5);
    CHECK(x.grad()(0, 2) == 0.5);
    CHECK(x.grad()(1, 0) == 1.0);  // a three-way tie splits 3 into thirds
    CHECK(x.grad()(1, 2) == 1.0);
    tape t2;
    auto z = variable(t2, tensor<double>{4.0, -1.0, 4.0, 4.0});
    amax(z).backward();
    CHECK(z.grad()(0) == Approx(1.0 / 3));
    CHECK(z.grad()(1) == 0.0);
}

TEST_CASE("matmul passes gradcheck for all four transpose combinations",
          "[autodiff][gradcheck][matmul]") {
    rng g(404);
    const std::size_t m = 3, k = 7, n = 5;
    for (bool ta : {false, true})
        for (bool tb : {false, true}) {
            INFO("transpose_a " << ta << ", transpose_b " << tb);
            const tensor<double> a = uniform<double>(ta ? shape{k, m} : shape{m, k}, -1, 1, g);
            const tensor<double> b = uniform<double>(tb ? shape{n, k} : shape{k, n}, -1, 1, g);
            require_gradcheck(gradcheck([&](auto x, auto y) { return matmul(x, y, ta, tb); }, a, b),
                              1e-6);
            // an expression operand is recorded first; a bias and activation follow
            const tensor<double> bias = uniform<double>({n}, -1, 1, g);
            require_gradcheck(
                gradcheck(
                    [&](auto x, auto y, auto c) { return tanh(matmul(x * 0.5, y, ta, tb) + c); }, a,
                    b, bias),
                1e-6);
        }
}

TEST_CASE("reshape, flatten, slice and concat pass gradcheck", "[autodiff][gradcheck][shape]") {
    rng g(405);
    const tensor<double> x = uniform<double>({2, 3, 5}, -1, 1, g);
    const tensor<double> w = uniform<double>({6, 5}, -1, 1, g);
    require_gradcheck(gradcheck([&](auto a) { return reshape(a, shape{6, 5}) * w; }, x), 1e-6);
    require_gradcheck(gradcheck([](auto a) { return flatten(sin(a)); }, x), 1e-6);
    for (std::size_t axis = 0; axis < 3; ++axis) {
        INFO("axis " << axis);
        const std::size_t len = x.dim(axis);
        require_gradcheck(gradcheck([&](auto a) { return slice(a, axis, 1, len); }, x), 1e-6);
        // two overlapping slices of one var: the gradients add
        require_gradcheck(
            gradcheck(
                [&](auto a) { return slice(a, axis, 0, 1) * slice(square(a), axis, len - 1, len); },
                x),
            1e-6);
    }
    const tensor<double> y = uniform<double>({2, 4, 5}, -1, 1, g);
    const tensor<double> z = uniform<double>({2, 1, 5}, -1, 1, g);
    require_gradcheck(gradcheck(
                          [](auto a, auto b, auto c) {
                              return concat({a, var<double>(exp(b)), c, a}, 1);
                          },
                          x, y, z),
                      1e-6);
    require_gradcheck(gradcheck([](auto a) { return concat({a, a}, 0) * 2.0; }, x), 1e-6);
    // more inputs than the node holds inline
    require_gradcheck(gradcheck(
                          [](auto a) {
                              std::vector<var<double>> parts;
                              for (int i = 0; i < 11; ++i)
                                  parts.push_back(a * static_cast<double>(i));
                              return concat(parts, 2);
                          },
                          x),
                      1e-6);

    tape t;
    auto v = variable(t, x);
    CHECK(reshape(v, shape{30}).value().data() == v.value().data());  // a view, not a copy
    CHECK(flatten(v).shape() == shape{30});
    CHECK_THROWS_AS(reshape(v, shape{4, 7}), shape_error);
    CHECK_THROWS_AS(slice(v, 1, 2, 4), shape_error);
    CHECK_THROWS_AS(slice(v, 3, 0, 1), shape_error);
    CHECK_THROWS_AS(concat({v, variable(t, tensor<double>(shape{2, 4, 4}))}, 1), shape_error);
}

TEST_CASE("softmax and log_softmax pass gradcheck along every axis",
          "[autodiff][gradcheck][softmax]") {
    rng g(406);
    for (const shape& s : odd_shapes)
        for (std::size_t axis = 0; axis < s.rank(); ++axis) {
            INFO(s.str() << " axis " << axis);
            const tensor<double> x = uniform<double>(s, -3, 3, g);
            require_gradcheck(gradcheck([&](auto a) { return softmax(a, axis); }, x), 1e-6);
            require_gradcheck(gradcheck([&](auto a) { return log_softmax(a * 1.5, axis); }, x),
                              1e-6);
        }
}

TEST_CASE("softmax and log_softmax are stable for large logits", "[autodiff][softmax]") {
    tape t;
    auto x = variable(t, tensor<double>({2, 3}, {1000, 1001, 1002, -1000, -1e4, -999}));
    const tensor<double> p = softmax(x, 1).value();
    const tensor<double> lp = log_softmax(x, 1).value();
    CHECK(p(0, 2) == Approx(0.6652409557748219));
    CHECK(lp(0, 0) == Approx(-2.4076059644443806));
    CHECK(lp(1, 1) == Approx(-9001.313261687518));
    CHECK(sum(p) == Approx(2.0));
    // a slice of all -inf stays finite where it can: exp(-inf - 0) = 0, sum 0, NaN only from 0/0
    auto y = variable(t, tensor<double>({1, 2}, {-INFINITY, 0.0}));
    CHECK(softmax(y, 1).value()(0, 1) == 1.0);
    CHECK(log_softmax(y, 1).value()(0, 1) == 0.0);
}

TEST_CASE("every loss passes gradcheck", "[autodiff][gradcheck][loss]") {
    rng g(407);
    const std::size_t batch = 5, classes = 7;
    const tensor<double> logits = uniform<double>({batch, classes}, -2, 2, g);
    const std::vector<int> labels{3, 0, 6, 6, 1};
    for (double eps : {0.0, 0.1}) {
        INFO("label smoothing " << eps);
        require_gradcheck(
            gradcheck([&](auto x) { return softmax_cross_entropy(x, labels, eps); }, logits), 1e-6);
    }
    // soft targets (rows of a softmax) and one-hot targets
    const tensor<double> r = uniform<double>({batch, classes}, -1, 1, g);
    const tensor<double> soft = exp(r - logsumexp(r, 1, true));
    tensor<double> onehot(shape{batch, classes});
    for (std::size_t i = 0; i < batch; ++i)
        onehot(i, static_cast<std::size_t>(labels[i])) = 1.0;
    require_gradcheck(gradcheck([&](auto x) { return softmax_cross_entropy(x, soft); }, logits),
                      1e-6);
    require_gradcheck(gradcheck([&](auto x) { return softmax_cross_entropy(x, onehot); }, logits),
                      1e-6);
    require_gradcheck(
        gradcheck([&](auto x) { return nll_loss(log_softmax(x, 1), labels); }, logits), 1e-6);

    const tensor<double> probs = uniform<double>({batch, classes}, 0, 1, g);
    const tensor<double> wide = uniform<double>({batch, classes}, -30, 30, g);  // saturating logits
    require_gradcheck(
        gradcheck([&](auto x) { return binary_cross_entropy_with_logits(x, probs); }, logits),
        1e-6);
    require_gradcheck(
        gradcheck([&](auto x) { return binary_cross_entropy_with_logits(x, probs); }, wide), 1e-6);
    require_gradcheck(
        gradcheck([&](auto x, auto y) { return binary_cross_entropy_with_logits(x, y); }, logits,
                  probs),
        1e-6);
    require_gradcheck(gradcheck([&](auto x) { return mse_loss(x, probs); }, logits), 1e-6);
    require_gradcheck(
        gradcheck([&](auto x, auto y) { return mse_loss(tanh(x), y); }, logits, probs), 1e-6);
}

TEST_CASE("losses agree with their definitions", "[autodiff][loss]") {
    rng g(408);
    const tensor<double> xv = uniform<double>({4, 6}, -3, 3, g);
    const std::vector<std::int64_t> labels{5, 0, 2, 2};
    const tensor<double> lsm = xv - logsumexp(xv, 1, true);
    tensor<double> onehot(shape{4, 6});
    double nll = 0, smoothed = 0;
    const double eps = 0.2;
    for (std::size_t i = 0; i < 4; ++i) {
        const auto y = static_cast<std::size_t>(labels[i]);
        onehot(i, y) = 1.0;
        nll -= lsm(i, y) / 4;
        for (std::size_t c = 0; c < 6; ++c)
            smoothed -= ((c == y ? 1 - eps : 0) + eps / 6) * lsm(i, c) / 4;
    }
    tape t;
    auto x = variable(t, xv);
    CHECK(softmax_cross_entropy(x, labels).item() == Approx(nll).epsilon(1e-12));
    CHECK(softmax_cross_entropy(x, tensor<std::int64_t>(shape{4}, {5, 0, 2, 2})).item() ==
          Approx(nll).epsilon(1e-12));
    CHECK(softmax_cross_entropy(x, onehot).item() == Approx(nll).epsilon(1e-12));
    CHECK(nll_loss(log_softmax(x, 1), labels).item() == Approx(nll).epsilon(1e-12));
    CHECK(softmax_cross_entropy(x, labels, eps).item() == Approx(smoothed).epsilon(1e-12));

    // binary cross-entropy with logits is finite and exact where the naive formula is not
    auto z = variable(t, tensor<double>{-800.0, 0.0, 800.0});
    const tensor<double> y{0.0, 1.0, 1.0};
    CHECK(binary_cross_entropy_with_logits(z, y).item() ==
          Approx(std::log(2.0) / 3).epsilon(1e-12));
    CHECK(mse_loss(z, y).item() == Approx((640000.0 + 1.0 + 799.0 * 799.0) / 3));

    // labels are copied: changing the caller's vector after recording changes nothing
    tape t2;
    auto x2 = variable(t2, xv);
    std::vector<int> mutable_labels{1, 1, 1, 1};
    auto loss = softmax_cross_entropy(x2, mutable_labels);
    mutable_labels.assign(4, 0);
    loss.backward();
    CHECK(x2.grad()(0, 1) < 0);  // the recorded label still receives the negative gradient
    CHECK(x2.grad()(0, 0) > 0);

    CHECK_THROWS_AS(softmax_cross_entropy(x, std::vector<int>{1, 2, 3}), shape_error);
    CHECK_THROWS_AS(softmax_cross_entropy(x, std::vector<int>{1, 2, 3, 6}), std::out_of_range);
    CHECK_THROWS_AS(nll_loss(x, std::vector<int>{-1, 2, 3, 0}), std::out_of_range);
    CHECK_THROWS_AS(softmax_cross_entropy(x, tensor<double>(shape{4, 5})), shape_error);
}

TEST_CASE("float results agree with double", "[autodiff][float]") {
    rng g(409);
    const tensor<double> xd = uniform<double>({9, 13}, -2, 2, g);
    const tensor<double> wd = uniform<double>({13, 5}, -1, 1, g);
    tensor<float> xf = tensor<float>::uninitialized(xd.shape()),
                  wf = tensor<float>::uninitialized(wd.shape());
    for (std::size_t i = 0; i < xd.size(); ++i)
        xf.data()[i] = static_cast<float>(xd.data()[i]);
    for (std::size_t i = 0; i < wd.size(); ++i)
        wf.data()[i] = static_cast<float>(wd.data()[i]);
    const std::vector<int> labels{0, 1, 2, 3, 4, 0, 1, 2, 3};

    // The same graph in both types: fused activation, matmul, softmax, log_softmax, amax, losses.
    auto run = [&](auto x, auto w) {
        auto h = matmul(x * sigmoid(1.702 * x), w);
        auto loss = softmax_cross_entropy(h, labels, 0.05) +
                    mean(softmax(h, 0) * log_softmax(h, 1)) + amax(h, 1, false) * 0.0 +
                    sum(amax(h, 0)) * 0.1;
        return var<typename decltype(x)::value_type>(sum(loss));
    };
    tape td, tf;
    auto x1 = variable(td, xd), w1 = variable(td, wd);
    auto x2 = variable(tf, xf), w2 = variable(tf, wf);
    const auto ld = run(x1, w1);
    const auto lf = run(x2, w2);
    ld.backward();
    lf.backward();
    // float keeps about 7 digits; a few ops of rounding leave 1e-5 relative on O(1) values
    const double tol = 1e-5;
    CHECK(std::abs(static_cast<double>(lf.item()) - ld.item()) <=
          tol * std::max(1.0, std::abs(ld.item())));
    for (std::size_t i = 0; i < xd.size(); ++i)
        CHECK(std::abs(static_cast<double>(x2.grad().data()[i]) - x1.grad().data()[i]) <= tol);
    for (std::size_t i = 0; i < wd.size(); ++i)
        CHECK(std::abs(static_cast<double>(w2.grad().data()[i]) - w1.grad().data()[i]) <= tol);
}
