#pragma once
// The syntax of run-time descriptions: for every kind of layer and activation a network can be
// built from, its name, aliases and arguments. Derived from the kinds themselves (registry.hpp);
// the JSON parser, the help texts and the network builder read it.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dendrite/config.hpp"
#include "dendrite/nn/description.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

/// An argument as descriptions write it.
struct argument_info {
    enum class type { whole, flag, real };
    std::string name;
    type kind = type::whole;
    /// Whole numbers: the least value accepted.
    std::size_t minimum = 1;
    bool required = false;
    /// The value when left out.
    double fallback = 0;
};

/// Another name of a kind, presetting the argument at `argument` (npos: none) to `value`.
struct alias_info {
    std::string name;
    std::size_t argument = static_cast<std::size_t>(-1);
    double value = 0;
};

/// What a kind takes as input.
enum class input_kind { any, features, images };

/// The syntax of one kind of layer or activation.
struct layer_syntax {
    std::string name;
    std::vector<alias_info> aliases;
    std::vector<argument_info> arguments;
    input_kind takes = input_kind::any;
    bool is_activation = false;

    /// "conv:FILTERS:KERNEL[:STRIDE[:PADDING[:DILATION[:GROUPS[:BIAS]]]]]".
    std::string synopsis() const;
};

/// The kinds a run-time description may name.
class layer_catalog {
  public:
    /// An entry found by name or alias, with the argument the alias presets.
    struct match {
        std::size_t index = 0;
        std::size_t preset_argument = static_cast<std::size_t>(-1);
        double preset_value = 0;
    };

    /// The entry named `kind` (lower case) by its name or an alias.
    std::optional<match> find(std::string_view kind) const;
    /// Adds an entry; throws network_error when its name or an alias is already taken.
    void add(layer_syntax syntax);

    const layer_syntax& operator[](std::size_t i) const { return entries_[i]; }
    std::size_t size() const noexcept { return entries_.size(); }

    /// "dense:UNITS[:BIAS], conv:FILTERS:KERNEL[...] (also conv2d, conv_no_bias), ..., relu, ...":
    /// for help texts.
    std::string kinds_text() const;

  private:
    std::vector<layer_syntax> entries_;
};

/// The syntax of the built-in layers and activations.
const layer_catalog& builtin_catalog();

/// Parses a JSON description: {"layers": [{"type": "dense", "units": 256}, {"type": "relu"},
/// {"type": "dropout", "p": 0.2}, ...]} or a bare array of such objects. Each object's keys
/// other than "type" are its kind's argument names (`catalog[kind].arguments`, as
/// network_layer_kinds() lists them); true and false stand for 1 and 0. Throws network_error
/// naming the layer for an unknown kind or key, a missing required argument or a value of the
/// wrong type.
std::vector<layer_description> parse_network_json(std::string_view json_text,
                                                  const layer_catalog& catalog = builtin_catalog());

/// Whether a description starts on images: a layer that takes only images (a convolution,
/// pooling) comes before any that takes only features (dense, flatten, ...). Such a network is
/// built for [channels, height, width].
bool starts_on_images(const std::vector<layer_description>& layers,
                      const layer_catalog& catalog = builtin_catalog());

/// The kinds a description may use, with their arguments, for help texts.
std::string network_layer_kinds(const layer_catalog& catalog = builtin_catalog());

}  // namespace dendrite::inline DENDRITE_TARGET::nn
