#include "dendrite/train/confusion_matrix.hpp"
#include "dendrite/config.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

namespace dendrite::inline DENDRITE_TARGET::train {

void confusion_matrix::add(std::size_t truth, std::size_t predicted) {
    if (truth >= classes_ || predicted >= classes_)
        throw std::out_of_range("confusion_matrix: class " +
                                std::to_string(std::max(truth, predicted)) + " outside [0, " +
                                std::to_string(classes_) + ")");
    ++counts_[truth * classes_ + predicted];
}

std::size_t confusion_matrix::total() const noexcept {
    std::size_t n = 0;
    for (std::size_t c : counts_)
        n += c;
    return n;
}

std::size_t confusion_matrix::correct() const noexcept {
    std::size_t n = 0;
    for (std::size_t c = 0; c < classes_; ++c)
        n += counts_[c * classes_ + c];
    return n;
}

double confusion_matrix::accuracy() const noexcept {
    const std::size_t n = total();
    return n ? static_cast<double>(correct()) / static_cast<double>(n)
             : std::numeric_limits<double>::quiet_NaN();
}

double confusion_matrix::recall(std::size_t c) const {
    std::size_t row = 0;
    for (std::size_t p = 0; p < classes_; ++p)
        row += count(c, p);
    return row ? static_cast<double>(count(c, c)) / static_cast<double>(row)
               : std::numeric_limits<double>::quiet_NaN();
}

double confusion_matrix::precision(std::size_t c) const {
    std::size_t column = 0;
    for (std::size_t t = 0; t < classes_; ++t)
        column += count(t, c);
    return column ? static_cast<double>(count(c, c)) / static_cast<double>(column)
                  : std::numeric_limits<double>::quiet_NaN();
}

void confusion_matrix::reset() noexcept {
    std::fill(counts_.begin(), counts_.end(), 0);
}

std::string confusion_matrix::str(const std::vector<std::string>& names) const {
    std::size_t label_width = 5;
    for (std::size_t c = 0; c < classes_; ++c)
        label_width =
            std::max(label_width, c < names.size() ? names[c].size() : std::to_string(c).size());
    std::size_t cell = 5;
    for (std::size_t v : counts_)
        cell = std::max(cell, std::to_string(v).size() + 1);

    std::string out =
        std::string(label_width, ' ') + " predicted:\n" + std::string(label_width, ' ');
    char buf[64];
    for (std::size_t p = 0; p < classes_; ++p) {
        std::snprintf(buf, sizeof buf, "%*zu", static_cast<int>(cell), p);
        out += buf;
    }
    out += "  recall\n";
    for (std::size_t t = 0; t < classes_; ++t) {
        const std::string label = t < names.size() ? names[t] : std::to_string(t);
        out += label + std::string(label_width - label.size(), ' ');
        for (std::size_t p = 0; p < classes_; ++p) {
            std::snprintf(buf, sizeof buf, "%*zu", static_cast<int>(cell), count(t, p));
            out += buf;
        }
        std::snprintf(buf, sizeof buf, "  %.3f\n", recall(t));
        out += buf;
    }
    return out;
}

}  // namespace dendrite::inline DENDRITE_TARGET::train
