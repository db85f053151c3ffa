#pragma once
// Training checkpoints: everything needed to continue a run bit-identically, in one safetensors
// file readable by other tools (parameters under their own names).

#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>

#include "dendrite/config.hpp"
#include "dendrite/data/loader.hpp"
#include "dendrite/tensor/random.hpp"
#include "dendrite/train/erased.hpp"

namespace dendrite::inline DENDRITE_TARGET::train {

/// Where a run stands after an epoch: what early stopping and resuming need.
struct training_state {
    std::size_t epoch = 0;
    double best_val_loss = std::numeric_limits<double>::infinity();
    std::size_t best_epoch = 0;
    std::size_t bad_epochs = 0;
};

/// rng state as text ("s0 s1 s2 s3 spare has_spare", hexadecimal words) and back.
std::string rng_state_text(const rng::state_type& s);
rng::state_type parse_rng_state(const std::string& text);

namespace detail {

/// save_checkpoint and load_checkpoint over the erased network and optimizer, compiled once
/// (src/train/checkpoint.cpp); the optimizer's part of a save is its state().
template <class T>
void write_checkpoint(const std::filesystem::path& path, erased_network<T>& net,
                      const optim::state_list<T>& optimizer_state, const data::batch_loader& loader,
                      const training_state& state);
template <class T>
training_state read_checkpoint(const std::filesystem::path& path, erased_network<T>& net,
                               erased_optimizer<T>& opt, data::batch_loader& loader);

extern template void write_checkpoint<float>(const std::filesystem::path&, erased_network<float>&,
                                             const optim::state_list<float>&,
                                             const data::batch_loader&, const training_state&);
extern template void write_checkpoint<double>(const std::filesystem::path&, erased_network<double>&,
                                              const optim::state_list<double>&,
                                              const data::batch_loader&, const training_state&);
extern template training_state read_checkpoint<float>(const std::filesystem::path&,
                                                      erased_network<float>&,
                                                      erased_optimizer<float>&,
                                                      data::batch_loader&);
extern template training_state read_checkpoint<double>(const std::filesystem::path&,
                                                       erased_network<double>&,
                                                       erased_optimizer<double>&,
                                                       data::batch_loader&);

}  // namespace detail

/// Saves parameters (their names), buffers ("buffer.<name>"), the optimizer's state
/// ("optimizer.<name>") and, as metadata, the epoch, early-stopping counters, the loader's state
/// and the network's generator. Atomic: a crash never leaves a damaged file.
template <class Net, class Opt>
void save_checkpoint(const std::filesystem::path& path, Net& net, const Opt& opt,
                     const data::batch_loader& loader, const training_state& state) {
    detail::erased_network_of<Net> erased(net);
    detail::write_checkpoint(path, erased, opt.state(), loader, state);
}

/// Restores what save_checkpoint wrote into `net`, `opt` and `loader`; returns the run's state.
/// Throws io_error naming the file and the entry that is missing or does not fit.
template <class Net, class Opt>
training_state load_checkpoint(const std::filesystem::path& path, Net& net, Opt& opt,
                               data::batch_loader& loader) {
    using T = typename Net::value_type;
    detail::erased_network_of<Net> erased_net(net);
    detail::erased_optimizer_of<T, Opt> erased_opt(opt);
    return detail::read_checkpoint<T>(path, erased_net, erased_opt, loader);
}

}  // namespace dendrite::inline DENDRITE_TARGET::train
