#include "dendrite/data/csv.hpp"
#include "dendrite/config.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <string_view>
#include <vector>

namespace dendrite::inline DENDRITE_TARGET::data {

namespace {

/// Splits CSV text into records of fields, tracking physical line numbers for messages.
class csv_parser {
  public:
    csv_parser(std::string_view text, char delimiter, std::string file)
        : text_(text), delim_(delimiter), file_(std::move(file)) {}

    /// Reads the next record into `fields` (reusing its strings); false at the end of the text.
    /// Blank lines are skipped. `line()` is then the line on which the record starts.
    bool next(std::vector<std::string>& fields) {
        for (;;) {
            if (pos_ >= text_.size()) return false;
            record_line_ = line_;
            std::size_t count = 0;
            bool any_content = false;
            for (;;) {
                if (count == fields.size()) fields.emplace_back();
                std::string& f = fields[count++];
                f.clear();
                any_content |= read_field(f);
                if (pos_ >= text_.size()) break;
                const char c = text_[pos_];
                if (c == delim_) {
                    ++pos_;
                    any_content = true;
                    continue;
                }
                end_of_line();
                break;
            }
            if (!any_content && count == 1) continue;
            fields.resize(count);
            return true;
        }
    }

    std::size_t line() const noexcept { return record_line_; }

    [[noreturn]] void fail(const std::string& what) const {
        throw data_error(file_ + ": line " + std::to_string(record_line_) + ": " + what);
    }

  private:
    bool is_blank(char c) const noexcept { return (c == ' ' || c == '\t') && c != delim_; }
    bool at_field_end() const noexcept {
        if (pos_ >= text_.size()) return true;
        const char c = text_[pos_];
        return c == delim_ || c == '\n' || c == '\r';
    }
    void end_of_line() {
        if (text_[pos_] == '\r') ++pos_;
        if (pos_ < text_.size() && text_[pos_] == '\n') ++pos_;
        ++line_;
    }

    /// Reads one field into f; returns whether it had any content (quotes count as content).
    bool read_field(std::string& f) {
        while (pos_ < text_.size() && is_blank(text_[pos_]))
            ++pos_;
        if (pos_ < text_.size() && text_[pos_] == '"') {
            ++pos_;
            for (;;) {
                if (pos_ >= text_.size()) fail("unterminated quoted field");
                const char c = text_[pos_++];
                if (c == '"') {
                    if (pos_ < text_.size() && text_[pos_] == '"') {
                        f += '"';
                        ++pos_;
                        continue;
                    }
                    break;
                }
                if (c == '\n') ++line_;
                f += c;
            }
            while (pos_ < text_.size() && is_blank(text_[pos_]))
                ++pos_;
            if (!at_field_end())
                fail("unexpected character '" + std::string(1, text_[pos_]) +
                     "' after a quoted field");
            return true;
        }
        const std::size_t begin = pos_;
        while (!at_field_end())
            ++pos_;
        std::size_t end = pos_;
        while (end > begin && is_blank(text_[end - 1]))
            --end;
        f.assign(text_.substr(begin, end - begin));
        return end > begin;
    }

    std::string_view text_;
    char delim_;
    std::string file_;
    std::size_t pos_ = 0;
    std::size_t line_ = 1;
    std::size_t record_line_ = 1;
};

std::string read_whole_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw data_error(path.string() + ": cannot open: " + std::strerror(errno));
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) throw data_error(path.string() + ": read error");
    return std::move(ss).str();
}

template <class T>
bool parse_number(const std::string& s, T& out) {
    const char* first = s.data();
    const char* last = s.data() + s.size();
    if (first != last && *first == '+') ++first;
    const auto [ptr, ec] = std::from_chars(first, last, out);
    return ec == std::errc() && ptr == last && first != last;
}

enum class number_status { ok, invalid, out_of_range };

/// A float from the whole of `s`. Values below float's normal range become 0 or subnormals (as a
/// cast would), rather than errors; values above it are out of range.
number_status parse_float(const std::string& s, float& out) {
    if (parse_number(s, out)) return number_status::ok;
    double d = 0;
    const char* first = s.data();
    const char* last = s.data() + s.size();
    if (first != last && *first == '+') ++first;
    const auto [ptr, ec] = std::from_chars(first, last, d);
    if (ptr != last || first == last) return number_status::invalid;
    if (ec == std::errc() && std::abs(d) <= std::numeric_limits<float>::max()) {
        out = static_cast<float>(d);
        return number_status::ok;
    }
    if (ec == std::errc::result_out_of_range) {
        // from_chars leaves d unset here, so tell underflow (a negative exponent) from overflow.
        const std::string_view text(first, static_cast<std::size_t>(last - first));
        const std::size_t e = text.find_first_of("eE");
        if (e != std::string_view::npos && e + 1 < text.size() && text[e + 1] == '-') {
            out = 0.0f;  // below double's range: zero for every purpose here
            return number_status::ok;
        }
    }
    return ec == std::errc() || ec == std::errc::result_out_of_range ? number_status::out_of_range
                                                                     : number_status::invalid;
}

std::string quoted_list(const std::vector<std::string>& names) {
    std::string s;
    for (std::size_t i = 0; i < names.size() && i < 20; ++i)
        s += (i ? ", '" : "'") + names[i] + "'";
    if (names.size() > 20) s += ", ...";
    return s;
}

}  // namespace

dataset read_csv(const std::filesystem::path& path, const csv_options& options) {
    const std::string file = path.string();
    const std::string text = read_whole_file(path);
    std::string_view body = text;
    if (body.substr(0, 3) == "\xEF\xBB\xBF") body.remove_prefix(3);
    if (body.empty()) throw data_error(file + ": empty file");
    if (options.delimiter == '"' || options.delimiter == '\n' || options.delimiter == '\r')
        throw std::invalid_argument("read_csv: the delimiter cannot be a quote or a line end");

    csv_parser parser(body, options.delimiter, file);
    std::vector<std::string> header;
    if (!parser.next(header)) throw data_error(file + ": empty file (no header row)");

    std::size_t label_col = 0;
    if (const auto* name = std::get_if<std::string>(&options.label)) {
        const auto it = std::find(header.begin(), header.end(), *name);
        if (it == header.end())
            throw data_error(file + ": no column named '" + *name +
                             "' for the label (the header has " + quoted_list(header) + ")");
        label_col = static_cast<std::size_t>(it - header.begin());
    } else {
        label_col = std::get<std::size_t>(options.label);
        if (label_col >= header.size())
            throw data_error(file + ": label column index " + std::to_string(label_col) +
                             " is out of range (the header has " + std::to_string(header.size()) +
                             " columns)");
    }
    const std::size_t columns = header.size();
    if (columns < 2)
        throw data_error(file + ": no feature columns (the header has only the label column)");

    std::vector<float> features;
    std::vector<std::string> labels;
    std::vector<std::string> fields;
    while (parser.next(fields)) {
        if (fields.size() != columns)
            parser.fail("expected " + std::to_string(columns) + " fields, found " +
                        std::to_string(fields.size()));
        for (std::size_t c = 0; c < columns; ++c) {
            if (c == label_col) continue;
            const std::string& f = fields[c];
            float v = 0;
            const number_status status = parse_float(f, v);
            if (status != number_status::ok) {
                const std::string where =
                    "line " + std::to_string(parser.line()) + ", column '" + header[c] + "': ";
                if (f.empty())
                    throw data_error(file + ": " + where + "empty field (expected a number)");
                if (status == number_status::out_of_range)
                    throw data_error(file + ": " + where + "'" + f + "' is out of range for float");
                throw data_error(file + ": " + where + "'" + f + "' is not a number");
            }
            if (!std::isfinite(v))
                throw data_error(file + ": line " + std::to_string(parser.line()) + ", column '" +
                                 header[c] + "': '" + f + "' is not a finite number");
            features.push_back(v);
        }
        if (fields[label_col].empty())
            throw data_error(file + ": line " + std::to_string(parser.line()) + ", column '" +
                             header[label_col] + "': empty label");
        labels.push_back(fields[label_col]);
    }
    if (labels.empty()) throw data_error(file + ": no data rows after the header");

    dataset ds;
    const std::size_t n = labels.size(), d = columns - 1;
    ds.x = tensor<float>::uninitialized(dendrite::shape{n, d});
    std::copy(features.begin(), features.end(), ds.x.data());
    ds.y.resize(n);

    bool all_integers = true, all_non_negative = true;
    std::vector<std::int64_t> values(n);
    for (std::size_t i = 0; i < n; ++i) {
        std::int64_t v = 0;
        if (!parse_number(labels[i], v) || v > std::numeric_limits<std::int32_t>::max() ||
            v < std::numeric_limits<std::int32_t>::min()) {
            all_integers = false;
            break;
        }
        values[i] = v;
        all_non_negative &= v >= 0;
    }
    if (all_integers && all_non_negative) {
        std::int64_t max = 0;
        for (std::size_t i = 0; i < n; ++i) {
            ds.y[i] = static_cast<std::int32_t>(values[i]);
            max = std::max(max, values[i]);
        }
        ds.classes = static_cast<std::size_t>(max) + 1;
        return ds;
    }
    // Named classes, numbered in sorted order so that the numbering does not depend on row order.
    std::map<std::string, std::int32_t> index;
    for (const std::string& l : labels)
        index.emplace(l, 0);
    std::vector<std::string> names;
    for (const auto& [name, unused] : index)
        names.push_back(name);
    if (all_integers)
        std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
            std::int64_t x = 0, y = 0;
            parse_number(a, x);
            parse_number(b, y);
            return x < y;
        });
    for (std::size_t k = 0; k < names.size(); ++k)
        index[names[k]] = static_cast<std::int32_t>(k);
    for (std::size_t i = 0; i < n; ++i)
        ds.y[i] = index[labels[i]];
    ds.classes = names.size();
    ds.class_names = std::move(names);
    return ds;
}

}  // namespace dendrite::inline DENDRITE_TARGET::data
