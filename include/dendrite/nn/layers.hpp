#pragma once
// The built-in layers, and the one list of their kinds.

#include "dendrite/config.hpp"
#include "dendrite/nn/kind.hpp"
#include "dendrite/nn/layers/activation.hpp"
#include "dendrite/nn/layers/attention.hpp"
#include "dendrite/nn/layers/avg_pool2d.hpp"
#include "dendrite/nn/layers/batch_norm.hpp"
#include "dendrite/nn/layers/conv2d.hpp"
#include "dendrite/nn/layers/dense.hpp"
#include "dendrite/nn/layers/dropout.hpp"
#include "dendrite/nn/layers/embedding.hpp"
#include "dendrite/nn/layers/flatten.hpp"
#include "dendrite/nn/layers/global_avg_pool2d.hpp"
#include "dendrite/nn/layers/gru.hpp"
#include "dendrite/nn/layers/last_step.hpp"
#include "dendrite/nn/layers/layer_norm.hpp"
#include "dendrite/nn/layers/learnable.hpp"
#include "dendrite/nn/layers/lstm.hpp"
#include "dendrite/nn/layers/max_pool2d.hpp"
#include "dendrite/nn/layers/positional.hpp"
#include "dendrite/nn/layers/softmax.hpp"
#include "dendrite/nn/layers/transformer_block.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

/// Every kind of layer the library defines. nn::sequential needs no list (a spec names its kind);
/// this one is where nn::network's parser, builder and help text find the kinds by name. Adding
/// a layer to the library is a header in nn/layers/ and one entry here (docs/adding-a-layer.md).
using builtin_layer_kinds =
    kind_list<dense_kind, conv2d_kind, max_pool2d_kind, avg_pool2d_kind, global_avg_pool2d_kind,
              batch_norm_kind, layer_norm_kind, dropout_kind, flatten_kind, embedding_kind,
              softmax_kind, log_softmax_kind, prelu_kind, pau_kind, lstm_kind, gru_kind,
              attention_kind, transformer_block_kind, positions_kind, last_step_kind>;

}  // namespace dendrite::inline DENDRITE_TARGET::nn
