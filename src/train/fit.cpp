// The parts of train::fit that depend neither on the network nor on the optimizer.
#include "dendrite/train/fit.hpp"
#include "dendrite/config.hpp"

#include <chrono>
#include <iostream>

#include "dendrite/io/svg_chart.hpp"
#include "dendrite/train/progress.hpp"

namespace dendrite::inline DENDRITE_TARGET::train {

std::ostream* standard_output() noexcept {
    return &std::cout;
}

namespace detail {

namespace {
double seconds_now() noexcept {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}
}  // namespace

fit_bookkeeping::fit_bookkeeping(const fit_options& options) : options_(options) {}

fit_bookkeeping::~fit_bookkeeping() = default;

bool fit_bookkeeping::resuming() const {
    return options_.resume && !options_.checkpoint.empty() &&
           std::filesystem::exists(options_.checkpoint);
}

void fit_bookkeeping::start(const training_state& state, bool resumed) {
    if (resumed && options_.log)
        *options_.log << "resumed from " << options_.checkpoint.string() << " after epoch "
                      << state.epoch << "\n";
    if (!options_.history_csv.empty()) {
        history_ = std::make_unique<io::csv_history>(options_.history_csv,
                                                     options_.resume && state.epoch > 0);
        result_.history = history_->records();
    }
    result_.history.reserve(result_.history.size() + options_.epochs);
    if (options_.log) display_ = std::make_unique<progress>(*options_.log);
}

void fit_bookkeeping::begin_epoch(std::size_t epoch, std::size_t batches) {
    epoch_ = epoch;
    seen_ = correct_ = 0;
    loss_sum_ = 0;
    start_ = seconds_now();
    if (display_) display_->begin_epoch(epoch + 1, options_.epochs, batches);
}

void fit_bookkeeping::show(std::size_t index, std::size_t size) {
    display_->update(index, size, loss_sum_ / static_cast<double>(seen_),
                     static_cast<double>(correct_) / static_cast<double>(seen_));
}

io::epoch_record fit_bookkeeping::end_batches(double learning_rate) {
    io::epoch_record r;
    r.epoch = epoch_ + 1;
    r.train_loss = loss_sum_ / static_cast<double>(seen_);
    r.train_acc = static_cast<double>(correct_) / static_cast<double>(seen_);
    r.lr = learning_rate;
    r.seconds = seconds_now() - start_;
    return r;
}

void fit_bookkeeping::validated(io::epoch_record& r, double loss, double accuracy,
                                training_state& state) {
    r.val_loss = loss;
    r.val_acc = accuracy;
    if (loss < state.best_val_loss) {
        state.best_val_loss = loss;
        state.best_epoch = r.epoch;
        state.bad_epochs = 0;
    } else {
        ++state.bad_epochs;
    }
}

void fit_bookkeeping::record(const io::epoch_record& r) {
    result_.history.push_back(r);
    if (display_) display_->end_epoch(r, static_cast<double>(seen_) / r.seconds);
    if (history_) history_->append(r);
    if (!options_.chart_svg.empty()) io::write_training_chart(options_.chart_svg, result_.history);
}

bool fit_bookkeeping::stop(const io::epoch_record& r, const training_state& state) {
    bool stop = options_.patience > 0 && state.bad_epochs >= options_.patience;
    for (const auto& callback : options_.callbacks)
        stop = !callback(r) || stop;
    return stop;
}

fit_result fit_bookkeeping::finish(const training_state& state, bool stopped_early) {
    result_.stopped_early = stopped_early;
    result_.best_epoch = state.best_epoch;
    return std::move(result_);
}

}  // namespace detail

}  // namespace dendrite::inline DENDRITE_TARGET::train
