#include "dendrite/train/progress.hpp"
#include "dendrite/config.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>

namespace dendrite::inline DENDRITE_TARGET::train {

bool is_terminal(const std::ostream& os) {
    if (&os == &std::cout) return ::isatty(STDOUT_FILENO) == 1;
    if (&os == &std::cerr || &os == &std::clog) return ::isatty(STDERR_FILENO) == 1;
    return false;
}

progress::progress(std::ostream& os) : progress(os, is_terminal(os)) {}

void progress::begin_epoch(std::size_t epoch, std::size_t epochs, std::size_t batches) {
    epoch_ = epoch;
    epochs_ = epochs;
    batches_ = batches;
    samples_ = 0;
    start_ = last_draw_ = clock::now();
}

namespace {
// m:ss into buf (at least 32 bytes); "--:--" when unknown. No allocation: the display redraws
// during an epoch.
const char* clock_text(double seconds, char* buf, std::size_t size) {
    if (!std::isfinite(seconds) || seconds < 0 || seconds > 1e9) return "--:--";
    const long s = static_cast<long>(seconds + 0.5);
    std::snprintf(buf, size, "%ld:%02ld", s / 60, s % 60);
    return buf;
}
}  // namespace

void progress::update(std::size_t batch, std::size_t samples, double loss, double accuracy) {
    samples_ += samples;
    if (!interactive_) return;
    const auto now = clock::now();
    if (batch + 1 < batches_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double done = static_cast<double>(batch + 1) / static_cast<double>(batches_);
    constexpr int width = 24;
    const int filled = std::clamp(static_cast<int>(done * width), 0, width);
    char bar[width + 1];
    for (int k = 0; k < width; ++k)
        bar[k] = k < filled ? '=' : k == filled ? '>' : ' ';
    bar[width] = '\0';
    char eta[32];
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "\repoch %zu/%zu [%s] %zu/%zu  loss %.4f  acc %.4f  %.1fk samples/s  eta %s ",
                  epoch_, epochs_, bar, batch + 1, batches_, loss, accuracy,
                  elapsed > 0 ? static_cast<double>(samples_) / elapsed / 1000 : 0.0,
                  clock_text(elapsed / done - elapsed, eta, sizeof eta));
    os_ << buf << std::flush;
}

void progress::end_epoch(const io::epoch_record& r, double samples_per_second) {
    char buf[256];
    int n = std::snprintf(buf, sizeof buf, "epoch %zu/%zu  loss %.4f  acc %.4f", r.epoch, epochs_,
                          r.train_loss, r.train_acc);
    if (std::isfinite(r.val_loss))
        n += std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n),
                           "  val_loss %.4f  val_acc %.4f", r.val_loss, r.val_acc);
    std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n),
                  "  lr %.3g  %.1fs  %.1fk samples/s", r.lr, r.seconds, samples_per_second / 1000);
    if (interactive_) os_ << "\r\033[K";
    os_ << buf << std::endl;
}

}  // namespace dendrite::inline DENDRITE_TARGET::train
