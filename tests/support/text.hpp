#pragma once
// Reading what the writers of pictures and reports produced.

#include <cstddef>
#include <string>

namespace dendrite::testing {

/// How many times `what` occurs in `s`, overlapping occurrences included.
inline std::size_t count_occurrences(const std::string& s, const std::string& what) {
    std::size_t n = 0;
    for (std::size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1))
        ++n;
    return n;
}

}  // namespace dendrite::testing
