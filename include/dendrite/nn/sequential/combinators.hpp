#pragma once
// The combinators of nn::sequential: a chain of layers as one layer, a residual block, and
// parallel branches joined by concatenation or sum; their specs and the layers they build.

#include <array>
#include <boost/hana/for_each.hpp>
#include <boost/hana/tuple.hpp>
#include <cstddef>
#include <span>
#include <string>
#include <utility>

#include "dendrite/autodiff/fused.hpp"
#include "dendrite/autodiff/shape_ops.hpp"
#include "dendrite/config.hpp"
#include "dendrite/nn/context.hpp"
#include "dendrite/nn/layer.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

/// Several layers in a row, as one layer (a branch of nn::concat or nn::add).
template <class... Specs>
struct chain_spec {
    boost::hana::tuple<Specs...> specs;
};
template <class... Specs>
constexpr chain_spec<Specs...> chain(const Specs&... specs) {
    return {boost::hana::make_tuple(specs...)};
}

/// x + f(x), f the given layers, which must keep the number of features.
template <class... Specs>
struct residual_spec {
    boost::hana::tuple<Specs...> specs;
};
template <class... Specs>
constexpr residual_spec<Specs...> residual(const Specs&... specs) {
    return {boost::hana::make_tuple(specs...)};
}

/// Parallel branches on the same input, outputs concatenated along the features (or the
/// channels of images).
template <class... Branches>
struct concat_spec {
    boost::hana::tuple<Branches...> branches;
};
template <class... Branches>
constexpr concat_spec<Branches...> concat(const Branches&... branches) {
    return {boost::hana::make_tuple(branches...)};
}

/// Parallel branches on the same input, outputs summed (all branches must agree in shape).
template <class... Branches>
struct sum_spec {
    boost::hana::tuple<Branches...> branches;
};
template <class... Branches>
constexpr sum_spec<Branches...> add(const Branches&... branches) {
    return {boost::hana::make_tuple(branches...)};
}

namespace detail {

/// The layers of a chain, applied in turn.
template <class T, class Layers>
class chain_layer {
  public:
    using value_type = T;
    explicit chain_layer(Layers layers) : layers_(std::move(layers)) {}
    var<T> forward(const context& ctx, const var<T>& x) {
        var<T> v = x;
        boost::hana::for_each(layers_, [&](auto& l) { v = l.layer.forward(ctx, v); });
        return v;
    }
    template <class F>
    void for_each_parameter(F&& f) {
        boost::hana::for_each(layers_, [&](auto& l) { nn::for_each_parameter(l.layer, f); });
    }
    template <class F>
    void for_each_buffer(F&& f) {
        boost::hana::for_each(layers_, [&](auto& l) {
            if constexpr (requires { l.layer.for_each_buffer(f); }) l.layer.for_each_buffer(f);
        });
    }
    void init(rng& g) {
        boost::hana::for_each(layers_, [&](auto& l) { init_layer(l.layer, g); });
    }
    std::string describe() const {
        std::string s;
        boost::hana::for_each(layers_, [&](const auto& l) {
            s += (s.empty() ? "" : ", ") + describe_layer(l.layer);
        });
        return "[" + s + "]";
    }

  private:
    Layers layers_;
};

/// x + f(x).
template <class T, class Layers>
class residual_layer {
  public:
    using value_type = T;
    explicit residual_layer(Layers layers) : body_(std::move(layers)) {}
    var<T> forward(const context& ctx, const var<T>& x) {
        return var<T>(x + body_.forward(ctx, x));
    }
    template <class F>
    void for_each_parameter(F&& f) {
        body_.for_each_parameter(f);
    }
    template <class F>
    void for_each_buffer(F&& f) {
        body_.for_each_buffer(f);
    }
    void init(rng& g) { body_.init(g); }
    std::string describe() const { return "residual" + body_.describe(); }

  private:
    chain_layer<T, Layers> body_;
};

/// Branches on one input, concatenated along the features or channels (Sum = false) or summed.
template <class T, bool Sum, class... Chains>
class parallel_layer {
  public:
    using value_type = T;
    explicit parallel_layer(Chains... branches) : branches_(std::move(branches)...) {}
    var<T> forward(const context& ctx, const var<T>& x) {
        std::array<var<T>, sizeof...(Chains)> outs;
        std::size_t i = 0;
        boost::hana::for_each(branches_, [&](auto& b) { outs[i++] = b.forward(ctx, x); });
        if constexpr (Sum) {
            var<T> total = outs[0];
            for (std::size_t k = 1; k < outs.size(); ++k)
                total = var<T>(total + outs[k]);
            return total;
        } else {
            return dendrite::concat(std::span<const var<T>>(outs), 1);
        }
    }
    template <class F>
    void for_each_parameter(F&& f) {
        boost::hana::for_each(branches_, [&](auto& b) { b.for_each_parameter(f); });
    }
    template <class F>
    void for_each_buffer(F&& f) {
        boost::hana::for_each(branches_, [&](auto& b) { b.for_each_buffer(f); });
    }
    void init(rng& g) {
        boost::hana::for_each(branches_, [&](auto& b) { b.init(g); });
    }
    std::string describe() const {
        std::string s;
        boost::hana::for_each(branches_,
                              [&](const auto& b) { s += (s.empty() ? "" : " | ") + b.describe(); });
        return std::string(Sum ? "add" : "concat") + "(" + s + ")";
    }

  private:
    boost::hana::tuple<Chains...> branches_;
};

}  // namespace detail

}  // namespace dendrite::inline DENDRITE_TARGET::nn
