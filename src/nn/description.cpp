// Run-time descriptions: the text and JSON parsers, and what a description starts on.
#include "dendrite/nn/description.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

#include "dendrite/nn/catalog.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

namespace {

std::string trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
        s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
        s.remove_suffix(1);
    return std::string(s);
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

double parse_number(const std::string& token, std::string_view text, std::size_t index) {
    double v = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, v);
    if (ec != std::errc() || ptr != end || !std::isfinite(v))
        throw network_error("network: layer " + std::to_string(index + 1) + " '" + token + "': '" +
                            std::string(text) + "' is not a number");
    return v;
}

std::string json_layer(std::size_t i, const std::string& kind) {
    return "network: JSON layer " + std::to_string(i + 1) + (kind.empty() ? "" : " '" + kind + "'");
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
        d.kind = lower(trim(std::string_view(token).substr(0, colon)));
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

std::vector<layer_description> parse_network_json(std::string_view json_text,
                                                  const layer_catalog& catalog) {
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
            throw network_error(json_layer(i, "") + " needs a \"type\" string");
        layer_description d{lower(l["type"].get<std::string>()), {}};
        const auto found = catalog.find(d.kind);
        if (!found)
            throw network_error(json_layer(i, d.kind) +
                                ": unknown type; known types: " + catalog.kinds_text());
        const layer_syntax& syntax = catalog[found->index];
        // Arguments are positional in a description: every one up to the last given is written,
        // those not given taking their defaults (or what the alias presets).
        std::vector<double> values(syntax.arguments.size());
        std::vector<bool> given(syntax.arguments.size());
        for (std::size_t a = 0; a < values.size(); ++a)
            values[a] =
                a == found->preset_argument ? found->preset_value : syntax.arguments[a].fallback;
        std::size_t count = found->preset_argument < values.size() ? found->preset_argument + 1 : 0;
        for (const auto& [key, value] : l.items()) {
            if (key == "type") continue;
            std::size_t a = 0;
            while (a < syntax.arguments.size() && syntax.arguments[a].name != key)
                ++a;
            if (a == syntax.arguments.size()) {
                std::string keys;
                for (const argument_info& info : syntax.arguments)
                    keys += (keys.empty() ? "\"" : ", \"") + info.name + "\"";
                throw network_error(
                    json_layer(i, d.kind) + ": unknown key \"" + key + "\"" +
                    (keys.empty() ? " (it takes none)" : " (its keys: " + keys + ")"));
            }
            if (value.is_boolean() && syntax.arguments[a].kind == argument_info::type::flag)
                values[a] = value.get<bool>() ? 1 : 0;
            else if (value.is_number())
                values[a] = value.get<double>();
            else
                throw network_error(
                    json_layer(i, d.kind) + ": \"" + key + "\" must be a " +
                    (syntax.arguments[a].kind == argument_info::type::flag ? "boolean" : "number"));
            given[a] = true;
            count = std::max(count, a + 1);
        }
        for (std::size_t a = 0; a < syntax.arguments.size(); ++a)
            if (syntax.arguments[a].required && !given[a])
                throw network_error(json_layer(i, d.kind) + " needs \"" + syntax.arguments[a].name +
                                    "\"");
        d.args.assign(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(count));
        out.push_back(std::move(d));
    }
    if (out.empty()) throw network_error("network: the JSON description has no layer");
    return out;
}

bool starts_on_images(const std::vector<layer_description>& layers, const layer_catalog& catalog) {
    for (const layer_description& d : layers) {
        const auto found = catalog.find(d.kind);
        if (!found) return false;
        const input_kind takes = catalog[found->index].takes;
        if (takes != input_kind::any) return takes == input_kind::images;
    }
    return false;
}

std::string network_layer_kinds(const layer_catalog& catalog) {
    return catalog.kinds_text();
}

}  // namespace dendrite::inline DENDRITE_TARGET::nn
