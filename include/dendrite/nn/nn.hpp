#pragma once
// Everything of the network layer.

#include "dendrite/nn/activations.hpp"
#include "dendrite/nn/context.hpp"
#include "dendrite/nn/conv.hpp"
#include "dendrite/nn/dense.hpp"
#include "dendrite/nn/dropout.hpp"
#include "dendrite/nn/embedding.hpp"
#include "dendrite/nn/init.hpp"
#include "dendrite/nn/layer.hpp"
#include "dendrite/nn/module.hpp"
#include "dendrite/nn/network.hpp"
#include "dendrite/nn/normalization.hpp"
#include "dendrite/nn/parameter.hpp"
#include "dendrite/nn/sequential.hpp"
#include "dendrite/nn/softmax_layer.hpp"
#include "dendrite/nn/specs.hpp"
