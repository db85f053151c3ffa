#include "dendrite/io/atomic_file.hpp"
#include "dendrite/config.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace dendrite::inline DENDRITE_TARGET::io {

atomic_file::atomic_file(std::filesystem::path path) : path_(std::move(path)) {
    if (path_.empty()) throw io_error("atomic_file: empty path");
    if (!path_.has_filename()) throw io_error(path_.string() + ": not a file name");
    std::string pattern = path_.string() + ".tmp-XXXXXX";
    std::vector<char> name(pattern.begin(), pattern.end());
    name.push_back('\0');
    fd_ = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd_ < 0)
        throw io_error(path_.string() +
                       ": cannot create a temporary file: " + std::strerror(errno));
    temp_ = name.data();
    // mkstemp creates 0600; keep the replaced file's permissions, or use the usual 0644.
    struct stat st {};
    const mode_t mode = ::stat(path_.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0644;
    ::fchmod(fd_, mode);
}

atomic_file::~atomic_file() {
    if (!committed_) discard();
}

void atomic_file::discard() noexcept {
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
    if (!temp_.empty()) {
        ::unlink(temp_.c_str());
        temp_.clear();
    }
}

void atomic_file::fail(const char* what) {
    const std::string msg = path_.string() + ": " + what + ": " + std::strerror(errno);
    discard();
    throw io_error(msg);
}

void atomic_file::write(const void* data, std::size_t bytes) {
    if (fd_ < 0) throw io_error(path_.string() + ": write after commit or failure");
    const char* p = static_cast<const char*>(data);
    while (bytes > 0) {
        const ssize_t n = ::write(fd_, p, bytes);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("write failed");
        }
        p += n;
        bytes -= static_cast<std::size_t>(n);
    }
}

void atomic_file::commit() {
    if (fd_ < 0) throw io_error(path_.string() + ": commit after commit or failure");
    if (::fsync(fd_) != 0) fail("fsync failed");
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) fail("close failed");
    if (::rename(temp_.c_str(), path_.c_str()) != 0)
        fail("cannot rename the temporary file over it");
    committed_ = true;
    temp_.clear();
    // The rename is durable only once the directory entry is on disk.
    const std::filesystem::path dir =
        path_.has_parent_path() ? path_.parent_path() : std::filesystem::path(".");
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
}

void write_file_atomically(const std::filesystem::path& path, std::span<const std::byte> bytes) {
    atomic_file f(path);
    f.write(bytes.data(), bytes.size());
    f.commit();
}

void write_file_atomically(const std::filesystem::path& path, std::string_view text) {
    atomic_file f(path);
    f.write(text);
    f.commit();
}

}  // namespace dendrite::inline DENDRITE_TARGET::io
