#include "dendrite/data/mnist.hpp"
#include "dendrite/config.hpp"

#include <string>
#include <system_error>

#include "dendrite/data/error.hpp"

namespace dendrite::inline DENDRITE_TARGET::data {

namespace {

std::filesystem::path find_member(const std::filesystem::path& dir, const std::string& name) {
    std::error_code ec;
    for (const std::string& candidate : {name, name + ".gz"})
        if (std::filesystem::is_regular_file(dir / candidate, ec)) return dir / candidate;
    throw data_error(dir.string() + ": no " + name + " or " + name + ".gz in this directory");
}

}  // namespace

dataset load_mnist_dir(const std::filesystem::path& dir, split which, image_layout layout,
                       std::size_t classes) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec))
        throw data_error(dir.string() + ": not a directory");
    const std::string prefix = which == split::train ? "train" : "t10k";
    const std::filesystem::path images = find_member(dir, prefix + "-images-idx3-ubyte");
    const std::filesystem::path labels = find_member(dir, prefix + "-labels-idx1-ubyte");
    dataset ds{read_idx_images(images, layout), read_idx_labels(labels, classes), classes};
    // Valid IDX files, but nothing to train or test on: every later step would divide by zero or
    // feed a network empty rows.
    if (ds.x.dim(0) == 0) throw data_error(images.string() + ": holds no images");
    if (ds.x.size() == 0) throw data_error(images.string() + ": holds images of 0 pixels");
    if (ds.x.dim(0) != ds.y.size())
        throw data_error(dir.string() + ": " + images.filename().string() + " holds " +
                         std::to_string(ds.x.dim(0)) + " images but " + labels.filename().string() +
                         " holds " + std::to_string(ds.y.size()) + " labels");
    return ds;
}

std::optional<std::filesystem::path> fashion_mnist_dir() {
    const std::filesystem::path dir = "/usr/share/datasets/fashion-mnist";
    std::error_code ec;
    for (const char* name : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}) {
        const std::string file = name;
        if (!std::filesystem::is_regular_file(dir / file, ec) &&
            !std::filesystem::is_regular_file(dir / (file + ".gz"), ec))
            return std::nullopt;
    }
    return dir;
}

std::vector<std::string> fashion_mnist_class_names() {
    return {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
}

}  // namespace dendrite::inline DENDRITE_TARGET::data
