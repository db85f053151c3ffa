#pragma once
// Network pictures in Graphviz DOT: layers as columns of neurons, the classic input / hidden /
// output diagram.

#include <cstddef>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "dendrite/config.hpp"

namespace dendrite::inline DENDRITE_TARGET::io {

/// One column of the picture: a label ("dense + relu") and its number of neurons.
struct layer_column {
    std::string label;
    std::size_t neurons;
};

struct dot_options {
    /// Neurons drawn per column at most; larger layers show the first and last few around a
    /// "⋮" marker, and the label gives the true count.
    std::size_t max_neurons = 10;
};

/// The DOT text of a network whose columns are `layers` (the input first). Render it with
/// `dot -Tsvg net.dot -o net.svg`.
std::string network_dot(const std::vector<layer_column>& layers, const dot_options& options = {});

/// Writes network_dot(...) to `path` atomically.
void write_network_dot(const std::filesystem::path& path, const std::vector<layer_column>& layers,
                       const dot_options& options = {});

/// The picture of any network with `layer_sizes()` (nn::sequential, nn::network).
template <class Net>
requires requires(Net& n) {
    n.layer_sizes();
}
void write_network_dot(const std::filesystem::path& path, Net& net,
                       const dot_options& options = {}) {
    std::vector<layer_column> columns;
    for (auto& [label, size] : net.layer_sizes())
        columns.push_back({label, size});
    write_network_dot(path, columns, options);
}

}  // namespace dendrite::inline DENDRITE_TARGET::io
