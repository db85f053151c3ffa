#include "dendrite/nn/network.hpp"
#include "dendrite/config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <nlohmann/json.hpp>

#include "network_parts.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

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
           "flatten, conv:FILTERS:KERNEL[:STRIDE[:PADDING[:DILATION[:GROUPS]]]], "
           "conv_no_bias:..., maxpool:KERNEL[:STRIDE[:PADDING]], "
           "avgpool:KERNEL[:STRIDE[:PADDING]], "
           "global_avg_pool2d, relu, leaky_relu[:SLOPE], elu, selu, gelu, gelu_tanh, sigmoid, "
           "tanh, "
           "softplus, softsign, silu, swish, mish, hard_sigmoid, hard_swish, identity, softmax, "
           "log_softmax";
}

namespace detail {

bool is_image_kind(const layer_description& d, const shape& sample) {
    const std::string& k = d.kind;
    return is_conv(k) || is_max_pool(k) || is_avg_pool(k) || is_global_pool(k) ||
           (k == "batch_norm" && sample.rank() == 3);
}

}  // namespace detail

bool starts_on_images(const std::vector<layer_description>& layers) {
    for (const layer_description& d : layers) {
        if (detail::is_image_kind(d, shape{1, 1, 1})) return d.kind != "batch_norm";
        if (d.kind != "dropout" && !detail::with_activation(d, [](auto) {})) return false;
    }
    return false;
}

}  // namespace dendrite::inline DENDRITE_TARGET::nn
