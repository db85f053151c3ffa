#pragma once
// The umbrella header for users. Nothing inside the library includes it.

#include "dendrite/autodiff/autodiff.hpp"
#include "dendrite/config.hpp"
#include "dendrite/data/data.hpp"
#include "dendrite/expr/derive.hpp"
#include "dendrite/expr/evaluate.hpp"
#include "dendrite/expr/functions.hpp"
#include "dendrite/expr/reduce.hpp"
#include "dendrite/io/io.hpp"
#include "dendrite/nn/nn.hpp"
#include "dendrite/optim/optim.hpp"
#include "dendrite/simd/parallel.hpp"
#include "dendrite/tensor/print.hpp"
#include "dendrite/tensor/random.hpp"
#include "dendrite/tensor/tensor.hpp"
#include "dendrite/train/train.hpp"
