#include "dendrite/io/network_dot.hpp"
#include "dendrite/config.hpp"

#include <sstream>

#include "dendrite/io/atomic_file.hpp"
#include "dendrite/io/error.hpp"

namespace dendrite::inline DENDRITE_TARGET::io {

namespace {
// The neurons of a column that are drawn, with -1 standing for the elision marker.
std::vector<long> drawn(std::size_t n, std::size_t max) {
    std::vector<long> out;
    if (n <= max) {
        for (std::size_t i = 0; i < n; ++i)
            out.push_back(static_cast<long>(i));
        return out;
    }
    const std::size_t head = (max - 1) / 2, tail = max - 1 - head;
    for (std::size_t i = 0; i < head; ++i)
        out.push_back(static_cast<long>(i));
    out.push_back(-1);
    for (std::size_t i = n - tail; i < n; ++i)
        out.push_back(static_cast<long>(i));
    return out;
}

std::string escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}
}  // namespace

std::string network_dot(const std::vector<layer_column>& layers, const dot_options& options) {
    if (layers.empty()) throw io_error("network_dot: no layers to draw");
    if (options.max_neurons < 3) throw io_error("network_dot: max_neurons must be at least 3");
    // A stream rather than string concatenation: GCC 12 at -O3 reports a false -Wrestrict on
    // chains of std::string operator+.
    std::ostringstream s;
    s << "digraph network {\n"
         "  rankdir=LR; splines=line; nodesep=0.08; ranksep=1.4;\n"
         "  node [shape=circle, width=0.28, fixedsize=true, label=\"\", style=filled, "
         "color=\"#555555\"];\n"
         "  edge [color=\"#00000030\", arrowhead=none];\n";
    std::vector<std::vector<long>> columns;
    for (std::size_t l = 0; l < layers.size(); ++l) {
        const char* fill = l == 0 ? "#9ecae1" : l + 1 == layers.size() ? "#fdae6b" : "#c7e9c0";
        columns.push_back(drawn(layers[l].neurons, options.max_neurons));
        s << "  subgraph cluster_" << l << " {\n    color=white; label=\""
          << escape(layers[l].label) << "\\n"
          << layers[l].neurons << "\"; labelloc=b;\n";
        for (long n : columns.back()) {
            if (n < 0)
                s << "    n" << l
                  << "_gap [shape=plaintext, label=\"\u22ee\", style=\"\", fontsize=18];\n";
            else
                s << "    n" << l << "_" << n << " [fillcolor=\"" << fill << "\"];\n";
        }
        s << "  }\n";
    }
    for (std::size_t l = 0; l + 1 < columns.size(); ++l)
        for (long a : columns[l])
            for (long b : columns[l + 1])
                if (a >= 0 && b >= 0)
                    s << "  n" << l << "_" << a << " -> n" << l + 1 << "_" << b << ";\n";
    s << "}\n";
    return s.str();
}

void write_network_dot(const std::filesystem::path& path, const std::vector<layer_column>& layers,
                       const dot_options& options) {
    write_file_atomically(path, network_dot(layers, options));
}

}  // namespace dendrite::inline DENDRITE_TARGET::io
