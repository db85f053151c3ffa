#include "dendrite/data/idx.hpp"
#include "dendrite/config.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>

#include "dendrite/data/error.hpp"

namespace dendrite::inline DENDRITE_TARGET::data {

namespace {

std::string hex32(std::uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08X", v);
    return buf;
}

/// The bytes of a raw or gzip file, decompressed on the fly. Errors name the file.
class byte_source {
  public:
    explicit byte_source(const std::filesystem::path& path) : name_(path.string()) {
        raw_ = std::fopen(name_.c_str(), "rb");
        if (!raw_) fail(std::string("cannot open: ") + std::strerror(errno));
        unsigned char head[2] = {0, 0};
        const std::size_t got = std::fread(head, 1, 2, raw_);
        if (got == 0) {
            if (std::ferror(raw_)) fail(std::string("read error: ") + std::strerror(errno));
            fail("empty file");
        }
        const bool gzip = got == 2 && head[0] == 0x1f && head[1] == 0x8b;
        if (!gzip && path.extension() == ".gz") {
            std::string start = "0x" + hex_byte(head[0]);
            if (got == 2) start += " 0x" + hex_byte(head[1]);
            fail("not a gzip file (starts with " + start + ", expected 0x1f 0x8b)");
        }
        if (gzip) {
            std::fclose(raw_);
            raw_ = nullptr;
            gz_ = gzopen(name_.c_str(), "rb");
            if (!gz_) fail(std::string("cannot open: ") + std::strerror(errno));
            gzbuffer(gz_, 1 << 16);
        } else {
            std::rewind(raw_);
        }
    }
    byte_source(const byte_source&) = delete;
    byte_source& operator=(const byte_source&) = delete;
    ~byte_source() {
        if (raw_) std::fclose(raw_);
        if (gz_) gzclose(gz_);
    }

    bool compressed() const noexcept { return gz_ != nullptr; }

    /// Reads up to n bytes; fewer only at the end of the data. Corrupt gzip data throws.
    std::size_t read(unsigned char* dst, std::size_t n) {
        std::size_t total = 0;
        while (total < n) {
            const std::size_t want = std::min<std::size_t>(n - total, 1u << 30);
            std::size_t got = 0;
            if (gz_) {
                const int r = gzread(gz_, dst + total, static_cast<unsigned>(want));
                if (r < 0) fail_gzip();
                got = static_cast<std::size_t>(r);
            } else {
                got = std::fread(dst + total, 1, want, raw_);
                if (got < want && std::ferror(raw_))
                    fail(std::string("read error: ") + std::strerror(errno));
            }
            if (got == 0) break;
            total += got;
        }
        return total;
    }

    /// Throws when a gzip stream ended before its trailer (whose CRC vouches for the data).
    void check_complete() {
        if (gz_ && !end_note().empty())
            fail("truncated gzip stream (the data is complete but its CRC trailer is cut)");
    }

    /// A note for truncation messages: a gzip stream that ended early says so.
    std::string end_note() {
        if (!gz_) return "";
        int err = Z_OK;
        gzerror(gz_, &err);
        return err == Z_BUF_ERROR ? "; the gzip stream ends early" : "";
    }

    [[noreturn]] void fail(const std::string& what) const { throw data_error(name_ + ": " + what); }

  private:
    static std::string hex_byte(unsigned char c) {
        char buf[4];
        std::snprintf(buf, sizeof buf, "%02x", c);
        return buf;
    }
    [[noreturn]] void fail_gzip() {
        int err = Z_OK;
        const char* msg = gzerror(gz_, &err);
        fail(std::string("corrupt gzip data (") + (msg && *msg ? msg : "unknown zlib error") + ")");
    }

    std::string name_;
    std::FILE* raw_ = nullptr;
    gzFile gz_ = nullptr;
};

/// The header and the raw elements of an unsigned-byte IDX file with `rank` dimensions.
struct idx_bytes {
    std::array<std::uint32_t, 3> dims{};
    std::vector<unsigned char> data;
};

std::uint32_t big_endian32(const unsigned char* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           p[3];
}

idx_bytes read_idx(byte_source& src, std::size_t rank, const char* kind) {
    const std::uint32_t expected_magic = 0x00000800u | static_cast<std::uint32_t>(rank);
    const std::size_t header = 4 + 4 * rank;
    unsigned char head[16];
    const std::size_t got = src.read(head, header);
    if (got < 4)
        src.fail("truncated at byte " + std::to_string(got) + " (an IDX header needs " +
                 std::to_string(header) + ")" + src.end_note());
    const std::uint32_t magic = big_endian32(head);
    if (magic != expected_magic) {
        std::string msg = "bad magic number " + hex32(magic) + " (expected " +
                          hex32(expected_magic) + " for IDX " + kind + ")";
        if ((magic & 0xFFFFFF00u) == 0x00000800u)
            msg += "; this IDX file has " + std::to_string(magic & 0xFFu) + " dimensions" +
                   (rank == 3 && (magic & 0xFFu) == 1 ? ", a label file?" : "") +
                   (rank == 1 && (magic & 0xFFu) == 3 ? ", an image file?" : "");
        else if ((magic & 0xFFFF0000u) == 0)
            msg += "; only unsigned-byte elements (type 0x08) are supported";
        src.fail(msg);
    }
    if (got < header)
        src.fail("truncated at byte " + std::to_string(got) + " (an IDX header needs " +
                 std::to_string(header) + ")" + src.end_note());

    idx_bytes out;
    std::uint64_t elements = 1;
    bool overflow = false;
    for (std::size_t d = 0; d < rank; ++d) {
        out.dims[d] = big_endian32(head + 4 + 4 * d);
        if (out.dims[d] != 0 &&
            elements > std::numeric_limits<std::uint64_t>::max() / 2 / out.dims[d])
            overflow = true;
        else
            elements *= out.dims[d];
    }
    if (overflow) src.fail("header announces an impossible size (extents overflow 64 bits)");
    const std::uint64_t expected_total = header + elements;

    // Read what is there, growing the buffer only as data arrives: a corrupt header announcing
    // terabytes must give an error, not an attempt to allocate them.
    out.data.resize(std::min<std::uint64_t>(elements, std::uint64_t{1} << 20));
    std::uint64_t have = 0;
    for (;;) {
        if (have == out.data.size()) {
            if (have == elements) break;
            out.data.resize(std::min<std::uint64_t>(elements, have * 2 + 1));
        }
        const std::size_t n = src.read(out.data.data() + have, out.data.size() - have);
        have += n;
        if (n == 0) break;
    }
    if (have < elements)
        src.fail("truncated at byte " + std::to_string(header + have) + " (of expected " +
                 std::to_string(expected_total) + ")" + src.end_note());
    unsigned char extra;
    if (src.read(&extra, 1) != 0)
        src.fail("longer than the " + std::to_string(expected_total) +
                 " bytes its header announces (" + std::to_string(out.dims[0]) + " " + kind + ")");
    src.check_complete();
    return out;
}

}  // namespace

tensor<float> read_idx_images(const std::filesystem::path& path, image_layout layout) {
    byte_source src(path);
    const idx_bytes raw = read_idx(src, 3, "images");
    const std::size_t n = raw.dims[0], rows = raw.dims[1], cols = raw.dims[2];
    tensor<float> x = tensor<float>::uninitialized(layout == image_layout::flat
                                                       ? dendrite::shape{n, rows * cols}
                                                       : dendrite::shape{n, 1, rows, cols});
    std::array<float, 256> lut;
    for (std::size_t v = 0; v < 256; ++v)
        lut[v] = static_cast<float>(v) / 255.0f;
    float* out = x.data();
    for (std::size_t i = 0; i < raw.data.size(); ++i)
        out[i] = lut[raw.data[i]];
    return x;
}

std::vector<std::int32_t> read_idx_labels(const std::filesystem::path& path, std::size_t classes) {
    byte_source src(path);
    const idx_bytes raw = read_idx(src, 1, "labels");
    std::vector<std::int32_t> y(raw.data.size());
    for (std::size_t i = 0; i < y.size(); ++i) {
        if (raw.data[i] >= classes)
            src.fail("label " + std::to_string(raw.data[i]) + " of example " + std::to_string(i) +
                     " is out of range (expected 0 to " +
                     std::to_string(classes == 0 ? 0 : classes - 1) + ")");
        y[i] = raw.data[i];
    }
    return y;
}

}  // namespace dendrite::inline DENDRITE_TARGET::data
