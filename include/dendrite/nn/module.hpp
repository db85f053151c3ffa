#pragma once
// Type-erased layers, for networks whose architecture is known only at run time.

#include <string>
#include <utility>

#include "dendrite/config.hpp"
#include "dendrite/detail/function_ref.hpp"
#include "dendrite/nn/kind.hpp"
#include "dendrite/nn/layer.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

/// A layer behind a virtual interface. The kernels inside are the same static, fused ones; only
/// the call into each layer is virtual (a few nanoseconds per layer per step).
template <class T>
class module {
  public:
    virtual ~module() = default;
    virtual var<T> forward(const context& ctx, const var<T>& x) = 0;
    virtual void for_each_parameter(dendrite::detail::function_ref<void(nn::parameter<T>&)> f) = 0;
    virtual void for_each_buffer(
        dendrite::detail::function_ref<void(const std::string&, tensor<T>&)> f) = 0;
    virtual void init(rng& g) = 0;
    virtual std::string describe() const = 0;
    /// The extents of one output sample: [features] or [channels, height, width].
    virtual const sample_dims& out_dims() const noexcept = 0;
};

/// Any layer as a module, with the extents of its output sample.
template <class T, class L>
class module_of final : public module<T> {
  public:
    module_of(L layer, const sample_dims& out) : layer_(std::move(layer)), out_(out) {}

    var<T> forward(const context& ctx, const var<T>& x) override { return layer_.forward(ctx, x); }
    void for_each_parameter(dendrite::detail::function_ref<void(nn::parameter<T>&)> f) override {
        nn::for_each_parameter(layer_, f);
    }
    void for_each_buffer(
        dendrite::detail::function_ref<void(const std::string&, tensor<T>&)> f) override {
        if constexpr (requires { layer_.for_each_buffer(f); }) layer_.for_each_buffer(f);
    }
    void init(rng& g) override { init_layer(layer_, g); }
    std::string describe() const override { return describe_layer(layer_); }
    const sample_dims& out_dims() const noexcept override { return out_; }

    L& layer() noexcept { return layer_; }

  private:
    L layer_;
    sample_dims out_;
};

}  // namespace dendrite::inline DENDRITE_TARGET::nn
