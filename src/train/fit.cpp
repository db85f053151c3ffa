// train::fit's and train::evaluate's loops, compiled once for float and double networks: the
// steps, and around them what depends neither on the network nor on the optimizer.
#include "dendrite/train/fit.hpp"
#include "dendrite/config.hpp"

#include <chrono>
#include <iostream>
#include <limits>
#include <memory>

#include "dendrite/autodiff/tape.hpp"
#include "dendrite/data/loader.hpp"
#include "dendrite/io/svg_chart.hpp"
#include "dendrite/train/checkpoint.hpp"
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

/// What fit does around its steps that depends neither on the network nor on the optimizer: the
/// running loss and accuracy of an epoch, its time, the progress display, the history file and
/// chart, early stopping and the callbacks. One per fit call.
class fit_bookkeeping {
  public:
    explicit fit_bookkeeping(const fit_options& options);
    fit_bookkeeping(const fit_bookkeeping&) = delete;
    fit_bookkeeping& operator=(const fit_bookkeeping&) = delete;
    ~fit_bookkeeping();

    /// Whether the options ask to continue from a checkpoint that exists.
    bool resuming() const;
    /// Once the run's state is known (`resumed`: loaded from the checkpoint): reports the resume,
    /// opens the history file and takes over the records it holds.
    void start(const training_state& state, bool resumed);
    /// Starts the clock of `epoch` (0-based) and its running sums.
    void begin_epoch(std::size_t epoch, std::size_t batches);
    /// After each step, with the batch's mean loss and its number of correct predictions. O(1);
    /// the progress display redraws at most ten times a second (on a terminal only).
    void add_batch(std::size_t index, std::size_t size, double loss, std::size_t correct) {
        loss_sum_ += loss * static_cast<double>(size);
        seen_ += size;
        correct_ += correct;
        if (display_) show(index, size);
    }
    /// The epoch's record: training loss and accuracy, learning rate, seconds since begin_epoch.
    io::epoch_record end_batches(double learning_rate);
    /// Adds the validation loss and accuracy to `r` and counts epochs without improvement.
    void validated(io::epoch_record& r, double loss, double accuracy, training_state& state);
    /// Appends `r` to the result, the display, the history file and the chart.
    void record(const io::epoch_record& r);
    /// Calls every callback with `r`; true when one of them or the patience stops training.
    bool stop(const io::epoch_record& r, const training_state& state);
    /// The result, its history and best epoch filled in.
    fit_result finish(const training_state& state, bool stopped_early);

  private:
    void show(std::size_t index, std::size_t size);

    const fit_options& options_;
    std::unique_ptr<progress> display_;
    std::unique_ptr<io::csv_history> history_;
    fit_result result_;
    std::size_t epoch_ = 0, seen_ = 0, correct_ = 0;
    double loss_sum_ = 0, start_ = 0;
};

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

template <class T>
evaluation evaluate_loop(erased_network<T>& net, const data::dataset& ds, std::size_t batch_size,
                         erased_loss<T> loss) {
    data::validate(ds, "evaluate");
    const bool was_training = net.training();
    net.train(false);
    no_grad_guard no_grad;
    tape t;
    evaluation e{0, 0, confusion_matrix(ds.classes)};
    data::batch_loader loader(ds, {.batch_size = batch_size, .shuffle = false});
    double total = 0;
    for (const data::batch& b : loader.next_epoch()) {
        t.clear();
        const var<T> logits = net.forward(t, b.x);
        total += static_cast<double>(loss(logits, b.y).item()) * static_cast<double>(b.size());
        e.confusion.add(b.y, logits.value());
    }
    net.train(was_training);
    e.loss = ds.size() ? total / static_cast<double>(ds.size())
                       : std::numeric_limits<double>::quiet_NaN();
    e.accuracy = e.confusion.accuracy();
    return e;
}

template <class T>
fit_result fit_loop(erased_network<T>& net, erased_optimizer<T>& opt, erased_loss<T> loss,
                    const data::dataset& train, const fit_options& options) {
    data::batch_loader loader(
        train,
        {.batch_size = options.batch_size, .shuffle = options.shuffle, .seed = options.seed});
    auto params = net.parameters();
    fit_bookkeeping books(options);
    training_state state;
    const bool resumed = books.resuming();
    if (resumed) state = read_checkpoint(options.checkpoint, net, opt, loader);
    books.start(state, resumed);

    tape t;
    bool stopped_early = false;
    for (std::size_t epoch = state.epoch; epoch < options.epochs; ++epoch) {
        if (options.learning_rate) opt.set_learning_rate(options.learning_rate(epoch));
        net.train(true);
        books.begin_epoch(epoch, loader.batches_per_epoch());
        for (const data::batch& b : loader.next_epoch()) {
            t.clear();
            net.zero_grad();
            const var<T> logits = net.forward(t, b.x);
            const var<T> l = loss(logits, b.y);
            l.backward();
            opt.step(params);
            books.add_batch(b.index, b.size(), static_cast<double>(l.item()),
                            count_correct(logits.value(), b.y));
        }
        io::epoch_record r = books.end_batches(opt.learning_rate());
        if (options.validation) {
            const evaluation v = evaluate_loop(net, *options.validation, 1000, loss);
            books.validated(r, v.loss, v.accuracy, state);
        }
        books.record(r);
        state.epoch = epoch + 1;
        if (!options.checkpoint.empty())
            write_checkpoint(options.checkpoint, net, opt.state(), loader, state);
        if (books.stop(r, state)) {
            stopped_early = epoch + 1 < options.epochs;
            break;
        }
    }
    return books.finish(state, stopped_early);
}

template evaluation evaluate_loop<float>(erased_network<float>&, const data::dataset&, std::size_t,
                                         erased_loss<float>);
template evaluation evaluate_loop<double>(erased_network<double>&, const data::dataset&,
                                          std::size_t, erased_loss<double>);
template fit_result fit_loop<float>(erased_network<float>&, erased_optimizer<float>&,
                                    erased_loss<float>, const data::dataset&, const fit_options&);
template fit_result fit_loop<double>(erased_network<double>&, erased_optimizer<double>&,
                                     erased_loss<double>, const data::dataset&, const fit_options&);

}  // namespace detail

}  // namespace dendrite::inline DENDRITE_TARGET::train
