#pragma once
// A generated stand-in for MNIST when no real data set is installed.

#include <cstddef>
#include <cstdint>

#include "dendrite/config.hpp"
#include "dendrite/data/dataset.hpp"

namespace dendrite::inline DENDRITE_TARGET::data {

/// `n` 28x28 grey images of ten classes, pixel values in [0, 1], labels cycling 0-9 in a shuffled
/// order. Class k is the digit k drawn as seven-segment strokes, each image with its own shift,
/// scale, slant, rotation, stroke width, wobbling segment ends, a faint distractor blob and pixel
/// noise; now and then a stroke is missing. The classes are distinct but not trivial: softmax
/// regression reaches about 87% on held-out images, a 784-128-10 MLP about 98.5%.
/// The same (n, seed) gives the same data set.
/// classes = 10, class_names = "0".."9". Cost: about 1 us per image per segment.
dataset synthetic_digits(std::size_t n, std::uint64_t seed,
                         image_layout layout = image_layout::flat);

}  // namespace dendrite::inline DENDRITE_TARGET::data
