#pragma once
// Training checkpoints: everything needed to continue a run bit-identically, in one safetensors
// file readable by other tools (parameters under their own names).

#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>

#include "dendrite/config.hpp"
#include "dendrite/data/loader.hpp"
#include "dendrite/io/error.hpp"
#include "dendrite/io/safetensors.hpp"
#include "dendrite/tensor/random.hpp"

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

/// Saves parameters (their names), buffers ("buffer.<name>"), the optimizer's state
/// ("optimizer.<name>") and, as metadata, the epoch, early-stopping counters, the loader's state
/// and the network's generator. Atomic: a crash never leaves a damaged file.
template <class Net, class Opt>
void save_checkpoint(const std::filesystem::path& path, Net& net, const Opt& opt,
                     const data::batch_loader& loader, const training_state& state) {
    io::named_tensors tensors;
    for (const auto& p : net.parameters())
        tensors.emplace_back(p.name, p.value);
    net.for_each_buffer(
        [&](const std::string& name, auto& t) { tensors.emplace_back("buffer." + name, t); });
    for (const auto& s : opt.state())
        tensors.emplace_back("optimizer." + s.name, s.value);
    io::metadata_map meta{
        {"format", "dendrite-checkpoint-1"},
        {"epoch", std::to_string(state.epoch)},
        {"best_val_loss", std::to_string(state.best_val_loss)},
        {"best_epoch", std::to_string(state.best_epoch)},
        {"bad_epochs", std::to_string(state.bad_epochs)},
        {"loader", loader.state().str()},
        {"network_rng", rng_state_text(net.random().state())},
    };
    io::save_safetensors(path, tensors, meta);
}

/// Restores what save_checkpoint wrote into `net`, `opt` and `loader`; returns the run's state.
/// Throws io_error naming the file and the entry that is missing or does not fit.
template <class Net, class Opt>
training_state load_checkpoint(const std::filesystem::path& path, Net& net, Opt& opt,
                               data::batch_loader& loader) {
    using T = typename Net::value_type;
    io::safetensors_file file = io::load_safetensors(path);
    const auto meta = [&](const char* key) -> const std::string& {
        const auto it = file.metadata.find(key);
        if (it == file.metadata.end())
            throw io_error(path.string() + ": checkpoint metadata has no '" + key + "'");
        return it->second;
    };
    if (meta("format") != "dendrite-checkpoint-1")
        throw io_error(path.string() + ": not a dendrite checkpoint (format '" + meta("format") +
                       "')");
    const auto take = [&](const std::string& name, tensor<T>& dst) {
        const io::any_tensor* t = file.find(name);
        const auto* typed = t ? std::get_if<tensor<T>>(t) : nullptr;
        if (!typed || !(typed->shape() == dst.shape()))
            throw io_error(path.string() + ": checkpoint entry '" + name +
                           "' is missing or has another type or shape");
        dst.assign(*typed);
    };
    auto params = net.parameters();
    // Check everything before changing anything.
    for (auto& p : params) {
        tensor<T> probe = p.value;
        const io::any_tensor* t = file.find(p.name);
        const auto* typed = t ? std::get_if<tensor<T>>(t) : nullptr;
        if (!typed || !(typed->shape() == probe.shape()))
            throw io_error(path.string() + ": checkpoint entry '" + p.name +
                           "' is missing or has another type or shape");
    }
    for (auto& p : params)
        take(p.name, p.value);
    net.for_each_buffer([&](const std::string& name, auto& t) { take("buffer." + name, t); });
    typename std::remove_cvref_t<decltype(opt.state())> state_entries;
    for (const auto& [name, t] : file.tensors)
        if (name.rfind("optimizer.", 0) == 0)
            if (const auto* typed = std::get_if<tensor<T>>(&t))
                state_entries.push_back({name.substr(10), *typed});
    opt.load_state(params, state_entries);
    loader.restore(data::loader_state::parse(meta("loader")));
    net.random().restore(parse_rng_state(meta("network_rng")));
    training_state s;
    s.epoch = std::stoul(meta("epoch"));
    s.best_val_loss = std::stod(meta("best_val_loss"));
    s.best_epoch = std::stoul(meta("best_epoch"));
    s.bad_epochs = std::stoul(meta("bad_epochs"));
    return s;
}

}  // namespace dendrite::inline DENDRITE_TARGET::train
