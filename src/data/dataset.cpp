#include "dendrite/data/dataset.hpp"
#include "dendrite/config.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <stdexcept>
#include <string>

#include "dendrite/data/error.hpp"
#include "dendrite/tensor/random.hpp"

namespace dendrite::inline DENDRITE_TARGET::data {

void validate(const dataset& ds, const char* what) {
    const std::string name(what);
    if (ds.x.rank() == 0)
        throw data_error(name + ": x must have rank >= 1 (examples along axis 0)");
    if (!ds.x.is_contiguous()) throw data_error(name + ": x must be contiguous; clone() it first");
    if (ds.x.dim(0) != ds.y.size())
        throw data_error(name + ": x has " + std::to_string(ds.x.dim(0)) + " examples but y has " +
                         std::to_string(ds.y.size()) + " labels");
    for (std::size_t i = 0; i < ds.y.size(); ++i)
        if (ds.y[i] < 0 || static_cast<std::size_t>(ds.y[i]) >= ds.classes)
            throw data_error(name + ": label " + std::to_string(ds.y[i]) + " of example " +
                             std::to_string(i) + " is outside [0, " + std::to_string(ds.classes) +
                             ")");
}

dataset subset(const dataset& ds, const std::vector<std::size_t>& indices) {
    validate(ds, "subset");
    dendrite::shape s = ds.x.shape();
    s[0] = indices.size();
    dataset out{tensor<float>::uninitialized(s), std::vector<std::int32_t>(indices.size()),
                ds.classes, ds.class_names};
    const std::size_t row = ds.example_size();
    const float* src = ds.x.data();
    float* dst = out.x.data();
    for (std::size_t k = 0; k < indices.size(); ++k) {
        const std::size_t i = indices[k];
        if (i >= ds.size())
            throw std::out_of_range("subset: index " + std::to_string(i) + " out of range for " +
                                    std::to_string(ds.size()) + " examples");
        if (row) std::memcpy(dst + k * row, src + i * row, row * sizeof(float));
        out.y[k] = ds.y[i];
    }
    return out;
}

std::pair<dataset, dataset> train_validation_split(const dataset& ds, double fraction,
                                                   std::uint64_t seed) {
    if (!(fraction >= 0.0 && fraction <= 1.0))
        throw std::invalid_argument("train_validation_split: fraction " + std::to_string(fraction) +
                                    " is not in [0, 1]");
    const std::size_t n = ds.size();
    const auto n_val = static_cast<std::size_t>(std::llround(fraction * static_cast<double>(n)));
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    rng g(seed);
    for (std::size_t i = n; i > 1; --i)
        std::swap(order[i - 1], order[g.below(i)]);
    // Each part keeps the data set's order, so a split of sorted data stays easy to inspect.
    std::vector<std::size_t> val(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n_val));
    std::vector<std::size_t> train(order.begin() + static_cast<std::ptrdiff_t>(n_val), order.end());
    std::sort(val.begin(), val.end());
    std::sort(train.begin(), train.end());
    return {subset(ds, train), subset(ds, val)};
}

}  // namespace dendrite::inline DENDRITE_TARGET::data
