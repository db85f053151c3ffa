#include "dendrite/io/safetensors.hpp"
#include "dendrite/config.hpp"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "dendrite/io/atomic_file.hpp"

namespace dendrite::inline DENDRITE_TARGET::io {

static_assert(
    std::endian::native == std::endian::little,
    "safetensors: this implementation writes host-order bytes and needs a little-endian host");

namespace {

// Real checkpoints have headers of kilobytes; the reference implementation refuses above 100 MB.
constexpr std::uint64_t max_header_bytes = 100'000'000;

template <class T>
constexpr std::string_view dtype_of() {
    if constexpr (std::is_same_v<T, float>) return "F32";
    if constexpr (std::is_same_v<T, double>) return "F64";
    if constexpr (std::is_same_v<T, std::int32_t>) return "I32";
    if constexpr (std::is_same_v<T, std::int64_t>) return "I64";
}

std::size_t element_bytes(const any_tensor& t) noexcept {
    return std::visit(
        [](const auto& x) { return sizeof(typename std::decay_t<decltype(x)>::value_type); }, t);
}

const dendrite::shape& shape_of(const any_tensor& t) noexcept {
    return std::visit([](const auto& x) -> const dendrite::shape& { return x.shape(); }, t);
}

struct file_closer {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};

}  // namespace

std::string_view dtype_name(const any_tensor& t) noexcept {
    return std::visit(
        [](const auto& x) { return dtype_of<typename std::decay_t<decltype(x)>::value_type>(); },
        t);
}

void save_safetensors(const std::filesystem::path& path, const named_tensors& tensors,
                      const metadata_map& metadata) {
    const std::string file = path.string();
    std::set<std::string_view> seen;
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!metadata.empty()) {
        // The reference writer puts the metadata first; readers do not care, but people do.
        auto& m = header["__metadata__"] = nlohmann::ordered_json::object();
        for (const auto& [k, v] : metadata)
            m[k] = v;
    }
    std::uint64_t offset = 0;
    for (const auto& [name, t] : tensors) {
        if (name.empty()) throw io_error(file + ": a tensor has an empty name");
        if (name == "__metadata__")
            throw io_error(file + ": '__metadata__' is reserved and cannot name a tensor");
        if (!seen.insert(name).second)
            throw io_error(file + ": two tensors are named '" + name + "'");
        const dendrite::shape& s = shape_of(t);
        const std::uint64_t bytes = s.size() * element_bytes(t);
        auto& entry = header[name] = nlohmann::ordered_json::object();
        entry["dtype"] = dtype_name(t);
        entry["shape"] = nlohmann::ordered_json::array();
        for (std::size_t d : s)
            entry["shape"].push_back(d);
        entry["data_offsets"] = {offset, offset + bytes};
        offset += bytes;
    }
    std::string text;
    try {
        text = header.dump();
    } catch (const nlohmann::json::exception& e) {
        throw io_error(
            file + ": cannot encode the header (names and metadata must be UTF-8): " + e.what());
    }
    text.append((8 - text.size() % 8) % 8, ' ');

    atomic_file out(path);
    unsigned char length[8];
    std::uint64_t n = text.size();
    for (unsigned char& b : length) {
        b = static_cast<unsigned char>(n & 0xFF);
        n >>= 8;
    }
    out.write(length, sizeof length);
    out.write(text);
    for (const auto& [name, t] : tensors)
        std::visit(
            [&](const auto& x) {
                using T = typename std::decay_t<decltype(x)>::value_type;
                if (x.is_contiguous()) {
                    out.write(x.data(), x.size() * sizeof(T));
                } else {
                    const auto dense = x.clone();
                    out.write(dense.data(), dense.size() * sizeof(T));
                }
            },
            t);
    out.commit();
}

const any_tensor* safetensors_file::find(std::string_view name) const noexcept {
    for (const auto& [n, t] : tensors)
        if (n == name) return &t;
    return nullptr;
}

safetensors_file load_safetensors(const std::filesystem::path& path) {
    const std::string file = path.string();
    auto fail = [&](const std::string& what) -> io_error { return io_error(file + ": " + what); };

    std::unique_ptr<std::FILE, file_closer> f(std::fopen(file.c_str(), "rb"));
    if (!f) throw fail(std::string("cannot open: ") + std::strerror(errno));
    if (std::fseek(f.get(), 0, SEEK_END) != 0) throw fail("cannot seek");
    const long end = std::ftell(f.get());
    if (end < 0) throw fail("cannot tell the file size");
    const auto file_size = static_cast<std::uint64_t>(end);
    std::rewind(f.get());
    if (file_size == 0) throw fail("empty file");
    if (file_size < 8)
        throw fail("file of " + std::to_string(file_size) +
                   " bytes is too short for the 8-byte header length");

    unsigned char length[8];
    if (std::fread(length, 1, 8, f.get()) != 8) throw fail("read error");
    std::uint64_t header_bytes = 0;
    for (int i = 7; i >= 0; --i)
        header_bytes = (header_bytes << 8) | length[i];
    if (header_bytes > file_size - 8)
        throw fail("header length " + std::to_string(header_bytes) + " exceeds the " +
                   std::to_string(file_size - 8) +
                   " bytes that follow it (not a safetensors file, or truncated)");
    if (header_bytes > max_header_bytes)
        throw fail("header length " + std::to_string(header_bytes) + " is implausibly large");
    std::string text(header_bytes, '\0');
    if (std::fread(text.data(), 1, text.size(), f.get()) != text.size())
        throw fail("read error in the header");

    nlohmann::json header;
    try {
        header = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        throw fail(std::string("header is not valid JSON: ") + e.what());
    }
    if (!header.is_object()) throw fail("header is not a JSON object");

    struct entry {
        std::string name;
        std::string dtype;
        dendrite::shape shape;
        std::uint64_t begin, end;
    };
    std::vector<entry> entries;
    safetensors_file out;
    const std::uint64_t data_bytes = file_size - 8 - header_bytes;
    for (const auto& [name, value] : header.items()) {
        if (name == "__metadata__") {
            if (!value.is_object()) throw fail("'__metadata__' is not an object");
            for (const auto& [k, v] : value.items()) {
                if (!v.is_string()) throw fail("metadata '" + k + "' is not a string");
                out.metadata[k] = v.get<std::string>();
            }
            continue;
        }
        const std::string where = "tensor '" + name + "': ";
        if (!value.is_object()) throw fail(where + "entry is not an object");
        const auto dt = value.find("dtype");
        if (dt == value.end() || !dt->is_string())
            throw fail(where + "missing or non-string 'dtype'");
        const std::string dtype = dt->get<std::string>();
        std::uint64_t size = 0;
        if (dtype == "F32" || dtype == "I32")
            size = 4;
        else if (dtype == "F64" || dtype == "I64")
            size = 8;
        else
            throw fail(where + "dtype " + dtype + " is not supported (F32, F64, I32 and I64 are)");

        const auto sh = value.find("shape");
        if (sh == value.end() || !sh->is_array())
            throw fail(where + "missing or non-array 'shape'");
        if (sh->size() > max_rank)
            throw fail(where + "rank " + std::to_string(sh->size()) + " exceeds the maximum of " +
                       std::to_string(max_rank));
        entry e{name, dtype, {}, 0, 0};
        std::uint64_t elements = 1;
        std::vector<std::size_t> dims;
        for (const auto& d : *sh) {
            if (!d.is_number_unsigned())
                throw fail(where + "shape " + sh->dump() + " is not a list of sizes");
            const auto v = d.get<std::uint64_t>();
            dims.push_back(v);
            if (v != 0 && elements > std::numeric_limits<std::uint64_t>::max() / 8 / v)
                throw fail(where + "shape " + sh->dump() + " is impossibly large");
            elements *= v;
        }
        e.shape = dendrite::shape(dims.begin(), dims.end());

        const auto off = value.find("data_offsets");
        if (off == value.end() || !off->is_array() || off->size() != 2 ||
            !(*off)[0].is_number_unsigned() || !(*off)[1].is_number_unsigned())
            throw fail(where + "'data_offsets' is not a pair of offsets");
        e.begin = (*off)[0].get<std::uint64_t>();
        e.end = (*off)[1].get<std::uint64_t>();
        std::string range = "[";
        range += std::to_string(e.begin) + ", " + std::to_string(e.end) + "]";
        if (e.end < e.begin) throw fail(where + "data_offsets " + range + " end before they begin");
        if (e.end > data_bytes)
            throw fail(where + "data_offsets " + range + " extend past the data section of " +
                       std::to_string(data_bytes) + " bytes (truncated file?)");
        if (e.end - e.begin != elements * size)
            throw fail(where + "data_offsets " + range + " hold " +
                       std::to_string(e.end - e.begin) + " bytes but " + dtype + " " +
                       e.shape.str() + " needs " + std::to_string(elements * size));
        entries.push_back(std::move(e));
    }

    std::sort(entries.begin(), entries.end(), [](const entry& a, const entry& b) {
        return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    for (std::size_t i = 1; i < entries.size(); ++i)
        if (entries[i].begin < entries[i - 1].end)
            throw fail("tensors '" + entries[i - 1].name + "' [" +
                       std::to_string(entries[i - 1].begin) + ", " +
                       std::to_string(entries[i - 1].end) + "] and '" + entries[i].name + "' [" +
                       std::to_string(entries[i].begin) + ", " + std::to_string(entries[i].end) +
                       "] overlap");

    const std::uint64_t data_start = 8 + header_bytes;
    for (const entry& e : entries) {
        auto read_into = [&](auto t) -> any_tensor {
            const std::size_t bytes = e.end - e.begin;
            if (bytes > 0) {
                if (std::fseek(f.get(), static_cast<long>(data_start + e.begin), SEEK_SET) != 0 ||
                    std::fread(t.data(), 1, bytes, f.get()) != bytes)
                    throw fail("tensor '" + e.name + "': read error");
            }
            return t;
        };
        any_tensor t;
        if (e.dtype == "F32")
            t = read_into(tensor<float>::uninitialized(e.shape));
        else if (e.dtype == "F64")
            t = read_into(tensor<double>::uninitialized(e.shape));
        else if (e.dtype == "I32")
            t = read_into(tensor<std::int32_t>::uninitialized(e.shape));
        else
            t = read_into(tensor<std::int64_t>::uninitialized(e.shape));
        out.tensors.emplace_back(e.name, std::move(t));
    }
    return out;
}

}  // namespace dendrite::inline DENDRITE_TARGET::io
