#pragma once
// Everything of the autodiff layer.

#include "dendrite/autodiff/conv.hpp"
#include "dendrite/autodiff/cross_entropy.hpp"
#include "dendrite/autodiff/dense.hpp"
#include "dendrite/autodiff/extrema.hpp"
#include "dendrite/autodiff/fused.hpp"
#include "dendrite/autodiff/gradcheck.hpp"
#include "dendrite/autodiff/leaves.hpp"
#include "dendrite/autodiff/losses.hpp"
#include "dendrite/autodiff/matmul.hpp"
#include "dendrite/autodiff/op_node.hpp"
#include "dendrite/autodiff/pooling.hpp"
#include "dendrite/autodiff/reductions.hpp"
#include "dendrite/autodiff/shape_ops.hpp"
#include "dendrite/autodiff/softmax.hpp"
#include "dendrite/autodiff/tape.hpp"
#include "dendrite/autodiff/var.hpp"
