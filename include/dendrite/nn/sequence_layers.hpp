#pragma once
// The layers of sequence models, over [batch, time, features]: recurrent (LSTM, GRU), attention,
// transformer blocks and positional encodings. Each is written from differentiable primitives
// only; none holds gradient code.

#include "dendrite/nn/layers/attention.hpp"
#include "dendrite/nn/layers/gru.hpp"
#include "dendrite/nn/layers/last_step.hpp"
#include "dendrite/nn/layers/lstm.hpp"
#include "dendrite/nn/layers/positional.hpp"
#include "dendrite/nn/layers/transformer_block.hpp"
