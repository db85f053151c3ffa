// nn::network<float> and <double>: built from descriptions through a layer_registry.
#include "dendrite/nn/network.hpp"

#include "builtin_registry.hpp"
#include "dendrite/autodiff/shape_ops.hpp"
#include "dendrite/nn/layer_list.hpp"

#include <cmath>

namespace dendrite::inline DENDRITE_TARGET::nn {

namespace {

sample_dims to_sample(const shape& s) {
    if (s.rank() == 3) return sample_dims::image(s[0], s[1], s[2]);
    if (s.rank() == 2) return sample_dims::sequence(s[0], s[1]);
    return sample_dims::features(s[0]);
}

shape to_shape(const sample_dims& d) {
    if (d.is_image()) return shape{d.channels(), d.height(), d.width()};
    if (d.is_sequence()) return shape{d.steps(), d.features_per_step()};
    return shape{d.size()};
}

}  // namespace

template <class T>
network<T>::network(const shape& sample, const std::vector<layer_description>& layers,
                    std::uint64_t seed)
    : network(sample, layers, seed, layer_registry<T>::builtin()) {}

template <class T>
network<T>::network(const shape& sample, const std::vector<layer_description>& layers,
                    std::uint64_t seed, const layer_registry<T>& kinds)
    : random_(seed) {
    if (sample.rank() < 1 || sample.rank() > 3)
        throw network_error(
            "network: a sample is [features], [steps, features] or [channels, height, width], "
            "not " +
            sample.str());
    if (sample.size() == 0) throw network_error("network: the input " + sample.str() + " is empty");
    if (layers.empty()) throw network_error("network: the description has no layer");
    in_ = out_ = to_sample(sample);
    const layer_catalog& catalog = kinds.catalog();
    for (std::size_t i = 0; i < layers.size(); ++i) {
        const layer_description& d = layers[i];
        const auto found = catalog.find(d.kind);
        if (!found)
            throw_layer_error(i, d.kind, "unknown kind; known kinds: " + catalog.kinds_text());
        built_module<T> built = kinds.build(*found, d, i, out_);
        // A layer that takes activations absorbs the one after it, as in the static networks.
        if (i + 1 < layers.size()) {
            if (const auto next = catalog.find(layers[i + 1].kind)) {
                if (auto fused = kinds.fuse(*found, *built.layer, *next, layers[i + 1], i + 1)) {
                    built.layer = std::move(fused);
                    ++i;
                }
            }
        }
        out_ = built.out;
        modules_.push_back(std::move(built.layer));
    }
    detail::name_parameters<T>(*this);
    init(seed);
}

template <class T>
shape network<T>::input_dims() const {
    return to_shape(in_);
}

template <class T>
shape network<T>::output_dims() const {
    return to_shape(out_);
}

template <class T>
var<T> network<T>::forward(tape& t, const var<T>& x) {
    const shape& xs = x.shape();
    if (xs.rank() < 2 || xs.size() != xs[0] * in_.size())
        throw shape_error("network: expects input [batch, " + input_dims().str().substr(1) +
                          ", got " + xs.str());
    const context ctx{t, training_, &random_};
    var<T> v = x;
    if (in_.is_image() && !(xs == shape{xs[0], in_.channels(), in_.height(), in_.width()}))
        v = reshape(x, shape{xs[0], in_.channels(), in_.height(), in_.width()});
    if (in_.is_sequence() && !(xs == shape{xs[0], in_.steps(), in_.features_per_step()}))
        v = reshape(x, shape{xs[0], in_.steps(), in_.features_per_step()});
    for (auto& m : modules_)
        v = m->forward(ctx, v);
    return v;
}

template <class T>
void network<T>::init(std::uint64_t seed) {
    rng g(seed);
    for (auto& m : modules_)
        m->init(g);
    random_.reseed(seed ^ 0xD1B54A32D192ED03ull);
}

template <class T>
parameter_list<T> network<T>::parameters() {
    return detail::parameters_of<T>(*this);
}

template <class T>
void network<T>::zero_grad() {
    for (auto& m : modules_)
        m->for_each_parameter([](nn::parameter<T>& p) { p.zero_grad(); });
}

template <class T>
std::size_t network<T>::parameter_count() {
    return detail::parameter_count_of<T>(*this);
}

template <class T>
std::string network<T>::summary() {
    return detail::summary_of<T>(*this, in_);
}

template <class T>
std::vector<std::pair<std::string, std::size_t>> network<T>::layer_sizes() {
    return detail::layer_sizes_of(*this, in_);
}

template class layer_registry<float>;
template class layer_registry<double>;
template class network<float>;
template class network<double>;

shape default_sample_shape(const std::vector<layer_description>& layers, std::size_t features,
                           const layer_catalog& catalog) {
    if (!starts_on_images(layers, catalog)) return shape{features};
    const auto side =
        static_cast<std::size_t>(std::lround(std::sqrt(static_cast<double>(features))));
    if (side * side != features)
        throw network_error("the data's " + std::to_string(features) +
                            " features are not a square image; give the input's shape as "
                            "CHANNELS,HEIGHT,WIDTH");
    return shape{1, side, side};
}

}  // namespace dendrite::inline DENDRITE_TARGET::nn
