#pragma once
// Training progress on a terminal (a live bar) or in a log (one line per epoch).

#include <chrono>
#include <cstddef>
#include <iosfwd>

#include "dendrite/config.hpp"
#include "dendrite/io/csv_history.hpp"

namespace dendrite::inline DENDRITE_TARGET::train {

/// True when `os` is standard output or standard error and that is a terminal.
bool is_terminal(const std::ostream& os);

/// Prints training progress. On a terminal the current line is redrawn at most ten times a second
/// with epoch, batch, loss, accuracy, samples/s and time left; otherwise nothing is printed until
/// each epoch's summary line, so logs stay readable.
class progress {
  public:
    explicit progress(std::ostream& os);
    progress(std::ostream& os, bool interactive) : os_(os), interactive_(interactive) {}

    void begin_epoch(std::size_t epoch, std::size_t epochs, std::size_t batches);
    /// After each batch: running means of loss and accuracy over the epoch so far.
    void update(std::size_t batch, std::size_t samples, double loss, double accuracy);
    void end_epoch(const io::epoch_record& r, double samples_per_second);

  private:
    using clock = std::chrono::steady_clock;
    std::ostream& os_;
    bool interactive_;
    std::size_t epoch_ = 0, epochs_ = 0, batches_ = 0, samples_ = 0;
    clock::time_point start_{}, last_draw_{};
};

}  // namespace dendrite::inline DENDRITE_TARGET::train
