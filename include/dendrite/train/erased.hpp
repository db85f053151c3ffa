#pragma once
// A network, an optimizer and a loss behind virtual calls: what the training loop, evaluation and
// checkpoints see, so that they are compiled once in the library (src/train/) for float and
// double, and a user's program instantiates only these thin adapters around its own types.

#include <cstdint>
#include <span>
#include <string>

#include "dendrite/autodiff/var.hpp"
#include "dendrite/config.hpp"
#include "dendrite/detail/function_ref.hpp"
#include "dendrite/optim/optimizer.hpp"
#include "dendrite/tensor/parameter.hpp"
#include "dendrite/tensor/random.hpp"
#include "dendrite/tensor/tensor.hpp"

namespace dendrite::inline DENDRITE_TARGET::train::detail {

/// What fit, evaluate and the checkpoints ask of a network of value type T. One virtual call per
/// batch for the forward pass and one for zero_grad; the rest once per epoch.
template <class T>
class erased_network {
  public:
    /// Records the forward pass of a batch (rows of a data set) on `t`; returns the logits.
    virtual var<T> forward(tape& t, const tensor<float>& x) = 0;
    virtual void zero_grad() = 0;
    virtual bool training() const = 0;
    virtual void train(bool on) = 0;
    virtual nn::parameter_list<T> parameters() = 0;
    /// Calls f(name, tensor&) for the non-trained state (running statistics).
    virtual void for_each_buffer(
        dendrite::detail::function_ref<void(const std::string&, tensor<T>&)> f) = 0;
    virtual rng& random() = 0;

  protected:
    ~erased_network() = default;
};

/// Any network (nn::sequential, nn::network or a user's own) as an erased_network.
template <class Net>
class erased_network_of final : public erased_network<typename Net::value_type> {
    using T = typename Net::value_type;

  public:
    explicit erased_network_of(Net& net) noexcept : net_(net) {}

    var<T> forward(tape& t, const tensor<float>& x) override { return net_(t, x); }
    void zero_grad() override { net_.zero_grad(); }
    bool training() const override { return net_.training(); }
    void train(bool on) override { net_.train(on); }
    nn::parameter_list<T> parameters() override { return net_.parameters(); }
    void for_each_buffer(
        dendrite::detail::function_ref<void(const std::string&, tensor<T>&)> f) override {
        net_.for_each_buffer(f);
    }
    rng& random() override { return net_.random(); }

  private:
    Net& net_;
};

/// What fit and the checkpoints ask of an optimizer (see optim::optimizer); one virtual call per
/// batch for the step.
template <class T>
class erased_optimizer {
  public:
    virtual void step(nn::parameter_list<T>& params) = 0;
    virtual double learning_rate() const = 0;
    virtual void set_learning_rate(double lr) = 0;
    virtual optim::state_list<T> state() const = 0;
    virtual void load_state(const nn::parameter_list<T>& params, const optim::state_list<T>& s) = 0;

  protected:
    ~erased_optimizer() = default;
};

/// Any optimizer of parameters of type T as an erased_optimizer.
template <class T, class Opt>
class erased_optimizer_of final : public erased_optimizer<T> {
  public:
    explicit erased_optimizer_of(Opt& opt) noexcept : opt_(opt) {}

    void step(nn::parameter_list<T>& params) override { opt_.step(params); }
    double learning_rate() const override { return opt_.learning_rate(); }
    void set_learning_rate(double lr) override { opt_.set_learning_rate(lr); }
    optim::state_list<T> state() const override { return opt_.state(); }
    void load_state(const nn::parameter_list<T>& params, const optim::state_list<T>& s) override {
        opt_.load_state(params, s);
    }

  private:
    Opt& opt_;
};

/// A loss of logits and labels, called once per batch: `loss(logits, labels)` as a var (an
/// expression over vars is recorded as one node).
template <class T>
using erased_loss =
    dendrite::detail::function_ref<var<T>(const var<T>&, std::span<const std::int32_t>)>;

/// `loss` as an erased_loss: the returned lambda is what the function_ref refers to, so keep it
/// alive for the call.
template <class T, class Loss>
auto loss_adapter(Loss& loss) {
    return [&loss](const var<T>& logits, std::span<const std::int32_t> labels) -> var<T> {
        return loss(logits, labels);
    };
}

}  // namespace dendrite::inline DENDRITE_TARGET::train::detail
