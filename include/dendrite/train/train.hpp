#pragma once
// Everything of the training layer.

#include "dendrite/train/activation_trials.hpp"
#include "dendrite/train/checkpoint.hpp"
#include "dendrite/train/confusion_matrix.hpp"
#include "dendrite/train/fit.hpp"
#include "dendrite/train/progress.hpp"
#include "dendrite/train/statistics.hpp"
