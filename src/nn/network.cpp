#include "dendrite/nn/network.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <nlohmann/json.hpp>

#include "dendrite/autodiff/leaves.hpp"
#include "dendrite/nn/activations.hpp"
#include "dendrite/nn/dense.hpp"
#include "dendrite/nn/dropout.hpp"
#include "dendrite/nn/normalization.hpp"
#include "dendrite/nn/softmax_layer.hpp"

namespace dendrite::nn {

namespace {

std::string trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return std::string(s);
}

double parse_number(const std::string& token, std::string_view text, std::size_t index) {
    double v = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, v);
    if (ec != std::errc() || ptr != end)
        throw network_error("network: layer " + std::to_string(index + 1) + " '" + token + "': '" + std::string(text) +
                            "' is not a number");
    return v;
}

// Calls f(activation) for an activation kind, returns false for anything else.
template <class F>
bool with_activation(const layer_description& d, F&& f) {
    const std::string& k = d.kind;
    if (k == "relu") return f(relu), true;
    if (k == "leaky_relu") return f(leaky_relu_with(d.args.empty() ? 0.01 : d.args[0])), true;
    if (k == "elu") return f(elu), true;
    if (k == "selu") return f(selu), true;
    if (k == "gelu") return f(gelu), true;
    if (k == "gelu_tanh") return f(gelu_tanh), true;
    if (k == "sigmoid") return f(sigmoid), true;
    if (k == "tanh") return f(tanh), true;
    if (k == "softplus") return f(softplus), true;
    if (k == "softsign") return f(softsign), true;
    if (k == "silu" || k == "swish") return f(silu), true;
    if (k == "mish") return f(mish), true;
    if (k == "hard_sigmoid") return f(hard_sigmoid), true;
    if (k == "hard_swish") return f(hard_swish), true;
    if (k == "identity" || k == "linear") return f(identity), true;
    return false;
}

std::size_t positive_count(const layer_description& d, std::size_t index, const char* what) {
    if (d.args.empty() || d.args[0] < 1 || d.args[0] != static_cast<double>(static_cast<std::size_t>(d.args[0])))
        throw network_error("network: layer " + std::to_string(index + 1) + " '" + d.kind + "' needs a positive whole " +
                            what + ", as in '" + d.kind + ":128'");
    return static_cast<std::size_t>(d.args[0]);
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
            throw network_error("network: empty layer at position " + std::to_string(out.size() + 1) + " in '" +
                                std::string(text) + "'");
        }
        layer_description d;
        std::size_t colon = token.find(':');
        d.kind = trim(std::string_view(token).substr(0, colon));
        std::transform(d.kind.begin(), d.kind.end(), d.kind.begin(), [](unsigned char c) { return std::tolower(c); });
        while (colon != std::string::npos) {
            const std::size_t next = token.find(':', colon + 1);
            const std::string arg = trim(std::string_view(token).substr(colon + 1, next - colon - 1));
            d.args.push_back(parse_number(token, arg, out.size()));
            colon = next;
        }
        out.push_back(std::move(d));
        if (end == text.size()) break;
    }
    if (out.empty()) throw network_error("network: the description '" + std::string(text) + "' has no layer");
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
    if (!layers.is_array()) throw network_error("network: JSON must be an array of layers or {\"layers\": [...]}");
    std::vector<layer_description> out;
    for (std::size_t i = 0; i < layers.size(); ++i) {
        const auto& l = layers[i];
        if (!l.is_object() || !l.contains("type") || !l["type"].is_string())
            throw network_error("network: JSON layer " + std::to_string(i + 1) + " needs a \"type\" string");
        layer_description d{l["type"].get<std::string>(), {}};
        auto number = [&](const char* key) {
            if (!l[key].is_number())
                throw network_error("network: JSON layer " + std::to_string(i + 1) + ": \"" + key + "\" must be a number");
            d.args.push_back(l[key].get<double>());
        };
        if (d.kind == "dense" && l.contains("units")) number("units");
        if (d.kind == "dense" && l.contains("bias") && l["bias"].is_boolean() && !l["bias"].get<bool>()) d.kind = "dense_no_bias";
        if (d.kind == "dropout" && l.contains("p")) number("p");
        if (d.kind == "leaky_relu" && l.contains("slope")) number("slope");
        if (d.kind == "batch_norm") {
            if (l.contains("momentum")) number("momentum");
            if (l.contains("eps")) number("eps");
        }
        if (d.kind == "layer_norm" && l.contains("eps")) number("eps");
        out.push_back(std::move(d));
    }
    if (out.empty()) throw network_error("network: the JSON description has no layer");
    return out;
}

std::string network_layer_kinds() {
    return "dense:N, dense_no_bias:N, dropout:P, batch_norm[:MOMENTUM[:EPS]], layer_norm[:EPS], relu, "
           "leaky_relu[:SLOPE], elu, selu, gelu, gelu_tanh, sigmoid, tanh, softplus, softsign, silu, swish, mish, "
           "hard_sigmoid, hard_swish, identity, softmax, log_softmax";
}

template <class T>
network<T>::network(std::size_t in_features, const std::vector<layer_description>& layers, std::uint64_t seed)
    : in_(in_features), out_(in_features), random_(seed) {
    if (in_features == 0) throw network_error("network: the input must have at least one feature");
    if (layers.empty()) throw network_error("network: the description has no layer");
    std::size_t features = in_features;
    auto keep = [](std::size_t n) { return n; };
    for (std::size_t i = 0; i < layers.size(); ++i) {
        const layer_description& d = layers[i];
        const std::string prefix = std::to_string(modules_.size() + 1) + ".";
        if (d.kind == "dense" || d.kind == "dense_no_bias") {
            const std::size_t units = positive_count(d, i, "number of units");
            const bool bias = d.kind == "dense";
            const std::size_t out = units;
            auto fixed = [out](std::size_t) { return out; };
            // A dense layer absorbs the activation after it, as in the static networks.
            const bool fused = i + 1 < layers.size() && with_activation(layers[i + 1], [&](auto act) {
                using F = decltype(act);
                modules_.push_back(std::make_unique<module_of<T, dense_layer<T, F>>>(
                    dense_layer<T, F>(dense_layer<T>(features, units, bias, {}, prefix + "dense"), act, act.name),
                    fixed));
            });
            if (fused)
                ++i;
            else
                modules_.push_back(std::make_unique<module_of<T, dense_layer<T>>>(
                    dense_layer<T>(features, units, bias, {}, prefix + "dense"), fixed));
            features = units;
        } else if (d.kind == "dropout") {
            if (d.args.empty() || !(d.args[0] >= 0 && d.args[0] < 1))
                throw network_error("network: layer " + std::to_string(i + 1) +
                                    " 'dropout' needs a probability in [0, 1), as in 'dropout:0.2'");
            modules_.push_back(std::make_unique<module_of<T, dropout_layer<T>>>(dropout_layer<T>(d.args[0]), keep));
        } else if (d.kind == "batch_norm") {
            const double momentum = d.args.size() > 0 ? d.args[0] : 0.1, eps = d.args.size() > 1 ? d.args[1] : 1e-5;
            modules_.push_back(std::make_unique<module_of<T, batch_norm_layer<T>>>(
                batch_norm_layer<T>(features, momentum, eps, prefix + "batch_norm"), keep));
        } else if (d.kind == "layer_norm") {
            const double eps = d.args.empty() ? 1e-5 : d.args[0];
            modules_.push_back(std::make_unique<module_of<T, layer_norm_layer<T>>>(
                layer_norm_layer<T>(features, eps, prefix + "layer_norm"), keep));
        } else if (d.kind == "softmax") {
            modules_.push_back(std::make_unique<module_of<T, softmax_layer<T, false>>>(softmax_layer<T, false>{}, keep));
        } else if (d.kind == "log_softmax") {
            modules_.push_back(std::make_unique<module_of<T, softmax_layer<T, true>>>(softmax_layer<T, true>{}, keep));
        } else if (!with_activation(d, [&](auto act) {
                       using F = decltype(act);
                       modules_.push_back(std::make_unique<module_of<T, activation_layer<T, F>>>(
                           activation_layer<T, F>(act, act.name), keep));
                   })) {
            throw network_error("network: layer " + std::to_string(i + 1) + ": unknown kind '" + d.kind +
                                "'; known kinds: " + network_layer_kinds());
        }
    }
    out_ = features;
    init(seed);
}

template <class T>
var<T> network<T>::forward(tape& t, const var<T>& x) {
    if (x.shape().rank() != 2 || x.shape()[1] != in_)
        throw shape_error("network: expects input [batch, " + std::to_string(in_) + "], got " + x.shape().str());
    const context ctx{t, training_, &random_};
    var<T> v = x;
    for (auto& m : modules_) v = m->forward(ctx, v);
    return v;
}

template <class T>
void network<T>::init(std::uint64_t seed) {
    rng g(seed);
    for (auto& m : modules_) m->init(g);
    random_.reseed(seed ^ 0xD1B54A32D192ED03ull);
}

template <class T>
parameter_list<T> network<T>::parameters() {
    parameter_list<T> out;
    for (auto& m : modules_) m->for_each_parameter([&](nn::parameter<T>& p) { out.push_back(p); });
    return out;
}

template <class T>
void network<T>::zero_grad() {
    for (auto& m : modules_) m->for_each_parameter([](nn::parameter<T>& p) { p.zero_grad(); });
}

template <class T>
std::size_t network<T>::parameter_count() {
    std::size_t n = 0;
    for (auto& m : modules_) m->for_each_parameter([&](nn::parameter<T>& p) { n += p.size(); });
    return n;
}

template <class T>
std::string network<T>::summary() {
    std::string s = "input(" + std::to_string(in_) + ")\n";
    std::size_t features = in_;
    for (const auto& m : modules_) {
        features = m->out_features(features);
        s += m->describe() + " -> " + std::to_string(features) + "\n";
    }
    std::size_t n = 0;
    for (const auto& m : modules_) m->for_each_parameter([&](nn::parameter<T>& p) { n += p.size(); });
    return s + std::to_string(n) + " parameters\n";
}

template <class T>
std::vector<std::pair<std::string, std::size_t>> network<T>::layer_sizes() {
    std::vector<std::pair<std::string, std::size_t>> out{{"input", in_}};
    std::size_t features = in_;
    for (const auto& m : modules_) {
        features = m->out_features(features);
        out.emplace_back(m->describe(), features);
    }
    return out;
}

template class network<float>;
template class network<double>;

}  // namespace dendrite::nn
