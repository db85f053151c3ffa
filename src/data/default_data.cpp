#include "dendrite/data/default_data.hpp"
#include "dendrite/config.hpp"

#include <filesystem>
#include <string>

#include "dendrite/data/error.hpp"
#include "dendrite/data/mnist.hpp"
#include "dendrite/data/synthetic.hpp"

namespace dendrite::inline DENDRITE_TARGET::data {

train_test_data mnist_or_synthetic(const std::string& dir, std::uint64_t seed) {
    train_test_data d;
    const auto packaged = fashion_mnist_dir();
    const std::filesystem::path path =
        !dir.empty() ? std::filesystem::path(dir) : packaged.value_or("");
    if (path.empty()) {
        d.train = synthetic_digits(20000, seed);
        d.test = synthetic_digits(4000, seed + 1);
        d.description =
            "generated digits (Fashion-MNIST is not installed: apt-get install "
            "dataset-fashion-mnist, or pass --data DIR)";
        return d;
    }
    d.train = load_mnist_dir(path, split::train);
    d.test = load_mnist_dir(path, split::test);
    if (d.test.example_size() != d.train.example_size())
        throw data_error(path.string() + ": the test images have " +
                         std::to_string(d.test.example_size()) + " pixels, the training images " +
                         std::to_string(d.train.example_size()));
    std::error_code ec;
    if (packaged && std::filesystem::equivalent(path, *packaged, ec))
        d.class_names = fashion_mnist_class_names();
    d.description = path.string() + " (" + std::to_string(d.train.size()) + " training, " +
                    std::to_string(d.test.size()) + " test images)";
    return d;
}

}  // namespace dendrite::inline DENDRITE_TARGET::data
