#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "dendrite/data/idx.hpp"
#include "dendrite/data/mnist.hpp"
#include "expect_error.hpp"
#include "idx_files.hpp"
#include "temp_dir.hpp"

using namespace dendrite;
using Catch::Matchers::Contains;
using test_support::idx_images;
using test_support::idx_labels;
using test_support::message_of;

namespace {

std::string idx_error(const std::filesystem::path& p, bool labels = false) {
    return message_of<data_error>([&] {
        if (labels)
            data::read_idx_labels(p);
        else
            data::read_idx_images(p);
    });
}

}  // namespace

TEST_CASE("IDX images read raw and gzip-compressed, normalised to [0, 1]", "[data][idx]") {
    test_support::temp_dir dir;
    const std::string bytes = idx_images(3, 4, 5);
    for (const auto& [name, content] :
         {std::pair{"raw-images", bytes}, std::pair{"gz-images.gz", test_support::gzip(bytes)},
          std::pair{"gz-without-suffix", test_support::gzip(bytes)}}) {
        const auto path = dir.write(name, content);
        const tensor<float> x = data::read_idx_images(path);
        REQUIRE(x.shape() == shape{3, 20});
        for (std::size_t i = 0; i < 3; ++i)
            for (std::size_t k = 0; k < 20; ++k)
                CHECK(x(i, k) == static_cast<float>((i * 31 + k * 7) % 256) / 255.0f);

        const tensor<float> c = data::read_idx_images(path, data::image_layout::channels);
        REQUIRE(c.shape() == shape{3, 1, 4, 5});
        CHECK(c(2, 0, 3, 4) == x(2, 19));
    }
}

TEST_CASE("IDX labels read raw and gzip-compressed", "[data][idx]") {
    test_support::temp_dir dir;
    const std::vector<std::uint8_t> labels{3, 0, 9, 9, 1};
    for (const auto& p : {dir.write("labels", idx_labels(labels)),
                          dir.write("labels.gz", test_support::gzip(idx_labels(labels)))}) {
        const std::vector<std::int32_t> y = data::read_idx_labels(p);
        CHECK(y == std::vector<std::int32_t>{3, 0, 9, 9, 1});
    }
    CHECK(data::read_idx_labels(dir.write("empty-set", idx_labels({}))).empty());
}

TEST_CASE("bad IDX files give data_error naming the file and the problem", "[data][idx][errors]") {
    test_support::temp_dir dir;
    const std::string images = idx_images(2, 3, 3);  // 16 header bytes + 18 pixels = 34 bytes

    SECTION("missing file") {
        CHECK_THAT(idx_error(dir / "nope"), Contains("nope") && Contains("cannot open"));
    }
    SECTION("empty file") {
        const auto p = dir.write("empty-images", "");
        CHECK_THAT(idx_error(p), Contains(p.string()) && Contains("empty file"));
    }
    SECTION("bad magic number: a label file read as images") {
        const auto p = dir.write("swapped", idx_labels({1, 2}));
        CHECK_THAT(idx_error(p), Contains(p.string()) && Contains("bad magic number 0x00000801") &&
                                     Contains("expected 0x00000803") && Contains("label file"));
        const auto q = dir.write("swapped2", images);
        CHECK_THAT(idx_error(q, true),
                   Contains("bad magic number 0x00000803") && Contains("expected 0x00000801"));
    }
    SECTION("bad magic number: not IDX at all") {
        const auto p = dir.write("text", "hello, world, this is not IDX");
        CHECK_THAT(idx_error(p), Contains("bad magic number 0x68656C6C"));
    }
    SECTION("bad magic number: another element type") {
        std::string floats = images;
        floats[2] = 0x0D;
        CHECK_THAT(idx_error(dir.write("floats", floats)), Contains("only unsigned-byte elements"));
    }
    SECTION("truncated in the header") {
        CHECK_THAT(idx_error(dir.write("short-header", images.substr(0, 9))),
                   Contains("truncated at byte 9") && Contains("header needs 16"));
        CHECK_THAT(idx_error(dir.write("tiny", images.substr(0, 2))),
                   Contains("truncated at byte 2"));
    }
    SECTION("truncated in the data") {
        const auto p = dir.write("short-images", images.substr(0, 30));
        CHECK_THAT(idx_error(p),
                   Contains(p.string()) && Contains("truncated at byte 30 (of expected 34)"));
    }
    SECTION("truncated gzip stream") {
        const std::string gz = test_support::gzip(idx_images(50, 28, 28));
        const auto p = dir.write("short.gz", gz.substr(0, gz.size() / 2));
        CHECK_THAT(idx_error(p), Contains(p.string()) && Contains("truncated at byte") &&
                                     Contains("(of expected 39216)") &&
                                     Contains("gzip stream ends early"));
    }
    SECTION("gzip stream cut inside its trailer") {
        const std::string gz = test_support::gzip(images);
        CHECK_THAT(idx_error(dir.write("cut-trailer.gz", gz.substr(0, gz.size() - 3))),
                   Contains("truncated gzip stream") && Contains("CRC trailer"));
    }
    SECTION("corrupt gzip stream") {
        std::string gz = test_support::gzip(idx_images(50, 28, 28));
        for (std::size_t i = 20; i < gz.size() - 20; i += 7)
            gz[i] = static_cast<char>(gz[i] ^ 0x5A);
        const auto p = dir.write("corrupt.gz", gz);
        CHECK_THAT(idx_error(p), Contains(p.string()));
    }
    SECTION("gzip with a wrong checksum") {
        std::string gz = test_support::gzip(images);
        gz[gz.size() - 6] =
            static_cast<char>(gz[gz.size() - 6] ^ 1);  // inside the CRC-32 of the trailer
        CHECK_THAT(idx_error(dir.write("bad-crc.gz", gz)), Contains("corrupt gzip data"));
    }
    SECTION("a .gz file that is not gzip") {
        const auto p = dir.write("garbage.gz", "\x12\x34garbage garbage");
        CHECK_THAT(idx_error(p),
                   Contains(p.string()) && Contains("not a gzip file") && Contains("0x12 0x34"));
    }
    SECTION("trailing bytes") {
        CHECK_THAT(idx_error(dir.write("long", images + "xyz")),
                   Contains("longer than the 34 bytes"));
    }
    SECTION("huge announced size in a small file: an error, not an allocation") {
        std::string huge = images;
        huge[4] = huge[5] = huge[6] = huge[7] = '\xFF';
        CHECK_THAT(idx_error(dir.write("huge", huge)), Contains("truncated at byte 34"));
    }
    SECTION("label out of range") {
        const auto p = dir.write("labels", idx_labels({1, 2, 10, 4}));
        CHECK_THAT(idx_error(p, true), Contains(p.string()) &&
                                           Contains("label 10 of example 2 is out of range") &&
                                           Contains("0 to 9"));
        CHECK(data::read_idx_labels(p, 11).size() == 4);
    }
}

TEST_CASE("load_mnist_dir finds raw or compressed files and checks the counts", "[data][mnist]") {
    test_support::temp_dir dir;
    dir.write("train-images-idx3-ubyte.gz", test_support::gzip(idx_images(4, 28, 28)));
    dir.write("train-labels-idx1-ubyte", idx_labels({5, 0, 4, 1}));
    const data::dataset train = data::load_mnist_dir(dir.path(), data::split::train);
    CHECK(train.x.shape() == shape{4, 784});
    CHECK(train.y == std::vector<std::int32_t>{5, 0, 4, 1});
    CHECK(train.classes == 10);
    CHECK(data::load_mnist_dir(dir.path(), data::split::train, data::image_layout::channels)
              .x.shape() == shape{4, 1, 28, 28});

    SECTION("missing split") {
        CHECK_THAT(
            message_of<data_error>([&] { data::load_mnist_dir(dir.path(), data::split::test); }),
            Contains(dir.path().string()) && Contains("t10k-images-idx3-ubyte"));
    }
    SECTION("mismatched counts") {
        dir.write("t10k-images-idx3-ubyte", idx_images(3, 28, 28));
        dir.write("t10k-labels-idx1-ubyte.gz", test_support::gzip(idx_labels({1, 2})));
        CHECK_THAT(
            message_of<data_error>([&] { data::load_mnist_dir(dir.path(), data::split::test); }),
            Contains("holds 3 images but t10k-labels-idx1-ubyte.gz holds 2 labels"));
    }
    SECTION("no images, or images without pixels") {
        dir.write("t10k-images-idx3-ubyte", idx_images(0, 28, 28));
        dir.write("t10k-labels-idx1-ubyte", idx_labels({}));
        CHECK_THAT(
            message_of<data_error>([&] { data::load_mnist_dir(dir.path(), data::split::test); }),
            Contains("t10k-images-idx3-ubyte: holds no images"));
        dir.write("t10k-images-idx3-ubyte", idx_images(2, 0, 28));
        dir.write("t10k-labels-idx1-ubyte", idx_labels({1, 2}));
        CHECK_THAT(
            message_of<data_error>([&] { data::load_mnist_dir(dir.path(), data::split::test); }),
            Contains("t10k-images-idx3-ubyte: holds images of 0 pixels"));
    }
    SECTION("not a directory") {
        CHECK_THAT(message_of<data_error>(
                       [&] { data::load_mnist_dir(dir / "absent", data::split::train); }),
                   Contains("not a directory"));
    }
}

TEST_CASE("the installed Fashion-MNIST reads completely", "[data][mnist][fashion]") {
    const auto dir = data::fashion_mnist_dir();
    if (!dir) {
        WARN("Fashion-MNIST is not installed (/usr/share/datasets/fashion-mnist): skipped");
        return;
    }
    const data::dataset train = data::load_mnist_dir(*dir, data::split::train);
    const data::dataset test =
        data::load_mnist_dir(*dir, data::split::test, data::image_layout::channels);
    CHECK(train.x.shape() == shape{60000, 784});
    CHECK(test.x.shape() == shape{10000, 1, 28, 28});
    REQUIRE(train.y.size() == 60000);
    REQUIRE(test.y.size() == 10000);
    CHECK(std::vector<std::int32_t>(train.y.begin(), train.y.begin() + 10) ==
          std::vector<std::int32_t>{9, 0, 0, 3, 0, 2, 7, 2, 5, 5});
    CHECK(std::vector<std::int32_t>(test.y.begin(), test.y.begin() + 10) ==
          std::vector<std::int32_t>{9, 2, 1, 1, 6, 1, 4, 6, 5, 7});
    std::vector<std::size_t> counts(10, 0);
    for (std::int32_t l : train.y) {
        REQUIRE((l >= 0 && l < 10));
        ++counts[static_cast<std::size_t>(l)];
    }
    for (std::size_t c : counts)
        CHECK(c == 6000);  // Fashion-MNIST is balanced
    float lo = 1, hi = 0;
    double first = 0;
    for (float v : train.x.span())
        lo = std::min(lo, v), hi = std::max(hi, v);
    for (std::size_t k = 0; k < 784; ++k)
        first += train.x(0, k) * 255.0;
    CHECK(lo == 0.0f);
    CHECK(hi == 1.0f);
    CHECK(first == Approx(76247).margin(0.5));  // the sum of the first image's bytes
    CHECK(data::fashion_mnist_class_names().at(9) == "Ankle boot");
}
