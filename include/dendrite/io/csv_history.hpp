#pragma once
// The per-epoch training history as a CSV file, one row per epoch.

#include <cstddef>
#include <filesystem>
#include <limits>
#include <vector>

#include "dendrite/config.hpp"
#include "dendrite/io/error.hpp"

namespace dendrite::inline DENDRITE_TARGET::io {

/// One epoch of training. Values that were not measured (no validation set, no schedule) are NaN
/// and appear as empty CSV fields. Accuracies are fractions in [0, 1].
struct epoch_record {
    static constexpr double none = std::numeric_limits<double>::quiet_NaN();
    std::size_t epoch = 0;
    double train_loss = none;
    double train_acc = none;
    double val_loss = none;
    double val_acc = none;
    double lr = none;
    double seconds = none;
};

/// The history file's header line (without the line end).
inline constexpr const char* history_header =
    "epoch,train_loss,train_acc,val_loss,val_acc,lr,seconds";

/// A CSV file with the columns of history_header, rewritten atomically on every append, so an
/// interrupted run leaves a complete file holding the epochs finished so far.
///
///     io::csv_history history("run/history.csv");
///     history.append({.epoch = 1, .train_loss = 0.52, .train_acc = 0.81, .lr = 1e-3, .seconds
///     = 4.2});
class csv_history {
  public:
    /// With `resume`, the rows already in `path` (if it exists) are kept and new rows follow them;
    /// without, the history starts empty and the first append replaces the file.
    /// Throws io_error when resuming from a file that is not a history.
    explicit csv_history(std::filesystem::path path, bool resume = false);

    /// Adds a row and rewrites the file. A resumed run that repeats epochs (restarting from an
    /// older checkpoint) replaces the rows from `r.epoch` on. Cost: O(rows) per call.
    void append(const epoch_record& r);

    const std::vector<epoch_record>& records() const noexcept { return records_; }
    const std::filesystem::path& path() const noexcept { return path_; }

  private:
    std::filesystem::path path_;
    std::vector<epoch_record> records_;
};

/// Reads a history file written by csv_history. Throws io_error naming the file and the line.
std::vector<epoch_record> read_history(const std::filesystem::path& path);

}  // namespace dendrite::inline DENDRITE_TARGET::io
