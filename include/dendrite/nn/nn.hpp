#pragma once
// Everything of the network layer.

#include "dendrite/config.hpp"
#include "dendrite/nn/activations.hpp"
#include "dendrite/nn/context.hpp"
#include "dendrite/nn/dims.hpp"
#include "dendrite/nn/init.hpp"
#include "dendrite/nn/kind.hpp"
#include "dendrite/nn/layer.hpp"
#include "dendrite/nn/layers.hpp"
#include "dendrite/nn/module.hpp"
#include "dendrite/nn/network.hpp"
#include "dendrite/nn/parameter.hpp"
#include "dendrite/nn/registry.hpp"
#include "dendrite/nn/sequence_layers.hpp"
#include "dendrite/nn/sequential.hpp"
