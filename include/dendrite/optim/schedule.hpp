#pragma once
// Learning-rate schedules: function objects from an epoch (or step) index, counted from 0, to a
// rate, applied with `opt.set_learning_rate(schedule(epoch))`; and reduce-on-plateau, which
// follows a validation metric instead.

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <limits>
#include <numbers>
#include <stdexcept>
#include <string>
#include <utility>

#include "dendrite/config.hpp"

namespace dendrite::inline DENDRITE_TARGET::optim {

/// A schedule: `s(t)` is the learning rate at epoch (or step) t = 0, 1, ...; pure and cheap.
template <class S>
concept schedule = requires(const S& s, std::size_t t) {
    { s(t) } -> std::convertible_to<double>;
};

namespace detail {
inline double checked_rate(double r, const char* who) {
    if (!(r >= 0)) throw std::invalid_argument(std::string(who) + ": rates must be >= 0");
    return r;
}
}  // namespace detail

/// rate(t) = r.
class constant_rate {
  public:
    explicit constant_rate(double rate) : rate_(detail::checked_rate(rate, "constant_rate")) {}
    double operator()(std::size_t) const noexcept { return rate_; }

  private:
    double rate_;
};

/// rate(t) = initial * gamma^floor(t / step_size): multiplied by gamma every step_size epochs.
class step_decay {
  public:
    step_decay(double initial, std::size_t step_size, double gamma = 0.1)
        : initial_(detail::checked_rate(initial, "step_decay")),
          step_size_(step_size),
          gamma_(gamma) {
        if (step_size == 0) throw std::invalid_argument("step_decay: step_size must be > 0");
        if (!(gamma >= 0)) throw std::invalid_argument("step_decay: gamma must be >= 0");
    }
    double operator()(std::size_t t) const noexcept {
        return initial_ * std::pow(gamma_, static_cast<double>(t / step_size_));
    }

  private:
    double initial_;
    std::size_t step_size_;
    double gamma_;
};

/// rate(t) = initial * gamma^t.
class exponential_decay {
  public:
    exponential_decay(double initial, double gamma)
        : initial_(detail::checked_rate(initial, "exponential_decay")), gamma_(gamma) {
        if (!(gamma >= 0)) throw std::invalid_argument("exponential_decay: gamma must be >= 0");
    }
    double operator()(std::size_t t) const noexcept {
        return initial_ * std::pow(gamma_, static_cast<double>(t));
    }

  private:
    double initial_;
    double gamma_;
};

/// Cosine annealing (Loshchilov & Hutter, SGDR, without restarts):
///   rate(t) = min + (initial - min) (1 + cos(pi t / period)) / 2   for t < period,
///   rate(t) = min                                                   for t >= period.
class cosine_annealing {
  public:
    cosine_annealing(double initial, std::size_t period, double min_rate = 0)
        : initial_(detail::checked_rate(initial, "cosine_annealing")),
          min_(detail::checked_rate(min_rate, "cosine_annealing")),
          period_(period) {
        if (period == 0) throw std::invalid_argument("cosine_annealing: period must be > 0");
    }
    double operator()(std::size_t t) const noexcept {
        if (t >= period_) return min_;
        const double phase =
            std::numbers::pi * static_cast<double>(t) / static_cast<double>(period_);
        return min_ + (initial_ - min_) * (1 + std::cos(phase)) / 2;
    }

  private:
    double initial_;
    double min_;
    std::size_t period_;
};

/// Linear warm-up before another schedule (Goyal et al., 2017): over the first `warmup` epochs
/// the rate climbs linearly to the wrapped schedule's first rate, then the wrapped schedule runs
/// from its own epoch 0:
///   rate(t) = after(0) (t + 1) / (warmup + 1)   for t < warmup,
///   rate(t) = after(t - warmup)                 for t >= warmup.
template <schedule S>
class linear_warmup {
  public:
    linear_warmup(std::size_t warmup, S after) : warmup_(warmup), after_(std::move(after)) {}
    double operator()(std::size_t t) const {
        if (t < warmup_)
            return static_cast<double>(after_(0)) * static_cast<double>(t + 1) /
                   static_cast<double>(warmup_ + 1);
        return static_cast<double>(after_(t - warmup_));
    }
    const S& after() const noexcept { return after_; }

  private:
    std::size_t warmup_;
    S after_;
};

/// Whether a smaller (loss) or a larger (accuracy) metric is better.
enum class plateau_mode { min, max };

/// Settings of `reduce_on_plateau` (PyTorch's ReduceLROnPlateau, relative threshold).
struct plateau_options {
    double factor = 0.1;                    ///< the rate is multiplied by this on a plateau, (0, 1)
    std::size_t patience = 10;              ///< epochs without improvement tolerated
    double min_rate = 0;                    ///< the rate never goes below this
    plateau_mode mode = plateau_mode::min;  ///< min: lower metric is better; max: higher
    double threshold = 1e-4;                ///< relative improvement that counts as one
    std::size_t cooldown = 0;               ///< epochs after a reduction before counting resumes
};

/// Reduce-on-plateau: a stateful schedule driven by a metric. After each epoch call
/// `observe(metric)`; a metric improves on the best so far when (mode min)
/// metric < best - threshold |best| (mirrored for max). After more than `patience` epochs in a
/// row without improvement the rate becomes max(rate * factor, min_rate), and the next
/// `cooldown` epochs do not count. NaN never improves. `s(t)` returns the current rate, whatever t.
class reduce_on_plateau {
  public:
    explicit reduce_on_plateau(double initial, const plateau_options& options = {})
        : options_(options), rate_(detail::checked_rate(initial, "reduce_on_plateau")) {
        if (!(options.factor > 0 && options.factor < 1))
            throw std::invalid_argument("reduce_on_plateau: factor must be in (0, 1)");
        if (!(options.min_rate >= 0))
            throw std::invalid_argument("reduce_on_plateau: min_rate must be >= 0");
        if (!(options.threshold >= 0))
            throw std::invalid_argument("reduce_on_plateau: threshold must be >= 0");
        state_.best = worst();
    }

    /// Records the metric of the epoch just finished; returns the rate for the next one.
    double observe(double metric) noexcept {
        if (improves(metric)) {
            state_.best = metric;
            state_.bad_epochs = 0;
        } else {
            ++state_.bad_epochs;
        }
        if (state_.cooldown_left > 0) {
            --state_.cooldown_left;
            state_.bad_epochs = 0;
        }
        if (state_.bad_epochs > options_.patience) {
            rate_ = std::max(rate_ * options_.factor, options_.min_rate);
            ++state_.reductions;
            state_.cooldown_left = options_.cooldown;
            state_.bad_epochs = 0;
        }
        return rate_;
    }

    /// The current rate.
    double rate() const noexcept { return rate_; }
    double operator()(std::size_t) const noexcept { return rate_; }
    /// The best metric seen (+inf in mode min, -inf in mode max, before any).
    double best() const noexcept { return state_.best; }
    /// Epochs since the last improvement (reset by a reduction and during cooldown).
    std::size_t bad_epochs() const noexcept { return state_.bad_epochs; }
    /// How many times the rate has been reduced.
    std::size_t reductions() const noexcept { return state_.reductions; }

    /// Everything `observe` depends on, for checkpoints.
    struct state_type {
        double rate = 0;
        double best = 0;
        std::size_t bad_epochs = 0;
        std::size_t cooldown_left = 0;
        std::size_t reductions = 0;
    };
    state_type state() const noexcept {
        state_type s = state_;
        s.rate = rate_;
        return s;
    }
    void restore(const state_type& s) noexcept {
        state_ = s;
        rate_ = s.rate;
    }

  private:
    double worst() const noexcept {
        const double inf = std::numeric_limits<double>::infinity();
        return options_.mode == plateau_mode::min ? inf : -inf;
    }
    bool improves(double metric) const noexcept {
        const double margin = options_.threshold * std::abs(state_.best);
        if (options_.mode == plateau_mode::min)
            return metric < state_.best - (std::isinf(state_.best) ? 0 : margin);
        return metric > state_.best + (std::isinf(state_.best) ? 0 : margin);
    }

    plateau_options options_;
    double rate_;
    state_type state_;
};

}  // namespace dendrite::inline DENDRITE_TARGET::optim
