#include "dendrite/train/checkpoint.hpp"
#include "dendrite/config.hpp"

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>
#include <variant>

#include "dendrite/expr/evaluate.hpp"
#include "dendrite/io/error.hpp"
#include "dendrite/io/safetensors.hpp"

namespace dendrite::inline DENDRITE_TARGET::train {

std::string rng_state_text(const rng::state_type& s) {
    std::uint64_t spare_bits = 0;
    std::memcpy(&spare_bits, &s.spare, sizeof spare_bits);
    char buf[160];
    std::snprintf(buf, sizeof buf,
                  "%016" PRIx64 " %016" PRIx64 " %016" PRIx64 " %016" PRIx64 " %016" PRIx64 " %d",
                  s.s[0], s.s[1], s.s[2], s.s[3], spare_bits, s.has_spare ? 1 : 0);
    return buf;
}

rng::state_type parse_rng_state(const std::string& text) {
    rng::state_type s{};
    std::uint64_t spare_bits = 0;
    int has_spare = 0;
    if (std::sscanf(text.c_str(), "%" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64 " %d",
                    &s.s[0], &s.s[1], &s.s[2], &s.s[3], &spare_bits, &has_spare) != 6)
        throw io_error("checkpoint: bad generator state '" + text + "'");
    std::memcpy(&s.spare, &spare_bits, sizeof spare_bits);
    s.has_spare = has_spare != 0;
    return s;
}

namespace detail {

template <class T>
void write_checkpoint(const std::filesystem::path& path, erased_network<T>& net,
                      const optim::state_list<T>& optimizer_state, const data::batch_loader& loader,
                      const training_state& state) {
    io::named_tensors tensors;
    for (const auto& p : net.parameters())
        tensors.emplace_back(p.name, p.value);
    net.for_each_buffer(
        [&](const std::string& name, tensor<T>& t) { tensors.emplace_back("buffer." + name, t); });
    for (const auto& s : optimizer_state)
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

template <class T>
training_state read_checkpoint(const std::filesystem::path& path, erased_network<T>& net,
                               erased_optimizer<T>& opt, data::batch_loader& loader) {
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
    net.for_each_buffer([&](const std::string& name, tensor<T>& t) { take("buffer." + name, t); });
    optim::state_list<T> state_entries;
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

template void write_checkpoint<float>(const std::filesystem::path&, erased_network<float>&,
                                      const optim::state_list<float>&, const data::batch_loader&,
                                      const training_state&);
template void write_checkpoint<double>(const std::filesystem::path&, erased_network<double>&,
                                       const optim::state_list<double>&, const data::batch_loader&,
                                       const training_state&);
template training_state read_checkpoint<float>(const std::filesystem::path&, erased_network<float>&,
                                               erased_optimizer<float>&, data::batch_loader&);
template training_state read_checkpoint<double>(const std::filesystem::path&,
                                                erased_network<double>&, erased_optimizer<double>&,
                                                data::batch_loader&);

}  // namespace detail

}  // namespace dendrite::inline DENDRITE_TARGET::train
