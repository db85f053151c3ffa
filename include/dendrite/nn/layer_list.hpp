#pragma once
// What nn::sequential and nn::network share: a model is a list of layers, each with the extents
// of its output. Parameters, their checkpoint names, summaries and the (what, size) columns of
// network pictures are derived from that list here, once for both.
//
// A model `m` offers `m.for_each_layer(f)`, calling `f(layer, sample_dims out)` for every layer in
// order (a concrete layer in nn::sequential, a module<T> in nn::network).

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "dendrite/config.hpp"
#include "dendrite/nn/kind.hpp"
#include "dendrite/nn/layer.hpp"
#include "dendrite/nn/parameter.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

/// "784" for features, "[6, 24, 24]" for an image.
std::string sample_text(const sample_dims& d);

namespace detail {

/// Every parameter of the model, in layer order; the tensors are shared with the layers.
template <class T, class Model>
parameter_list<T> parameters_of(Model& m) {
    parameter_list<T> out;
    m.for_each_layer([&](auto& layer, const sample_dims&) {
        nn::for_each_parameter(layer, [&](nn::parameter<T>& p) { out.push_back(p); });
    });
    return out;
}

/// The number of trained values.
template <class T, class Model>
std::size_t parameter_count_of(Model& m) {
    std::size_t n = 0;
    m.for_each_layer([&](auto& layer, const sample_dims&) {
        nn::for_each_parameter(layer, [&](nn::parameter<T>& p) { n += p.size(); });
    });
    return n;
}

/// Checkpoint names: "<position>.<name>", position counting the input as 0 ("1.dense.weight"); a
/// name repeated inside one position (parallel branches) gets ".1", ".2"... appended.
template <class T, class Model>
void name_parameters(Model& m) {
    std::size_t position = 0;
    m.for_each_layer([&](auto& layer, const sample_dims&) {
        ++position;
        std::vector<std::string> seen;
        nn::for_each_parameter(layer, [&](nn::parameter<T>& p) {
            std::string name = std::to_string(position) + "." + p.name;
            std::size_t repeats = 0;
            for (const auto& s : seen)
                repeats += s == name;
            seen.push_back(name);
            p.name = repeats ? name + "." + std::to_string(repeats) : name;
        });
    });
}

/// One line per layer: what it is and its output ([C, H, W] for images), then the parameter count.
template <class T, class Model>
std::string summary_of(Model& m, const sample_dims& in) {
    std::string s = "input(" + sample_text(in) + ")\n";
    m.for_each_layer([&](auto& layer, const sample_dims& out) {
        s += describe_layer(layer) + " -> " + sample_text(out) + "\n";
    });
    return s + std::to_string(parameter_count_of<T>(m)) + " parameters\n";
}

/// (what, output size) for the input and every layer: what network pictures draw.
template <class Model>
std::vector<std::pair<std::string, std::size_t>> layer_sizes_of(Model& m, const sample_dims& in) {
    std::vector<std::pair<std::string, std::size_t>> out{{"input", in.size()}};
    m.for_each_layer([&](auto& layer, const sample_dims& d) {
        out.emplace_back(describe_layer(layer), d.size());
    });
    return out;
}

}  // namespace detail

}  // namespace dendrite::inline DENDRITE_TARGET::nn
