#pragma once
// What a layer's forward pass needs besides its input.

#include "dendrite/autodiff/tape.hpp"
#include "dendrite/config.hpp"
#include "dendrite/tensor/random.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

/// The tape to record on, whether the network is training (dropout active, batch statistics) or
/// evaluating (dropout off, running statistics), and the generator for stochastic layers.
struct context {
    dendrite::tape& tape;
    bool training = true;
    dendrite::rng* random = nullptr;
};

}  // namespace dendrite::inline DENDRITE_TARGET::nn
