#pragma once
// nn::network's builder and members, instantiated once per value type (network_float.cpp,
// network_double.cpp). The modules that carry an activation come from their own units
// (network_parts.hpp).

#include <string>

#include "dendrite/autodiff/leaves.hpp"
#include "dendrite/config.hpp"
#include "dendrite/nn/activations.hpp"
#include "dendrite/nn/conv.hpp"
#include "dendrite/nn/dense.hpp"
#include "dendrite/nn/dropout.hpp"
#include "dendrite/nn/flatten.hpp"
#include "dendrite/nn/normalization.hpp"
#include "dendrite/nn/softmax_layer.hpp"
#include "network_parts.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn::detail {

// [C, OH, OW] after a window, or an error naming the layer when the window does not fit.
inline shape windowed(const layer_description& d, std::size_t index, const shape& sample,
                      std::size_t channels, std::size_t kernel, std::size_t stride,
                      std::size_t padding, std::size_t dilation) {
    const std::size_t h =
        linalg::conv_geometry::out_extent(sample[1], kernel, stride, padding, dilation);
    const std::size_t w =
        linalg::conv_geometry::out_extent(sample[2], kernel, stride, padding, dilation);
    if (h == 0 || w == 0)
        layer_error(index, d,
                    "its " + std::to_string(kernel) + "x" + std::to_string(kernel) +
                        " window does not fit its input " + sample.str() + " with padding " +
                        std::to_string(padding));
    return shape{channels, h, w};
}

/// Adds the module for layers[i], a convolution, a pooling or a batch norm of images, for samples
/// of shape `sample` ([C, H, W]), and updates `sample` to its output. A convolution takes the
/// activation after it into its epilogue (i then advances past it).
template <class T>
void add_image_layer(module_list<T>& modules, const std::vector<layer_description>& layers,
                     std::size_t& i, shape& sample) {
    const layer_description& d = layers[i];
    if (sample.rank() != 3)
        layer_error(i, d,
                    "works on images [channels, height, width] but receives " + sample.str() +
                        "; give the network an image input shape");
    const std::string prefix = std::to_string(modules.size() + 1) + ".";
    const std::size_t channels = sample[0];
    if (is_conv(d.kind)) {
        const std::size_t filters =
            whole_argument(d, i, 0, 0, "number of filters, as in 'conv:6:5'");
        const std::size_t kernel = whole_argument(d, i, 1, 0, "kernel size, as in 'conv:6:5'");
        const std::size_t stride = whole_argument(d, i, 2, 1, "stride");
        const std::size_t padding = whole_argument(d, i, 3, 0, "padding", false);
        const std::size_t dilation = whole_argument(d, i, 4, 1, "dilation");
        const std::size_t groups = whole_argument(d, i, 5, 1, "number of groups");
        if (d.args.size() > 6)
            layer_error(
                i, d, "takes at most 6 arguments (filters:kernel:stride:padding:dilation:groups)");
        if (channels % groups != 0 || filters % groups != 0)
            layer_error(i, d,
                        "groups (" + std::to_string(groups) + ") must divide the input channels (" +
                            std::to_string(channels) + ") and the filters (" +
                            std::to_string(filters) + ")");
        const bool bias = d.kind != "conv_no_bias";
        const shape out = windowed(d, i, sample, filters, kernel, stride, padding, dilation);
        conv2d_layer<T> conv(channels, filters, kernel, stride, padding, dilation, groups, bias, {},
                             prefix + "conv2d");
        if (i + 1 < layers.size() && with_activation(layers[i + 1], [](auto) {})) {
            modules.push_back(fuse_conv(std::move(conv), layers[i + 1], out));
            ++i;
        } else {
            modules.push_back(
                std::make_unique<module_of<T, conv2d_layer<T>>>(std::move(conv), out));
        }
        sample = out;
    } else if (is_max_pool(d.kind) || is_avg_pool(d.kind)) {
        const std::size_t kernel = whole_argument(d, i, 0, 0, "window size, as in 'maxpool:2'");
        const std::size_t stride = whole_argument(d, i, 1, kernel, "stride");
        const std::size_t padding = whole_argument(d, i, 2, 0, "padding", false);
        if (d.args.size() > 3)
            layer_error(i, d, "takes at most 3 arguments (kernel:stride:padding)");
        if (2 * padding > kernel) layer_error(i, d, "padding must be at most half the window");
        const shape out = windowed(d, i, sample, channels, kernel, stride, padding, 1);
        if (is_max_pool(d.kind))
            modules.push_back(std::make_unique<module_of<T, max_pool2d_layer<T>>>(
                max_pool2d_layer<T>(kernel, stride, padding), out));
        else
            modules.push_back(std::make_unique<module_of<T, avg_pool2d_layer<T>>>(
                avg_pool2d_layer<T>(kernel, stride, padding), out));
        sample = out;
    } else if (is_global_pool(d.kind)) {
        if (!d.args.empty()) layer_error(i, d, "takes no argument");
        modules.push_back(std::make_unique<module_of<T, global_avg_pool2d_layer<T>>>(
            global_avg_pool2d_layer<T>{}, shape{channels}));
        sample = shape{channels};
    } else {  // batch_norm of images
        const double momentum = d.args.size() > 0 ? d.args[0] : 0.1,
                     eps = d.args.size() > 1 ? d.args[1] : 1e-5;
        modules.push_back(std::make_unique<module_of<T, batch_norm2d_layer<T>>>(
            batch_norm2d_layer<T>(channels, momentum, eps, prefix + "batch_norm2d"), sample));
    }
}

}  // namespace dendrite::inline DENDRITE_TARGET::nn::detail

namespace dendrite::inline DENDRITE_TARGET::nn {

// "784" for features, "[6, 24, 24]" for images.
inline std::string sample_text(const shape& s) {
    return s.rank() == 1 ? std::to_string(s[0]) : s.str();
}

template <class T>
network<T>::network(const shape& sample, const std::vector<layer_description>& layers,
                    std::uint64_t seed)
    : in_(sample), out_(sample), random_(seed) {
    using detail::layer_error;
    if (sample.rank() != 1 && sample.rank() != 3)
        throw network_error("network: a sample is [features] or [channels, height, width], not " +
                            sample.str());
    if (sample.size() == 0) throw network_error("network: the input " + sample.str() + " is empty");
    if (layers.empty()) throw network_error("network: the description has no layer");
    const auto flat = [&](std::size_t i) {
        if (out_.rank() != 1)
            layer_error(i, layers[i],
                        "works on features but receives images " + out_.str() +
                            "; put 'flatten' (or 'global_avg_pool2d') before it");
        return out_[0];
    };
    for (std::size_t i = 0; i < layers.size(); ++i) {
        const layer_description& d = layers[i];
        const std::string prefix = std::to_string(modules_.size() + 1) + ".";
        if (detail::is_image_kind(d, out_)) {
            detail::add_image_layer(modules_, layers, i, out_);
        } else if (d.kind == "dense" || d.kind == "dense_no_bias") {
            const std::size_t in = flat(i);
            const std::size_t units =
                detail::whole_argument(d, i, 0, 0, "number of units, as in 'dense:128'");
            const bool bias = d.kind == "dense";
            out_ = shape{units};
            dense_layer<T> dense(in, units, bias, {}, prefix + "dense");
            // A dense layer absorbs the activation after it, as in the static networks.
            if (i + 1 < layers.size() && detail::with_activation(layers[i + 1], [](auto) {})) {
                modules_.push_back(detail::fuse_dense(std::move(dense), layers[i + 1], out_));
                ++i;
            } else {
                modules_.push_back(
                    std::make_unique<module_of<T, dense_layer<T>>>(std::move(dense), out_));
            }
        } else if (d.kind == "flatten") {
            out_ = shape{out_.size()};
            modules_.push_back(
                std::make_unique<module_of<T, flatten_layer<T>>>(flatten_layer<T>(out_[0]), out_));
        } else if (d.kind == "dropout") {
            if (d.args.empty() || !(d.args[0] >= 0 && d.args[0] < 1))
                layer_error(i, d, "needs a probability in [0, 1), as in 'dropout:0.2'");
            modules_.push_back(std::make_unique<module_of<T, dropout_layer<T>>>(
                dropout_layer<T>(d.args[0]), out_));
        } else if (d.kind == "batch_norm") {
            const double momentum = d.args.size() > 0 ? d.args[0] : 0.1,
                         eps = d.args.size() > 1 ? d.args[1] : 1e-5;
            modules_.push_back(std::make_unique<module_of<T, batch_norm_layer<T>>>(
                batch_norm_layer<T>(flat(i), momentum, eps, prefix + "batch_norm"), out_));
        } else if (d.kind == "layer_norm") {
            const double eps = d.args.empty() ? 1e-5 : d.args[0];
            modules_.push_back(std::make_unique<module_of<T, layer_norm_layer<T>>>(
                layer_norm_layer<T>(flat(i), eps, prefix + "layer_norm"), out_));
        } else if (d.kind == "softmax") {
            flat(i);
            modules_.push_back(std::make_unique<module_of<T, softmax_layer<T, false>>>(
                softmax_layer<T, false>{}, out_));
        } else if (d.kind == "log_softmax") {
            flat(i);
            modules_.push_back(std::make_unique<module_of<T, softmax_layer<T, true>>>(
                softmax_layer<T, true>{}, out_));
        } else if (auto act = detail::activation_module<T>(d, out_)) {
            modules_.push_back(std::move(act));
        } else {
            layer_error(i, d, "unknown kind; known kinds: " + network_layer_kinds());
        }
    }
    init(seed);
}

template <class T>
var<T> network<T>::forward(tape& t, const var<T>& x) {
    const shape& xs = x.shape();
    if (xs.rank() < 2 || xs.size() != xs[0] * in_.size())
        throw shape_error("network: expects input [batch, " + in_.str().substr(1) + ", got " +
                          xs.str());
    const context ctx{t, training_, &random_};
    var<T> v = x;
    if (in_.rank() == 3 && !(xs == shape{xs[0], in_[0], in_[1], in_[2]}))
        v = reshape(x, shape{xs[0], in_[0], in_[1], in_[2]});
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
    parameter_list<T> out;
    for (auto& m : modules_)
        m->for_each_parameter([&](nn::parameter<T>& p) { out.push_back(p); });
    return out;
}

template <class T>
void network<T>::zero_grad() {
    for (auto& m : modules_)
        m->for_each_parameter([](nn::parameter<T>& p) { p.zero_grad(); });
}

template <class T>
std::size_t network<T>::parameter_count() {
    std::size_t n = 0;
    for (auto& m : modules_)
        m->for_each_parameter([&](nn::parameter<T>& p) { n += p.size(); });
    return n;
}

template <class T>
std::string network<T>::summary() {
    std::string s = "input(" + sample_text(in_) + ")\n";
    for (const auto& m : modules_)
        s += m->describe() + " -> " + sample_text(m->out_dims()) + "\n";
    return s + std::to_string(parameter_count()) + " parameters\n";
}

template <class T>
std::vector<std::pair<std::string, std::size_t>> network<T>::layer_sizes() {
    std::vector<std::pair<std::string, std::size_t>> out{{"input", in_.size()}};
    for (const auto& m : modules_)
        out.emplace_back(m->describe(), m->out_dims().size());
    return out;
}

}  // namespace dendrite::inline DENDRITE_TARGET::nn
