#pragma once
// MNIST-format directories: MNIST, Fashion-MNIST, KMNIST and any set saved with the same names.

#include <cstddef>
#include <filesystem>
#include <optional>

#include "dendrite/config.hpp"
#include "dendrite/data/dataset.hpp"
#include "dendrite/data/idx.hpp"

namespace dendrite::inline DENDRITE_TARGET::data {

/// Which half of an MNIST-format directory to read.
enum class split {
    train,  ///< train-images-idx3-ubyte, train-labels-idx1-ubyte (60000 examples in MNIST)
    test,   ///< t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (10000 examples in MNIST)
};

/// Reads the images and labels of `which` from `dir`, taking each file as `<name>` or
/// `<name>.gz`, whichever exists (the uncompressed one when both do). The image and label counts
/// must agree and not be zero, images must have pixels; labels must be below `classes`. Returns x as described by `layout`, classes =
/// `classes`. Throws data_error naming the directory when a file is missing, and the file when
/// one is bad (see read_idx_images). Cost: reading both files, about 0.3 s for 60000 images.
dataset load_mnist_dir(const std::filesystem::path& dir, split which,
                       image_layout layout = image_layout::flat, std::size_t classes = 10);

/// The directory where Debian's packaged Fashion-MNIST lives (/usr/share/datasets/fashion-mnist)
/// when it holds the training and test files, else nothing.
std::optional<std::filesystem::path> fashion_mnist_dir();

/// The ten Fashion-MNIST class names, in label order ("T-shirt/top", "Trouser", ...).
std::vector<std::string> fashion_mnist_class_names();

}  // namespace dendrite::inline DENDRITE_TARGET::data
