// nn::network's layers on images: convolution (fused with the activation after it), max and
// average pooling, global average pooling, batch norm per channel.
#include <string>

#include "dendrite/nn/conv.hpp"
#include "network_parts.hpp"

namespace dendrite::nn::detail {

namespace {

bool is_conv(const std::string& k) {
    return k == "conv" || k == "conv2d" || k == "conv_no_bias";
}
bool is_max_pool(const std::string& k) {
    return k == "maxpool" || k == "max_pool2d";
}
bool is_avg_pool(const std::string& k) {
    return k == "avgpool" || k == "avg_pool2d";
}
bool is_global_pool(const std::string& k) {
    return k == "globalavgpool" || k == "global_avg_pool2d";
}

// [C, OH, OW] after a window, or an error naming the layer when the window does not fit.
shape windowed(const layer_description& d, std::size_t index, const shape& sample,
               std::size_t channels, std::size_t kernel, std::size_t stride, std::size_t padding,
               std::size_t dilation) {
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

}  // namespace

bool is_image_kind(const layer_description& d, const shape& sample) {
    const std::string& k = d.kind;
    return is_conv(k) || is_max_pool(k) || is_avg_pool(k) || is_global_pool(k) ||
           (k == "batch_norm" && sample.rank() == 3);
}

}  // namespace dendrite::nn::detail

namespace dendrite::nn {

bool starts_on_images(const std::vector<layer_description>& layers) {
    for (const layer_description& d : layers) {
        if (detail::is_image_kind(d, shape{1, 1, 1})) return d.kind != "batch_norm";
        if (d.kind != "dropout" && !detail::with_activation(d, [](auto) {})) return false;
    }
    return false;
}

}  // namespace dendrite::nn

namespace dendrite::nn::detail {

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
        const bool fused = i + 1 < layers.size() && with_activation(layers[i + 1], [&](auto act) {
                               using F = decltype(act);
                               modules.push_back(std::make_unique<module_of<T, conv2d_layer<T, F>>>(
                                   conv2d_layer<T, F>(std::move(conv), act, act.name), out));
                           });
        if (fused)
            ++i;
        else
            modules.push_back(
                std::make_unique<module_of<T, conv2d_layer<T>>>(std::move(conv), out));
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

template void add_image_layer<float>(module_list<float>&, const std::vector<layer_description>&,
                                     std::size_t&, shape&);
template void add_image_layer<double>(module_list<double>&, const std::vector<layer_description>&,
                                      std::size_t&, shape&);

}  // namespace dendrite::nn::detail
