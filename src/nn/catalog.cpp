// The syntax of run-time descriptions, and the messages that name what is wrong with a layer.
#include "dendrite/nn/catalog.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>

#include "dendrite/nn/activations.hpp"
#include "dendrite/nn/arguments.hpp"
#include "dendrite/nn/layer_list.hpp"
#include "dendrite/nn/layers.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

namespace {

std::string upper(std::string s) {
    for (char& c : s)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

std::string number_text(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

template <class K>
void add_kind(layer_catalog& c) {
    c.add(syntax_of<K>());
}

}  // namespace

std::string sample_text(const sample_dims& d) {
    if (d.is_sequence()) {
        std::string s = "[";
        s += std::to_string(d.steps()) + ", " + std::to_string(d.features_per_step()) + "]";
        return s;
    }
    if (!d.is_image()) return std::to_string(d.size());
    // Appended piece by piece: g++ 12 warns falsely (-Wrestrict) on "[" + std::string&&.
    std::string s = "[";
    s += std::to_string(d.channels()) + ", " + std::to_string(d.height()) + ", ";
    s += std::to_string(d.width()) + "]";
    return s;
}

std::string layer_syntax::synopsis() const {
    std::string s = name, closing;
    for (const argument_info& a : arguments) {
        if (a.required) {
            s += ':';
            s += upper(a.name);
        } else {
            s += "[:" + upper(a.name);
            closing += "]";
        }
    }
    return s + closing;
}

std::optional<layer_catalog::match> layer_catalog::find(std::string_view kind) const {
    for (std::size_t i = 0; i < entries_.size(); ++i) {
        if (entries_[i].name == kind) return match{i};
        for (const alias_info& a : entries_[i].aliases)
            if (a.name == kind) return match{i, a.argument, a.value};
    }
    return std::nullopt;
}

void layer_catalog::add(layer_syntax syntax) {
    const auto taken = [&](const std::string& name) {
        if (find(name))
            throw network_error("layer_registry: the name '" + name + "' is already taken");
    };
    taken(syntax.name);
    for (const alias_info& a : syntax.aliases)
        taken(a.name);
    entries_.push_back(std::move(syntax));
}

std::string layer_catalog::kinds_text() const {
    std::string s;
    for (const layer_syntax& e : entries_) {
        s += (s.empty() ? "" : ", ") + e.synopsis();
        if (!e.aliases.empty()) {
            s += " (also";
            for (std::size_t i = 0; i < e.aliases.size(); ++i)
                s += (i ? ", " : " ") + e.aliases[i].name;
            s += ")";
        }
    }
    return s;
}

const layer_catalog& builtin_catalog() {
    static const layer_catalog catalog = [] {
        layer_catalog c;
        [&]<class... K>(kind_list<K...>) { (add_kind<K>(c), ...); }(builtin_layer_kinds{});
        std::apply([&](const auto&... a) { (c.add(activation_syntax(a)), ...); },
                   builtin_activations());
        return c;
    }();
    return catalog;
}

void throw_layer_error(std::size_t index, const std::string& kind, const std::string& what) {
    throw network_error("network: layer " + std::to_string(index + 1) + " '" + kind + "': " + what);
}

std::string explain(const layer_output& out, const sample_dims& in) {
    const std::string received = sample_text(in);
    switch (out.problem) {
        case layer_problem::none:
            return "no problem";
        case layer_problem::needs_features:
            if (in.is_sequence())
                return "works on features but receives a sequence " + received +
                       "; put 'last' (or 'flatten') before it";
            return "works on features but receives images " + received +
                   "; put 'flatten' (or 'global_avg_pool2d') before it";
        case layer_problem::needs_sequence:
            return "works on a sequence [steps, features] but receives " +
                   std::string(in.is_image() ? "images " : "[") + received +
                   (in.is_image() ? "" : "]") +
                   "; give the network a [steps, features] input, or ids through 'embedding'";
        case layer_problem::needs_image:
            return "works on images [channels, height, width] but receives " +
                   (in.is_sequence() ? received : "[" + received + "]") +
                   "; give the network an image input shape";
        case layer_problem::input_size:
            return "expects " + std::to_string(out.values[0]) + " inputs but receives " +
                   std::to_string(out.values[1]);
        case layer_problem::window_too_large:
            return "its " + std::to_string(out.values[0]) + "x" + std::to_string(out.values[0]) +
                   " window does not fit its input " + received + " with padding " +
                   std::to_string(out.values[1]);
        case layer_problem::groups:
            return "groups (" + std::to_string(out.values[0]) +
                   ") must divide the input channels (" + std::to_string(out.values[1]) +
                   ") and the filters (" + std::to_string(out.values[2]) + ")";
        case layer_problem::options:
            return out.message ? out.message : "its options are rejected";
    }
    return "rejected";
}

namespace detail {

double checked_argument(double value, const argument_info& a, std::size_t index,
                        const std::string& kind) {
    switch (a.kind) {
        case argument_info::type::whole:
            if (!(value >= static_cast<double>(a.minimum)) || value > 1e9 ||
                value != std::floor(value))
                throw_layer_error(
                    index, kind,
                    "the " + a.name + " must be a " +
                        (a.minimum == 0   ? std::string("non-negative")
                         : a.minimum == 1 ? std::string("positive")
                                          : "at least " + std::to_string(a.minimum) + ",") +
                        " whole number, not " + number_text(value));
            return value;
        case argument_info::type::flag:
            if (value != 0 && value != 1)
                throw_layer_error(
                    index, kind,
                    "the " + a.name + " is 0 or 1 (false or true), not " + number_text(value));
            return value;
        case argument_info::type::real:
            if (!std::isfinite(value))
                throw_layer_error(index, kind, "the " + a.name + " must be a finite number");
            return value;
    }
    return value;
}

}  // namespace detail

}  // namespace dendrite::inline DENDRITE_TARGET::nn
