#pragma once
// Everything of the data layer.

#include "dendrite/data/csv.hpp"
#include "dendrite/data/dataset.hpp"
#include "dendrite/data/default_data.hpp"
#include "dendrite/data/error.hpp"
#include "dendrite/data/idx.hpp"
#include "dendrite/data/loader.hpp"
#include "dendrite/data/mnist.hpp"
#include "dendrite/data/synthetic.hpp"
