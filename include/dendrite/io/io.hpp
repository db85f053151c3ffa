#pragma once
// Everything of the input/output layer.

#include "dendrite/io/atomic_file.hpp"
#include "dendrite/io/checkpoint.hpp"
#include "dendrite/io/csv_history.hpp"
#include "dendrite/io/error.hpp"
#include "dendrite/io/image_grid.hpp"
#include "dendrite/io/network_dot.hpp"
#include "dendrite/io/safetensors.hpp"
#include "dendrite/io/box_plot.hpp"
#include "dendrite/io/svg_chart.hpp"
