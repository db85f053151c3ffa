#pragma once
// From a kind's `arguments` to run-time syntax, and from a layer description's numbers to the
// kind's options, checked: the generic half of reading "conv:6:5:1:2" or {"type": "conv", ...}.

#include <cstddef>
#include <string>
#include <tuple>
#include <type_traits>

#include "dendrite/config.hpp"
#include "dendrite/nn/activations.hpp"
#include "dendrite/nn/catalog.hpp"
#include "dendrite/nn/description.hpp"
#include "dendrite/nn/kind.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

/// Throws network_error "network: layer <index + 1> '<kind>': <what>".
[[noreturn]] void throw_layer_error(std::size_t index, const std::string& kind,
                                    const std::string& what);

/// A sentence saying what `out` found wrong with a layer receiving `in` ("works on features but
/// receives images [6, 24, 24]; put 'flatten' (or 'global_avg_pool2d') before it").
std::string explain(const layer_output& out, const sample_dims& in);

namespace detail {

/// `value` as argument `a` of a layer: checked against its type; throws network_error naming the
/// layer and the argument.
double checked_argument(double value, const argument_info& a, std::size_t index,
                        const std::string& kind);

template <class M>
constexpr argument_info::type argument_type() {
    if constexpr (std::is_same_v<M, bool>)
        return argument_info::type::flag;
    else if constexpr (std::is_same_v<M, double>)
        return argument_info::type::real;
    else
        return argument_info::type::whole;
}

/// The run-time syntax of the arguments of options O (a kind's options, an activation's
/// function object): names, types and defaults read off the bindings and O's initialisers.
template <class O, class Arguments>
std::vector<argument_info> arguments_info(const Arguments& arguments, const O& defaults = {}) {
    std::vector<argument_info> out;
    std::apply(
        [&](const auto&... b) {
            (out.push_back({b.name,
                            argument_type<std::remove_cvref_t<decltype(defaults.*b.member)>>(),
                            b.minimum, b.is_required, static_cast<double>(defaults.*b.member)}),
             ...);
        },
        arguments);
    return out;
}

}  // namespace detail

/// The run-time syntax of kind K: its name, aliases, arguments and the input it takes.
template <layer_kind K>
layer_syntax syntax_of() {
    layer_syntax s;
    s.name = K::name;
    s.arguments = detail::arguments_info<typename K::options>(K::arguments());
    if constexpr (requires { K::aliases; }) {
        for (const kind_alias& a : K::aliases) {
            alias_info info{a.name};
            for (std::size_t i = 0; a.argument && i < s.arguments.size(); ++i)
                if (s.arguments[i].name == a.argument) info.argument = i, info.value = a.value;
            s.aliases.push_back(info);
        }
    }
    // The kind's own rule says what it takes: probe it with each kind of sample.
    const typename K::options o{};
    if (K::output(o, sample_dims::features(16)).problem == layer_problem::needs_image)
        s.takes = input_kind::images;
    else if (K::output(o, sample_dims::image(1, 16, 16)).problem == layer_problem::needs_features)
        s.takes = input_kind::features;
    return s;
}

/// The run-time syntax of activation `a`: its name, and the arguments of its function if it has
/// any ("leaky_relu:SLOPE").
template <class F>
layer_syntax activation_syntax(const activation<F>& a) {
    layer_syntax s;
    s.name = a.name;
    s.is_activation = true;
    if constexpr (requires { F::arguments(); })
        s.arguments = detail::arguments_info<F>(F::arguments(), a.f);
    return s;
}

/// `o` with the arguments of description `d` (layer `index`, found as `m`) applied through
/// `arguments`; a required argument left out, too many arguments or a value of the wrong type
/// throws network_error naming the layer.
template <class O, class Arguments>
O read_arguments(O o, const Arguments& arguments, const layer_description& d, std::size_t index,
                 const layer_catalog::match& m, const layer_syntax& syntax) {
    constexpr std::size_t n = std::tuple_size_v<Arguments>;
    if (d.args.size() > n)
        throw_layer_error(index, d.kind,
                          n == 0 ? std::string("takes no argument")
                                 : "takes at most " + std::to_string(n) + " argument" +
                                       (n == 1 ? "" : "s") + " (" + syntax.synopsis() + ")");
    std::size_t i = 0;
    std::apply(
        [&](const auto&... b) {
            // Unused, and so [[maybe_unused]], for a kind without arguments.
            [[maybe_unused]] const auto read = [&](const auto& binding) {
                const std::size_t at = i++;
                double v;
                if (at < d.args.size())
                    v = d.args[at];
                else if (at == m.preset_argument)
                    v = m.preset_value;
                else if (binding.is_required)
                    throw_layer_error(
                        index, d.kind,
                        std::string("needs the ") + binding.name + " (" + syntax.synopsis() + ")");
                else
                    return;
                using M = std::remove_cvref_t<decltype(o.*binding.member)>;
                o.*binding.member = static_cast<M>(
                    detail::checked_argument(v, syntax.arguments[at], index, d.kind));
            };
            (read(b), ...);
        },
        arguments);
    return o;
}

}  // namespace dendrite::inline DENDRITE_TARGET::nn
