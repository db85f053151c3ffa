#pragma once
// Run-time descriptions of networks: "dense:256,relu,dropout:0.2,dense:10", or JSON, parsed into
// a list of layer descriptions that nn::network builds.

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "dendrite/config.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

/// Thrown for a network description that cannot be built; names the layer and what is wrong.
class network_error : public std::invalid_argument {
  public:
    using std::invalid_argument::invalid_argument;
};

/// One layer of a description: its kind and its positional arguments ("dense:256" = {"dense",
/// {256}}); arguments left out take their kind's defaults.
struct layer_description {
    std::string kind;
    std::vector<double> args;
};

/// Parses "dense:256,relu,dropout:0.2,dense:10" (also accepts spaces and ';'; kinds are
/// case-insensitive). Checks the syntax only: the kinds and their arguments are checked when a
/// network is built.
std::vector<layer_description> parse_network(std::string_view text);

}  // namespace dendrite::inline DENDRITE_TARGET::nn
