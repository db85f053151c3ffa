// Train a character-level language model on English text, report validation bits per character
// after every epoch, and sample from it. The text is Debian's `fortunes` package (about 2.5 MB)
// when installed, any file given with --text, or else a small built-in text.
//
//   char_lm [--model lstm|transformer] [--text FILE] [--epochs N] [--steps N] [--batch N]
//           [--context N] [--layers N] [--lr X] [--threads N] [--seed N] [--out DIR] [--resume]
//           [--sample N] [--temperature T] [--prompt TEXT]
#include <dendrite/dendrite.hpp>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <numbers>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

using namespace dendrite;

namespace {

// '\n' and the 95 printable ASCII characters; tabs read as spaces, anything else as '?'.
constexpr std::size_t vocabulary = 96;

std::uint8_t encode(unsigned char c) {
    if (c == '\n') return 0;
    if (c == '\t') c = ' ';
    if (c < 32 || c > 126) c = '?';
    return static_cast<std::uint8_t>(c - 31);
}
char decode(std::size_t id) {
    return id == 0 ? '\n' : static_cast<char>(id + 31);
}

// Used when no text is installed or given: enough to see the loss fall, not to learn English.
constexpr const char* builtin_text = R"(The sea was calm that morning, and the boats went out early.
A man who plants trees knows that he will not sit in their shade, and plants them all the same.
Every river finds the sea, though it may wander for a thousand miles to do it.
The cat sat by the window and watched the rain, as cats have always done.
Small steps, taken every day, carry a traveller further than great leaps taken once.
When the wind changes, the wise sailor changes his sails and not his destination.
The library was quiet, and the old books seemed to listen to those who read them.
A good question is worth more than a quick answer, and a patient friend more than both.
The garden grew slowly, then all at once, as gardens and ideas tend to do.
In the evening the lamps were lit, and the town settled into its small, warm noises.
)";

struct corpus {
    std::vector<std::uint8_t> ids;
    std::string description;
};

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + p.string());
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) throw std::runtime_error("cannot read " + p.string());
    return s;
}

corpus load_corpus(const std::string& file) {
    const std::filesystem::path fortunes = "/usr/share/games/fortunes";
    std::string text;
    corpus c;
    if (!file.empty()) {
        text = read_file(file);
        c.description = file;
    } else if (std::filesystem::is_directory(fortunes)) {
        // The text files are those without an extension (.dat indexes, .u8 links are not).
        std::vector<std::filesystem::path> files;
        for (const auto& e : std::filesystem::directory_iterator(fortunes))
            if (e.is_regular_file() && !e.path().has_extension()) files.push_back(e.path());
        std::sort(files.begin(), files.end());
        for (const auto& f : files) {
            std::istringstream in(read_file(f));
            // "%" lines separate fortunes: a blank line reads more like prose.
            for (std::string line; std::getline(in, line);)
                text += line == "%" ? "\n" : line + "\n";
        }
        c.description = "Debian's fortunes (" + std::to_string(files.size()) + " files)";
    }
    if (text.empty()) {
        text = builtin_text;
        c.description =
            "the built-in text (" + std::to_string(text.size()) +
            " bytes; `apt-get install fortunes` gives 2.5 MB of English, or pass --text FILE)";
    }
    c.ids.reserve(text.size());
    for (const char ch : text)
        c.ids.push_back(encode(static_cast<unsigned char>(ch)));
    return c;
}

/// A model from ids [batch, time] (as floats) to next-character logits [batch, time, vocabulary].
class language_model {
  public:
    virtual ~language_model() = default;
    virtual var<float> logits(const nn::context& ctx, const var<float>& ids) = 0;
    virtual void init(rng& g) = 0;
    virtual std::string describe() const = 0;
    nn::parameter_list<float>& parameters() { return params_; }

  protected:
    template <class Layer>
    void collect(Layer& l) {
        l.for_each_parameter([&](nn::parameter<float>& p) { params_.push_back(p); });
    }

  private:
    nn::parameter_list<float> params_;
};

/// Embedding 64 -> LSTM 256 (x layers) -> dense to the vocabulary.
class lstm_model final : public language_model {
  public:
    lstm_model(std::size_t layers, std::size_t hidden)
        : embed_(vocabulary, 64, "embed"), head_(hidden, vocabulary, true, {}, "head") {
        for (std::size_t i = 0; i < layers; ++i)
            lstm_.emplace_back(i == 0 ? 64 : hidden, hidden, "lstm_" + std::to_string(i));
        collect(embed_);
        for (auto& l : lstm_)
            collect(l);
        collect(head_);
    }
    var<float> logits(const nn::context& ctx, const var<float>& ids) override {
        var<float> h = embed_.forward_sequence(ctx, ids);
        for (auto& l : lstm_)
            h = l.forward(ctx, h);
        return head_.forward(ctx, h);
    }
    void init(rng& g) override {
        embed_.init(g);
        for (auto& l : lstm_)
            l.init(g);
        head_.init(g);
    }
    std::string describe() const override {
        return "embedding(96 x 64), " + std::to_string(lstm_.size()) + " x lstm(" +
               std::to_string(lstm_[0].hidden()) + "), dense(" + std::to_string(lstm_[0].hidden()) +
               " -> 96)";
    }

  private:
    nn::embedding_layer<float> embed_;
    std::vector<nn::lstm_layer<float>> lstm_;
    nn::dense_layer<float> head_;
};

/// Embedding 128 + learned positions -> causal pre-norm transformer blocks (4 heads, MLP 512) ->
/// layer norm -> dense to the vocabulary.
class transformer_model final : public language_model {
  public:
    transformer_model(std::size_t layers, std::size_t context)
        : embed_(vocabulary, dim, "embed"),
          positions_(context, dim, nn::positional_encoding_layer<float>::kind::learned, "pos"),
          norm_(dim, 1e-5, "ln_f"),
          head_(dim, vocabulary, true, {}, "head") {
        for (std::size_t i = 0; i < layers; ++i)
            blocks_.emplace_back(dim, 4, 4 * dim, nn::attention_options{.causal = true},
                                 "block_" + std::to_string(i));
        collect(embed_);
        collect(positions_);
        for (auto& b : blocks_)
            collect(b);
        collect(norm_);
        collect(head_);
    }
    var<float> logits(const nn::context& ctx, const var<float>& ids) override {
        var<float> h = positions_.forward(ctx, embed_.forward_sequence(ctx, ids));
        for (auto& b : blocks_)
            h = b.forward(ctx, h);
        return head_.forward(ctx, norm_.forward(ctx, h));
    }
    void init(rng& g) override {
        embed_.init(g);
        // GPT-2's scale for token vectors: N(0, 1) would swamp the positions.
        for (float& v : embed_.table.value.span())
            v *= 0.02f;
        positions_.init(g);
        for (auto& b : blocks_)
            b.init(g);
        norm_.init(g);
        head_.init(g);
    }
    std::string describe() const override {
        return "embedding(96 x 128) + positions, " + std::to_string(blocks_.size()) + " x " +
               blocks_[0].describe() + ", layer_norm, dense(128 -> 96)";
    }

  private:
    static constexpr std::size_t dim = 128;
    nn::embedding_layer<float> embed_;
    nn::positional_encoding_layer<float> positions_;
    std::vector<nn::transformer_block_layer<float>> blocks_;
    nn::layer_norm_layer<float> norm_;
    nn::dense_layer<float> head_;
};

/// Windows of context + 1 characters: inputs are the first context, targets the last.
struct batch_buffers {
    tensor<float> inputs;
    tensor<std::int32_t> targets;
    batch_buffers(std::size_t batch, std::size_t context)
        : inputs(shape{batch, context}, 0.0f), targets(shape{batch, context}, 0) {}
    void fill(const std::uint8_t* text, std::size_t row, std::size_t start) {
        const std::size_t context = inputs.dim(1);
        for (std::size_t j = 0; j < context; ++j) {
            inputs(row, j) = static_cast<float>(text[start + j]);
            targets(row, j) = text[start + j + 1];
        }
    }
};

/// How often the most likely next character is right, among `count` predictions.
std::size_t count_correct(const tensor<float>& logits, const tensor<std::int32_t>& targets) {
    const float* l = logits.data();
    std::size_t correct = 0;
    for (std::size_t i = 0; i < targets.size(); ++i) {
        const float* row = l + i * vocabulary;
        correct += static_cast<std::size_t>(std::max_element(row, row + vocabulary) - row ==
                                            targets.data()[i]);
    }
    return correct;
}

struct validation_result {
    double bpc;       // mean cross-entropy in bits per character
    double accuracy;  // of the most likely next character
};

/// The model on the held-out text, in windows of `context`.
validation_result validate(language_model& model, std::span<const std::uint8_t> text,
                           std::size_t batch, std::size_t context, std::size_t max_windows) {
    const std::size_t windows = std::min(max_windows, (text.size() - 1) / context);
    double total = 0;
    std::size_t counted = 0, correct = 0;
    tape t;
    for (std::size_t first = 0; first < windows; first += batch) {
        const std::size_t rows = std::min(batch, windows - first);
        batch_buffers b(rows, context);
        for (std::size_t r = 0; r < rows; ++r)
            b.fill(text.data(), r, (first + r) * context);
        t.clear();
        const nn::context ctx{t, false};
        const var<float> logits = model.logits(ctx, constant(t, b.inputs));
        const var<float> loss = softmax_cross_entropy(logits, b.targets);
        total += static_cast<double>(loss.value().item()) * static_cast<double>(rows);
        correct += count_correct(logits.value(), b.targets);
        counted += rows;
    }
    return {total / static_cast<double>(counted) / std::numbers::ln2,
            static_cast<double>(correct) / static_cast<double>(counted * context)};
}

/// `count` characters after `prompt`, each drawn from softmax(logits / temperature) given the
/// last `context` characters.
std::string sample(language_model& model, const std::string& prompt, std::size_t count,
                   double temperature, std::size_t context, rng& g) {
    std::vector<std::uint8_t> history;
    for (const char c : prompt)
        history.push_back(encode(static_cast<unsigned char>(c)));
    if (history.empty()) history.push_back(encode('\n'));
    std::string out = prompt;
    tape t;
    std::vector<double> p(vocabulary);
    for (std::size_t i = 0; i < count; ++i) {
        const std::size_t n = std::min(context, history.size());
        tensor<float> ids(shape{1, n}, 0.0f);
        for (std::size_t j = 0; j < n; ++j)
            ids(0, j) = static_cast<float>(history[history.size() - n + j]);
        t.clear();
        const var<float> logits = model.logits(nn::context{t, false}, constant(t, ids));
        double m = -1e300, z = 0;
        for (std::size_t v = 0; v < vocabulary; ++v)
            m = std::max(m, static_cast<double>(logits.value()(0, n - 1, v)) / temperature);
        for (std::size_t v = 0; v < vocabulary; ++v)
            z += p[v] =
                std::exp(static_cast<double>(logits.value()(0, n - 1, v)) / temperature - m);
        double u = g.uniform() * z;
        std::size_t next = vocabulary - 1;
        for (std::size_t v = 0; v < vocabulary; ++v)
            if ((u -= p[v]) <= 0) {
                next = v;
                break;
            }
        history.push_back(static_cast<std::uint8_t>(next));
        out += decode(next);
    }
    return out;
}

/// The checkpoint: parameters, Adam's moments ("optimizer.<name>") and, as metadata, the model,
/// the epochs done and the generator's state.
void save(const std::filesystem::path& path, language_model& model, const optim::adamw<float>& opt,
          const std::string& model_name, std::size_t epoch, const rng& g) {
    io::named_tensors tensors;
    for (const auto& p : model.parameters())
        tensors.emplace_back(p.name, p.value);
    for (const auto& s : opt.state())
        tensors.emplace_back("optimizer." + s.name, s.value);
    io::save_safetensors(path, tensors,
                         {{"model", model_name},
                          {"epoch", std::to_string(epoch)},
                          {"rng", train::rng_state_text(g.state())}});
}

/// Restores what save wrote; returns the epochs already done. Throws naming what does not fit.
std::size_t resume(const std::filesystem::path& path, language_model& model,
                   optim::adamw<float>& opt, const std::string& model_name, rng& g) {
    const io::safetensors_file file = io::load_safetensors(path);
    const auto meta = [&](const std::string& key) {
        const auto it = file.metadata.find(key);
        if (it == file.metadata.end())
            throw std::runtime_error(path.string() + ": no '" + key + "' in the metadata");
        return it->second;
    };
    if (meta("model") != model_name)
        throw std::runtime_error(path.string() + ": holds a " + meta("model") + " model, not a " +
                                 model_name + " one (--model)");
    io::load_parameters(path, model.parameters());
    optim::state_list<float> state;
    for (const auto& [name, t] : file.tensors)
        if (name.rfind("optimizer.", 0) == 0)
            if (const auto* v = std::get_if<tensor<float>>(&t))
                state.push_back({name.substr(10), v->clone()});
    opt.load_state(model.parameters(), state);
    g.restore(train::parse_rng_state(meta("rng")));
    return std::stoul(meta("epoch"));
}

}  // namespace

int main(int argc, char** argv) try {
    CLI::App app{"Train a character-level language model and sample from it"};
    std::string model_name = "lstm", text_file, out_dir = "char_lm_out", prompt = "\n";
    std::size_t epochs = 6, steps = 250, batch = 32, context = 64, layers = 0, count = 400;
    double lr = 0, temperature = 0.8;
    int threads = num_threads();
    std::uint64_t seed = 1;
    bool resume_run = false;
    app.add_option("--model", model_name, "lstm or transformer")
        ->check(CLI::IsMember({"lstm", "transformer"}));
    app.add_option("--text", text_file, "UTF-8/ASCII text (default: Debian's fortunes)");
    app.add_option("--epochs", epochs, "epochs to train")->check(CLI::PositiveNumber);
    app.add_option("--steps", steps, "steps per epoch")->check(CLI::PositiveNumber);
    app.add_option("--batch", batch, "sequences per step")->check(CLI::PositiveNumber);
    app.add_option("--context", context, "characters per sequence")->check(CLI::PositiveNumber);
    app.add_option("--layers", layers, "LSTM layers (1) or transformer blocks (4)");
    app.add_option("--lr", lr, "peak learning rate (lstm 3e-3, transformer 1e-3)");
    app.add_option("--threads", threads, "threads")->check(CLI::PositiveNumber);
    app.add_option("--seed", seed, "seed of the weights, batches and samples");
    app.add_option("--out", out_dir, "directory for the checkpoint, history and chart");
    app.add_flag("--resume", resume_run, "continue from the checkpoint in --out");
    app.add_option("--sample", count, "characters to sample at the end");
    app.add_option("--temperature", temperature, "sampling temperature")
        ->check(CLI::PositiveNumber);
    app.add_option("--prompt", prompt, "text the sample continues");
    CLI11_PARSE(app, argc, argv);
    set_num_threads(threads);

    const corpus text = load_corpus(text_file);
    const std::size_t split = text.ids.size() * 9 / 10;
    if (split < context + 1 || text.ids.size() - split < context + 1)
        throw std::runtime_error(text.description + ": " + std::to_string(text.ids.size()) +
                                 " characters are too few for windows of " +
                                 std::to_string(context + 1));
    const std::span<const std::uint8_t> train_text(text.ids.data(), split);
    const std::span<const std::uint8_t> valid_text(text.ids.data() + split,
                                                   text.ids.size() - split);
    std::printf("text: %s, %zu characters (%zu for training, %zu held out)\n",
                text.description.c_str(), text.ids.size(), train_text.size(), valid_text.size());

    const bool lstm = model_name == "lstm";
    std::unique_ptr<language_model> model;
    if (lstm)
        model = std::make_unique<lstm_model>(layers ? layers : 1, 256);
    else
        model = std::make_unique<transformer_model>(layers ? layers : 4, context);
    rng g(seed);
    model->init(g);
    std::size_t count_params = 0;
    for (const auto& p : model->parameters())
        count_params += p.size();
    std::printf("model: %s, %zu parameters\n", model->describe().c_str(), count_params);

    const double peak = lr > 0 ? lr : lstm ? 3e-3 : 1e-3;
    optim::adamw<float> opt({.lr = peak, .weight_decay = 0.01});
    const std::filesystem::path out = out_dir;
    std::filesystem::create_directories(out);
    const std::filesystem::path checkpoint = out / "checkpoint.safetensors";
    std::size_t done = 0;
    if (resume_run) {
        if (!std::filesystem::exists(checkpoint))
            throw std::runtime_error("--resume: no checkpoint at " + checkpoint.string());
        done = resume(checkpoint, *model, opt, model_name, g);
        std::printf("resumed from %s after epoch %zu\n", checkpoint.string().c_str(), done);
    }
    io::csv_history history(out / "history.csv", resume_run);

    // Cosine decay over all steps after a short warm-up.
    const std::size_t total = epochs * steps, warmup = std::min<std::size_t>(100, total / 10);
    const auto rate = [&](std::size_t step) {
        if (step < warmup)
            return peak * static_cast<double>(step + 1) / static_cast<double>(warmup);
        const double phase = static_cast<double>(step - warmup) /
                             static_cast<double>(std::max<std::size_t>(1, total - warmup));
        return peak * (0.05 + 0.95 * (1 + std::cos(std::numbers::pi * phase)) / 2);
    };

    batch_buffers b(batch, context);
    tape t;
    train::progress bar(std::cout);
    auto& params = model->parameters();
    validation_result valid = validate(*model, valid_text, batch, context, 512);
    for (std::size_t epoch = done + 1; epoch <= epochs; ++epoch) {
        const auto start = std::chrono::steady_clock::now();
        bar.begin_epoch(epoch, epochs, steps);
        double loss_sum = 0, correct = 0;
        for (std::size_t s = 0; s < steps; ++s) {
            for (std::size_t r = 0; r < batch; ++r)
                b.fill(train_text.data(), r, g.below(train_text.size() - context));
            t.clear();
            const nn::context ctx{t, true, &g};
            const var<float> logits = model->logits(ctx, constant(t, b.inputs));
            const var<float> loss = softmax_cross_entropy(logits, b.targets);
            for (auto& p : params)
                p.zero_grad();
            loss.backward();
            optim::clip_grad_norm(params, 1.0);
            opt.set_learning_rate(rate((epoch - 1) * steps + s));
            opt.step(params);
            loss_sum += static_cast<double>(loss.value().item());
            correct += static_cast<double>(count_correct(logits.value(), b.targets));
            bar.update(s + 1, (s + 1) * batch, loss_sum / static_cast<double>(s + 1),
                       correct / static_cast<double>((s + 1) * batch * context));
        }
        valid = validate(*model, valid_text, batch, context, 512);
        io::epoch_record r;
        r.epoch = epoch;
        r.train_loss = loss_sum / static_cast<double>(steps) / std::numbers::ln2;
        r.train_acc = correct / static_cast<double>(steps * batch * context);
        r.val_loss = valid.bpc;
        r.val_acc = valid.accuracy;
        r.lr = opt.learning_rate();
        r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        history.append(r);
        bar.end_epoch(r, static_cast<double>(steps * batch) / r.seconds);
        std::printf("epoch %zu: train bpc %.3f, validation bpc %.3f\n", epoch, r.train_loss,
                    valid.bpc);
        std::fflush(stdout);
        save(checkpoint, *model, opt, model_name, epoch, g);
        io::write_training_chart(out / "history.svg", history.records(),
                                 {.title = "char_lm " + model_name + " (losses in bits/char)"});
    }
    if (count > 0) {
        std::printf("\nsample (temperature %.2f):\n%s\n\n", temperature,
                    sample(*model, prompt, count, temperature, context, g).c_str());
    }
    std::printf("outputs in %s: checkpoint.safetensors, history.csv, history.svg\n",
                out_dir.c_str());
    std::printf("validation bpc: %.3f\n", valid.bpc);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "char_lm: %s\n", e.what());
    return 1;
}
