#pragma once
// What every optimizer offers, written once as a concept, and the named state tensors that
// checkpoints carry.

#include <concepts>
#include <cstddef>
#include <string>
#include <vector>

#include "dendrite/config.hpp"
#include "dendrite/tensor/parameter.hpp"
#include "dendrite/tensor/tensor.hpp"

namespace dendrite::inline DENDRITE_TARGET::optim {

/// One tensor of optimizer state and its checkpoint name, "<optimizer>.<buffer>.<parameter>"
/// ("adam.m.dense_1.weight") or "<optimizer>.step" for the step count (a 1-element tensor).
template <class T>
struct state_entry {
    std::string name;
    tensor<T> value;
};

/// All the state of an optimizer: what `state()` returns and `load_state` takes back.
template <class T>
using state_list = std::vector<state_entry<T>>;

/// An optimizer of parameters of type T: a small stateful function object.
///
///   o.step(params)              applies one update to every p.value from p.grad, in one fused
///                               pass per parameter; buffers are allocated on the first step and
///                               reused, so later steps allocate nothing. The list must keep the
///                               same parameters, in the same order, from step to step.
///   o.learning_rate()           the current rate (schedules change it between steps);
///   o.set_learning_rate(lr)
///   o.steps()                   the number of steps taken (restored by load_state);
///   o.state()                   a snapshot (deep copy) of the state, to checkpoint;
///   o.load_state(params, s)     restores a snapshot taken with the same hyper-parameters, after
///                               which steps continue bit-identically to the uninterrupted run.
template <class O, class T>
concept optimizer = requires(O& o, const O& co, nn::parameter_list<T>& params,
                             const nn::parameter_list<T>& cparams, const state_list<T>& s,
                             double lr) {
    o.step(params);
    { co.learning_rate() } -> std::convertible_to<double>;
    o.set_learning_rate(lr);
    { co.steps() } -> std::convertible_to<std::size_t>;
    { co.state() } -> std::same_as<state_list<T>>;
    o.load_state(cparams, s);
};

}  // namespace dendrite::inline DENDRITE_TARGET::optim
