#pragma once
// Crash-safe file replacement: a reader sees the old file or the complete new one, never a part.

#include <cstddef>
#include <filesystem>
#include <span>
#include <string_view>

#include "dendrite/config.hpp"
#include "dendrite/io/error.hpp"

namespace dendrite::inline DENDRITE_TARGET::io {

/// A file written under a temporary name (`path` + ".tmp-XXXXXX", in the same directory so that
/// the final rename cannot cross file systems) and moved over `path` by commit():
/// the data is fsync'ed, the temporary renamed onto `path`, then the directory fsync'ed so that the
/// rename itself survives a power cut. If commit() is never reached (an exception, an early
/// return), the destructor removes the temporary and `path` is untouched.
///
/// The new file gets the permissions of the file it replaces, or 0644 when there is none.
/// Not thread-safe; each writer uses its own object. Errors throw io_error naming `path`.
class atomic_file {
  public:
    /// Creates the temporary file. Throws io_error when the directory is not writable.
    explicit atomic_file(std::filesystem::path path);
    atomic_file(const atomic_file&) = delete;
    atomic_file& operator=(const atomic_file&) = delete;
    /// Removes the temporary file unless commit() succeeded.
    ~atomic_file();

    /// Appends bytes to the temporary file (retrying short writes and EINTR).
    void write(const void* data, std::size_t bytes);
    void write(std::string_view text) { write(text.data(), text.size()); }

    /// Makes the written bytes the contents of `path` (see the class comment). On failure the
    /// temporary is removed and io_error thrown; `path` keeps its old contents.
    void commit();

    const std::filesystem::path& path() const noexcept { return path_; }
    /// The temporary file's path (useful in tests).
    const std::filesystem::path& temporary_path() const noexcept { return temp_; }

  private:
    void discard() noexcept;
    [[noreturn]] void fail(const char* what);

    std::filesystem::path path_;
    std::filesystem::path temp_;
    int fd_ = -1;
    bool committed_ = false;
};

/// Replaces the contents of `path` with `bytes`, atomically (see atomic_file).
void write_file_atomically(const std::filesystem::path& path, std::span<const std::byte> bytes);
/// Replaces the contents of `path` with `text`, atomically (see atomic_file).
void write_file_atomically(const std::filesystem::path& path, std::string_view text);

}  // namespace dendrite::inline DENDRITE_TARGET::io
