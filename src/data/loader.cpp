#include "dendrite/data/loader.hpp"
#include "dendrite/config.hpp"

#include <bit>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <stdexcept>

#include "dendrite/data/error.hpp"

namespace dendrite::inline DENDRITE_TARGET::data {

std::string loader_state::str() const {
    char buf[160];
    std::snprintf(buf, sizeof buf,
                  "epoch=%" PRIu64 " rng=%016" PRIx64 ",%016" PRIx64 ",%016" PRIx64 ",%016" PRIx64
                  ",%016" PRIx64 ",%d",
                  epoch, generator.s[0], generator.s[1], generator.s[2], generator.s[3],
                  std::bit_cast<std::uint64_t>(generator.spare), generator.has_spare ? 1 : 0);
    return buf;
}

loader_state loader_state::parse(const std::string& text) {
    loader_state st;
    std::uint64_t spare = 0;
    int has_spare = 0, consumed = 0;
    const int fields = std::sscanf(
        text.c_str(),
        "epoch=%" SCNu64 " rng=%" SCNx64 ",%" SCNx64 ",%" SCNx64 ",%" SCNx64 ",%" SCNx64 ",%d%n",
        &st.epoch, &st.generator.s[0], &st.generator.s[1], &st.generator.s[2], &st.generator.s[3],
        &spare, &has_spare, &consumed);
    if (fields != 7 || static_cast<std::size_t>(consumed) != text.size() ||
        (has_spare != 0 && has_spare != 1))
        throw data_error("loader_state::parse: '" + text +
                         "' is not a loader state (expected the form of str())");
    st.generator.spare = std::bit_cast<double>(spare);
    st.generator.has_spare = has_spare == 1;
    return st;
}

batch_loader::batch_loader(dataset ds, loader_options options)
    : data_(std::move(ds)), options_(options), generator_(options.seed) {
    if (options_.batch_size == 0)
        throw std::invalid_argument("batch_loader: batch_size must be at least 1");
    validate(data_, "batch_loader");
    order_.resize(data_.size());
    std::iota(order_.begin(), order_.end(), std::size_t{0});
    if (options_.shuffle) {
        dendrite::shape s = data_.x.shape();
        s[0] = std::min(options_.batch_size, data_.size());
        x_buffer_ = tensor<float>::uninitialized(s);
        y_buffer_.resize(s[0]);
    }
    epoch_start_ = generator_.state();
}

std::size_t batch_loader::batches_per_epoch() const noexcept {
    const std::size_t n = data_.size(), b = options_.batch_size;
    return options_.drop_last ? n / b : (n + b - 1) / b;
}

void batch_loader::shuffle_order() {
    // Fisher-Yates from the identity, so that an epoch's order depends only on the generator's
    // state at its start: that state is all a checkpoint needs.
    std::iota(order_.begin(), order_.end(), std::size_t{0});
    for (std::size_t i = order_.size(); i > 1; --i)
        std::swap(order_[i - 1], order_[generator_.below(i)]);
}

batch_loader::epoch_range batch_loader::next_epoch() {
    epoch_start_ = generator_.state();
    if (options_.shuffle) shuffle_order();
    ++epoch_;
    current_index_ = static_cast<std::size_t>(-1);
    return epoch_range(this);
}

const batch& batch_loader::at(std::size_t i) {
    if (epoch_ == 0) throw std::logic_error("batch_loader::at: call next_epoch() first");
    if (i >= batches_per_epoch())
        throw std::out_of_range("batch_loader::at: batch " + std::to_string(i) +
                                " of an epoch of " + std::to_string(batches_per_epoch()));
    if (i == current_index_) return current_;
    const std::size_t begin = i * options_.batch_size;
    const std::size_t end = std::min(begin + options_.batch_size, data_.size());
    const std::size_t count = end - begin;
    current_.index = i;
    current_.indices = std::span<const std::size_t>(order_.data() + begin, count);
    if (!options_.shuffle) {
        current_.x = data_.x.rows(begin, end);
        current_.y = std::span<const std::int32_t>(data_.y.data() + begin, count);
    } else {
        const std::size_t row = data_.example_size();
        const float* src = data_.x.data();
        float* dst = x_buffer_.data();
        for (std::size_t k = 0; k < count; ++k) {
            const std::size_t r = order_[begin + k];
            std::memcpy(dst + k * row, src + r * row, row * sizeof(float));
            y_buffer_[k] = data_.y[r];
        }
        // A view of the buffer's first rows: rebinding a tensor handle allocates nothing.
        current_.x = count == x_buffer_.dim(0) ? x_buffer_ : x_buffer_.rows(0, count);
        current_.y = std::span<const std::int32_t>(y_buffer_.data(), count);
    }
    current_index_ = i;
    return current_;
}

loader_state batch_loader::state() const noexcept {
    return {epoch_, epoch_start_};
}

void batch_loader::restore(const loader_state& s) {
    generator_.restore(s.generator);
    epoch_ = s.epoch;
    epoch_start_ = s.generator;
    current_index_ = static_cast<std::size_t>(-1);
    if (epoch_ > 0 && options_.shuffle) {
        shuffle_order();
    } else {
        std::iota(order_.begin(), order_.end(), std::size_t{0});
    }
}

}  // namespace dendrite::inline DENDRITE_TARGET::data
