#include "dendrite/nn/network.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <nlohmann/json.hpp>

#include "dendrite/autodiff/leaves.hpp"
#include "dendrite/nn/activations.hpp"
#include "dendrite/nn/dense.hpp"
#include "dendrite/nn/dropout.hpp"
#include "dendrite/nn/flatten.hpp"
#include "dendrite/nn/normalization.hpp"
#include "dendrite/nn/softmax_layer.hpp"
#include "network_parts.hpp"

namespace dendrite::nn {

namespace detail {

void layer_error(std::size_t index, const layer_description& d, const std::string& what) {
    throw network_error("network: layer " + std::to_string(index + 1) + " '" + d.kind +
                        "': " + what);
}

std::size_t whole_argument(const layer_description& d, std::size_t index, std::size_t arg,
                           std::size_t fallback, const char* what, bool positive) {
    if (arg >= d.args.size()) {
        if (positive && fallback == 0) layer_error(index, d, std::string("needs a ") + what);
        return fallback;
    }
    const double v = d.args[arg];
    if (!(v >= (positive ? 1 : 0)) || v > 1e9 ||
        v != static_cast<double>(static_cast<std::size_t>(v)))
        layer_error(index, d,
                    std::string("the ") + what + " must be a " +
                        (positive ? "positive" : "non-negative") + " whole number, not " +
                        std::to_string(v));
    return static_cast<std::size_t>(v);
}

}  // namespace detail

namespace {

std::string trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
        s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
        s.remove_suffix(1);
    return std::string(s);
}

double parse_number(const std::string& token, std::string_view text, std::size_t index) {
    double v = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, v);
    if (ec != std::errc() || ptr != end)
        throw network_error("network: layer " + std::to_string(index + 1) + " '" + token + "': '" +
                            std::string(text) + "' is not a number");
    return v;
}

}  // namespace

std::vector<layer_description> parse_network(std::string_view text) {
    std::vector<layer_description> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t end = text.find_first_of(",;", start);
        if (end == std::string_view::npos) end = text.size();
        const std::string token = trim(text.substr(start, end - start));
        start = end + 1;
        if (token.empty()) {
            if (end == text.size()) break;
            throw network_error("network: empty layer at position " +
                                std::to_string(out.size() + 1) + " in '" + std::string(text) + "'");
        }
        layer_description d;
        std::size_t colon = token.find(':');
        d.kind = trim(std::string_view(token).substr(0, colon));
        std::transform(d.kind.begin(), d.kind.end(), d.kind.begin(),
                       [](unsigned char c) { return std::tolower(c); });
        while (colon != std::string::npos) {
            const std::size_t next = token.find(':', colon + 1);
            const std::string arg =
                trim(std::string_view(token).substr(colon + 1, next - colon - 1));
            d.args.push_back(parse_number(token, arg, out.size()));
            colon = next;
        }
        out.push_back(std::move(d));
        if (end == text.size()) break;
    }
    if (out.empty())
        throw network_error("network: the description '" + std::string(text) + "' has no layer");
    return out;
}

std::vector<layer_description> parse_network_json(std::string_view json_text) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(json_text);
    } catch (const nlohmann::json::parse_error& e) {
        throw network_error(std::string("network: invalid JSON: ") + e.what());
    }
    const nlohmann::json& layers = j.is_object() && j.contains("layers") ? j["layers"] : j;
    if (!layers.is_array())
        throw network_error("network: JSON must be an array of layers or {\"layers\": [...]}");
    std::vector<layer_description> out;
    for (std::size_t i = 0; i < layers.size(); ++i) {
        const auto& l = layers[i];
        if (!l.is_object() || !l.contains("type") || !l["type"].is_string())
            throw network_error("network: JSON layer " + std::to_string(i + 1) +
                                " needs a \"type\" string");
        layer_description d{l["type"].get<std::string>(), {}};
        auto number = [&](const char* key) {
            if (!l[key].is_number())
                throw network_error("network: JSON layer " + std::to_string(i + 1) + ": \"" + key +
                                    "\" must be a number");
            d.args.push_back(l[key].get<double>());
        };
        if (d.kind == "dense" && l.contains("units")) number("units");
        if (d.kind == "dense" && l.contains("bias") && l["bias"].is_boolean() &&
            !l["bias"].get<bool>())
            d.kind = "dense_no_bias";
        if (d.kind == "dropout" && l.contains("p")) number("p");
        if (d.kind == "leaky_relu" && l.contains("slope")) number("slope");
        if (d.kind == "batch_norm") {
            if (l.contains("momentum")) number("momentum");
            if (l.contains("eps")) number("eps");
        }
        if (d.kind == "layer_norm" && l.contains("eps")) number("eps");
        // Window layers: the arguments are positional, so every one up to the last is written.
        const auto window = [&](std::initializer_list<std::pair<const char*, double>> keys) {
            for (const auto& [key, fallback] : keys) {
                if (l.contains(key))
                    number(key);
                else if (fallback < 0)
                    throw network_error("network: JSON layer " + std::to_string(i + 1) + " '" +
                                        d.kind + "' needs \"" + key + "\"");
                else
                    d.args.push_back(fallback);
            }
        };
        if (d.kind == "conv" || d.kind == "conv2d") {
            window({{"filters", -1},
                    {"kernel", -1},
                    {"stride", 1},
                    {"padding", 0},
                    {"dilation", 1},
                    {"groups", 1}});
            if (l.contains("bias") && l["bias"].is_boolean() && !l["bias"].get<bool>())
                d.kind = "conv_no_bias";
        }
        if (d.kind == "maxpool" || d.kind == "max_pool2d" || d.kind == "avgpool" ||
            d.kind == "avg_pool2d") {
            const double kernel =
                l.contains("kernel") && l["kernel"].is_number() ? l["kernel"].get<double>() : -1;
            window({{"kernel", -1}, {"stride", kernel}, {"padding", 0}});
        }
        out.push_back(std::move(d));
    }
    if (out.empty()) throw network_error("network: the JSON description has no layer");
    return out;
}

std::string network_layer_kinds() {
    return "dense:N, dense_no_bias:N, dropout:P, batch_norm[:MOMENTUM[:EPS]], layer_norm[:EPS], "
           "flatten, "
           "conv:FILTERS:KERNEL[:STRIDE[:PADDING[:DILATION[:GROUPS]]]], conv_no_bias:..., "
           "maxpool:KERNEL[:STRIDE[:PADDING]], avgpool:KERNEL[:STRIDE[:PADDING]], "
           "global_avg_pool2d, relu, "
           "leaky_relu[:SLOPE], elu, selu, gelu, gelu_tanh, sigmoid, tanh, softplus, softsign, "
           "silu, swish, mish, "
           "hard_sigmoid, hard_swish, identity, softmax, log_softmax";
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
            // A dense layer absorbs the activation after it, as in the static networks.
            const bool fused =
                i + 1 < layers.size() && detail::with_activation(layers[i + 1], [&](auto act) {
                    using F = decltype(act);
                    modules_.push_back(std::make_unique<module_of<T, dense_layer<T, F>>>(
                        dense_layer<T, F>(dense_layer<T>(in, units, bias, {}, prefix + "dense"),
                                          act, act.name),
                        out_));
                });
            if (fused)
                ++i;
            else
                modules_.push_back(std::make_unique<module_of<T, dense_layer<T>>>(
                    dense_layer<T>(in, units, bias, {}, prefix + "dense"), out_));
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
        } else if (!detail::with_activation(d, [&](auto act) {
                       using F = decltype(act);
                       modules_.push_back(std::make_unique<module_of<T, activation_layer<T, F>>>(
                           activation_layer<T, F>(act, act.name), out_));
                   })) {
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

namespace {
// "784" for features, "[6, 24, 24]" for images.
std::string sample_text(const shape& s) {
    return s.rank() == 1 ? std::to_string(s[0]) : s.str();
}
}  // namespace

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

template class network<float>;
template class network<double>;

}  // namespace dendrite::nn
