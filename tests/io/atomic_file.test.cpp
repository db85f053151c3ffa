#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <string>

#include "../data/temp_dir.hpp"
#include "dendrite/io/atomic_file.hpp"
#include "dendrite/io/safetensors.hpp"

using namespace dendrite;
using Catch::Matchers::Contains;

namespace {

std::size_t entries(const std::filesystem::path& dir) {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir))
        ++n;
    return n;
}

}  // namespace

TEST_CASE("atomic_file replaces the target only on commit", "[io][atomic]") {
    test_support::temp_dir dir;
    const auto target = dir.write("file.txt", "old contents");
    ::chmod(target.c_str(), 0640);

    {
        io::atomic_file f(target);
        CHECK(f.temporary_path().parent_path() == target.parent_path());
        CHECK_THAT(f.temporary_path().filename().string(), Contains("file.txt.tmp-"));
        f.write("new ");
        f.write(std::string_view("contents"));
        CHECK(test_support::read_file(target) == "old contents");  // not yet
        f.commit();
    }
    CHECK(test_support::read_file(target) == "new contents");
    CHECK(entries(dir.path()) == 1);
    struct stat st {};
    REQUIRE(::stat(target.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0640);  // permissions of the replaced file are kept

    SECTION("abandoned writes leave the old file and no temporary") {
        {
            io::atomic_file f(target);
            f.write("half a fi");
        }
        CHECK(test_support::read_file(target) == "new contents");
        CHECK(entries(dir.path()) == 1);
    }
    SECTION("an exception while writing leaves the old file and no temporary") {
        try {
            io::atomic_file f(target);
            f.write("partial");
            throw std::runtime_error("simulated failure");
        } catch (const std::runtime_error&) {
        }
        CHECK(test_support::read_file(target) == "new contents");
        CHECK(entries(dir.path()) == 1);
    }
    SECTION("write_file_atomically") {
        io::write_file_atomically(dir / "other.bin", std::string_view("abc"));
        CHECK(test_support::read_file(dir / "other.bin") == "abc");
        struct stat st2 {};
        REQUIRE(::stat((dir / "other.bin").c_str(), &st2) == 0);
        CHECK((st2.st_mode & 0777) == 0644);
    }
}

TEST_CASE("atomic writes that fail throw io_error and leave nothing behind",
          "[io][atomic][errors]") {
    test_support::temp_dir dir;
    SECTION("missing directory") {
        CHECK_THROWS_WITH(
            io::write_file_atomically(dir / "no/such/dir.txt", std::string_view("x")),
            Contains("no/such/dir.txt") && Contains("cannot create a temporary file"));
    }
    SECTION("the rename fails (the target is a non-empty directory)") {
        std::filesystem::create_directories(dir / "occupied" / "inside");
        CHECK_THROWS_WITH(
            io::save_safetensors(dir / "occupied", {{"t", tensor<float>(shape{3}, 2.0f)}}),
            Contains("occupied") && Contains("cannot rename"));
        CHECK(std::filesystem::is_directory(dir / "occupied" / "inside"));
        CHECK(entries(dir.path()) == 1);  // no temporary left
    }
    SECTION("write after commit") {
        io::atomic_file f(dir / "once.txt");
        f.commit();
        CHECK_THROWS_AS(f.write("more"), io_error);
        CHECK(std::filesystem::file_size(dir / "once.txt") == 0);
    }
}
