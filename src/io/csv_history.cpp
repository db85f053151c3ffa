#include "dendrite/io/csv_history.hpp"
#include "dendrite/config.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

#include "dendrite/io/atomic_file.hpp"

namespace dendrite::inline DENDRITE_TARGET::io {

namespace {

void append_number(std::string& line, double v) {
    line += ',';
    if (std::isnan(v)) return;  // not measured: an empty field
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.8g", v);
    line += buf;
}

std::string render(const std::vector<epoch_record>& records) {
    std::string text = std::string(history_header) + "\n";
    for (const epoch_record& r : records) {
        text += std::to_string(r.epoch);
        for (double v : {r.train_loss, r.train_acc, r.val_loss, r.val_acc, r.lr, r.seconds})
            append_number(text, v);
        text += '\n';
    }
    return text;
}

}  // namespace

csv_history::csv_history(std::filesystem::path path, bool resume) : path_(std::move(path)) {
    std::error_code ec;
    if (resume && std::filesystem::exists(path_, ec)) records_ = read_history(path_);
}

void csv_history::append(const epoch_record& r) {
    std::erase_if(records_, [&](const epoch_record& old) { return old.epoch >= r.epoch; });
    records_.push_back(r);
    write_file_atomically(path_, render(records_));
}

std::vector<epoch_record> read_history(const std::filesystem::path& path) {
    const std::string file = path.string();
    std::ifstream in(path, std::ios::binary);
    if (!in) throw io_error(file + ": cannot open");
    std::string line;
    std::size_t number = 0;
    std::vector<epoch_record> out;
    auto strip = [](std::string& s) {
        if (!s.empty() && s.back() == '\r') s.pop_back();
    };
    if (!std::getline(in, line)) throw io_error(file + ": empty file");
    ++number;
    strip(line);
    if (line != history_header)
        throw io_error(file + ": line 1: header '" + line + "' is not '" + history_header + "'");
    while (std::getline(in, line)) {
        ++number;
        strip(line);
        if (line.empty()) continue;
        const std::string where = file + ": line " + std::to_string(number) + ": ";
        std::vector<std::string> fields(1);
        for (char c : line) {
            if (c == ',')
                fields.emplace_back();
            else
                fields.back() += c;
        }
        if (fields.size() != 7)
            throw io_error(where + "expected 7 fields, found " + std::to_string(fields.size()));
        epoch_record r;
        const auto [p, ec] =
            std::from_chars(fields[0].data(), fields[0].data() + fields[0].size(), r.epoch);
        if (ec != std::errc() || p != fields[0].data() + fields[0].size())
            throw io_error(where + "epoch '" + fields[0] + "' is not a whole number");
        double* values[] = {&r.train_loss, &r.train_acc, &r.val_loss,
                            &r.val_acc,    &r.lr,        &r.seconds};
        for (std::size_t k = 0; k < 6; ++k) {
            const std::string& f = fields[k + 1];
            if (f.empty()) continue;
            const auto [q, e] = std::from_chars(f.data(), f.data() + f.size(), *values[k]);
            if (e != std::errc() || q != f.data() + f.size())
                throw io_error(where + "'" + f + "' is not a number");
        }
        out.push_back(r);
    }
    return out;
}

}  // namespace dendrite::inline DENDRITE_TARGET::io
