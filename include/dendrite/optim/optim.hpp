#pragma once
// Optimizers, learning-rate schedules and gradient clipping.

#include "dendrite/optim/adagrad.hpp"
#include "dendrite/optim/adam.hpp"
#include "dendrite/optim/clip.hpp"
#include "dendrite/optim/optimizer.hpp"
#include "dendrite/optim/rmsprop.hpp"
#include "dendrite/optim/schedule.hpp"
#include "dendrite/optim/sgd.hpp"
