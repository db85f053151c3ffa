#pragma once
// Per-parameter state buffers shared by the optimizers: allocation on the first step, the check
// that later steps see the same parameters, and checkpoint save/restore by name.

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dendrite/config.hpp"
#include "dendrite/optim/optimizer.hpp"
#include "dendrite/tensor/parameter.hpp"
#include "dendrite/tensor/tensor.hpp"

namespace dendrite::inline DENDRITE_TARGET::optim::detail {

/// The checkpoint key of parameter i: its name, or "#i" when it has none.
template <class T>
std::string parameter_key(const nn::parameter<T>& p, std::size_t i) {
    if (!p.name.empty()) return p.name;
    // Appended rather than "#" + to_string(i), which trips GCC 12's false -Wrestrict (PR 105651).
    std::string key = "#";
    key += std::to_string(i);
    return key;
}

/// The 1-element tensor holding a step count. Throws std::overflow_error when T cannot hold the
/// count exactly (beyond 2^24 steps in float), rather than writing a checkpoint that resumes at a
/// different step.
template <class T>
tensor<T> step_tensor(std::size_t steps) {
    const T v = static_cast<T>(steps);
    if (static_cast<std::size_t>(v) != steps)
        throw std::overflow_error("optimizer state: step count " + std::to_string(steps) +
                                  " is not exactly representable in the state's value type");
    return tensor<T>(shape{1}, v);
}

/// Throws unless `p` can be updated by a flat loop: contiguous value and gradient of one size.
template <class T>
void check_parameter(const nn::parameter<T>& p, const char* who) {
    if (p.grad.size() != p.value.size() || !p.value.is_contiguous() || !p.grad.is_contiguous())
        throw shape_error(std::string(who) + ": parameter '" + p.name + "' has value " +
                          p.value.shape().str() + " and gradient " + p.grad.shape().str() +
                          "; both must be contiguous and of one size");
}

/// Buffers of a few kinds ("m", "v"...), one tensor per parameter and kind, each the size of its
/// parameter and filled with the kind's initial value when allocated.
template <class T>
class slot_buffers {
  public:
    /// `prefix` names the optimizer in checkpoints; `kinds` lists each buffer's name and initial
    /// value (empty for optimizers without per-parameter state).
    slot_buffers(std::string prefix, std::vector<std::pair<std::string, T>> kinds)
        : prefix_(std::move(prefix)), kinds_(std::move(kinds)) {}

    /// True once buffers exist for a parameter list.
    bool allocated() const noexcept { return bound_; }

    /// Checks that every parameter can be updated by a flat loop, then allocates the buffers on
    /// the first call; on later calls checks (without allocating) that `params` still matches.
    void bind(const nn::parameter_list<T>& params, const char* who);

    /// Buffer `kind` (index into the kinds given at construction) of parameter i.
    tensor<T>& buffer(std::size_t kind, std::size_t i) noexcept {
        return buffers_[i * kinds_.size() + kind];
    }
    const tensor<T>& buffer(std::size_t kind, std::size_t i) const noexcept {
        return buffers_[i * kinds_.size() + kind];
    }

    /// Deep copies of every buffer, then the step count.
    state_list<T> save(std::size_t steps) const;

    /// Restores buffers for `params` from `s` (copying them) and returns the saved step count. A
    /// snapshot taken before the first step holds only the count; buffers are then left to the
    /// next step.
    std::size_t load(const nn::parameter_list<T>& params, const state_list<T>& s, const char* who);

  private:
    static const state_entry<T>* find(const state_list<T>& s, std::string_view name);

    std::string entry_name(std::size_t kind, const std::string& key) const;

    void allocate(const nn::parameter_list<T>& params, const char* who);

    void release() noexcept {
        keys_.clear();
        buffers_.clear();
        params_ = 0;
        bound_ = false;
    }

    std::string prefix_;
    std::vector<std::pair<std::string, T>> kinds_;
    std::vector<std::string> keys_;
    std::vector<tensor<T>> buffers_;
    std::size_t params_ = 0;
    bool bound_ = false;
};

template <class T>
void slot_buffers<T>::bind(const nn::parameter_list<T>& params, const char* who) {
    for (const auto& p : params)
        check_parameter(p, who);
    if (!allocated()) {
        allocate(params, who);
        return;
    }
    if (params.size() != params_)
        throw std::invalid_argument(
            std::string(who) + ": step called with " + std::to_string(params.size()) +
            " parameters; the optimizer state holds " + std::to_string(params_));
    if (kinds_.empty()) return;
    for (std::size_t i = 0; i < params_; ++i)
        if (params[i].size() != buffers_[i * kinds_.size()].size())
            throw shape_error(std::string(who) + ": parameter " + std::to_string(i) + " ('" +
                              params[i].name + "') changed size since the state was allocated");
}

template <class T>
state_list<T> slot_buffers<T>::save(std::size_t steps) const {
    state_list<T> out;
    out.reserve(buffers_.size() + 1);
    for (std::size_t i = 0; i < params_; ++i)
        for (std::size_t k = 0; k < kinds_.size(); ++k)
            out.push_back({entry_name(k, keys_[i]), buffers_[i * kinds_.size() + k].clone()});
    out.push_back({prefix_ + ".step", step_tensor<T>(steps)});
    return out;
}

template <class T>
std::size_t slot_buffers<T>::load(const nn::parameter_list<T>& params, const state_list<T>& s,
                                  const char* who) {
    const std::string step_name = prefix_ + ".step";
    const state_entry<T>* step = find(s, step_name);
    if (!step || step->value.size() != 1)
        throw std::invalid_argument(std::string(who) + ": load_state: no '" + step_name +
                                    "' entry of one element");
    const T count = step->value.data()[0];
    // Range first: converting a NaN, an infinity or a huge value to size_t is undefined.
    if (!(count >= T(0) && count < T(1e18)) ||
        count != static_cast<T>(static_cast<std::size_t>(count)))
        throw std::invalid_argument(std::string(who) + ": load_state: invalid step count");
    const auto steps = static_cast<std::size_t>(count);

    const bool has_buffers = !kinds_.empty() && !params.empty() &&
                             find(s, entry_name(0, parameter_key(params[0], 0))) != nullptr;
    if (!has_buffers) {
        if (steps != 0 && !kinds_.empty() && !params.empty())
            throw std::invalid_argument(std::string(who) + ": load_state: the state is at step " +
                                        std::to_string(steps) + " but holds no buffers for '" +
                                        parameter_key(params[0], 0) + "'");
        release();
        return steps;
    }
    slot_buffers loaded(prefix_, kinds_);
    loaded.allocate(params, who);
    for (std::size_t i = 0; i < params.size(); ++i)
        for (std::size_t k = 0; k < kinds_.size(); ++k) {
            const std::string name = entry_name(k, loaded.keys_[i]);
            const state_entry<T>* e = find(s, name);
            if (!e)
                throw std::invalid_argument(std::string(who) + ": load_state: no entry '" + name +
                                            "'");
            tensor<T>& dst = loaded.buffers_[i * kinds_.size() + k];
            if (e->value.size() != dst.size())
                throw shape_error(std::string(who) + ": load_state: '" + name + "' has " +
                                  std::to_string(e->value.size()) + " elements, parameter has " +
                                  std::to_string(dst.size()));
            dst = e->value.clone().reshape(dst.shape());
        }
    *this = std::move(loaded);
    return steps;
}

template <class T>
const state_entry<T>* slot_buffers<T>::find(const state_list<T>& s, std::string_view name) {
    for (const auto& e : s)
        if (e.name == name) return &e;
    return nullptr;
}

template <class T>
std::string slot_buffers<T>::entry_name(std::size_t kind, const std::string& key) const {
    return prefix_ + "." + kinds_[kind].first + "." + key;
}

template <class T>
void slot_buffers<T>::allocate(const nn::parameter_list<T>& params, const char* who) {
    release();
    keys_.reserve(params.size());
    buffers_.reserve(params.size() * kinds_.size());
    for (std::size_t i = 0; i < params.size(); ++i) {
        keys_.push_back(parameter_key(params[i], i));
        for (const auto& [kind, init] : kinds_)
            buffers_.emplace_back(params[i].value.shape(), init);
    }
    // Checkpoint entries are found by name, so two parameters may not share one.
    std::vector<std::string_view> sorted(keys_.begin(), keys_.end());
    std::sort(sorted.begin(), sorted.end());
    const auto dup = std::adjacent_find(sorted.begin(), sorted.end());
    if (dup != sorted.end()) {
        const std::string name(*dup);
        release();
        throw std::invalid_argument(std::string(who) + ": two parameters are named '" + name +
                                    "'; optimizer state needs unique names");
    }
    params_ = params.size();
    bound_ = true;
}

// Compiled once for float and double (src/optim/state.cpp).
extern template class slot_buffers<float>;
extern template class slot_buffers<double>;

}  // namespace dendrite::inline DENDRITE_TARGET::optim::detail
