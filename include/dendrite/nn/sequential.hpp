#pragma once
// nn::sequential with every built-in layer: see nn/sequential/model.hpp.

#include "dendrite/config.hpp"
#include "dendrite/nn/layers.hpp"
#include "dendrite/nn/sequential/model.hpp"
