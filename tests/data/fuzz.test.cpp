// Randomised robustness: thousands of mutated, truncated and extended IDX and CSV inputs must
// each either load consistently or throw data_error; never crash, hang or throw anything else.
// Seeded, so a failure reproduces; run under ASan and UBSan in CI.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "dendrite/data/csv.hpp"
#include "dendrite/data/idx.hpp"
#include "dendrite/tensor/random.hpp"
#include "idx_files.hpp"
#include "temp_dir.hpp"

using namespace dendrite;

namespace {

/// Applies 1-3 random edits: byte flips, header overwrites, truncation, insertion, extension.
std::string mutate(std::string s, rng& g, const std::string& alphabet = "") {
    const int edits = 1 + static_cast<int>(g.below(3));
    auto random_char = [&] {
        if (!alphabet.empty() && g.uniform() < 0.8) return alphabet[g.below(alphabet.size())];
        return static_cast<char>(g.below(256));
    };
    for (int e = 0; e < edits; ++e) {
        switch (g.below(6)) {
            case 0:  // flip a byte anywhere
                if (!s.empty()) s[g.below(s.size())] = random_char();
                break;
            case 1:  // overwrite a byte of the first 16 (IDX magic and extents)
                if (!s.empty())
                    s[g.below(std::min<std::size_t>(16, s.size()))] =
                        static_cast<char>(g.below(256));
                break;
            case 2:  // truncate
                s.resize(g.below(s.size() + 1));
                break;
            case 3:  // insert
                s.insert(g.below(s.size() + 1), 1 + g.below(4), random_char());
                break;
            case 4:  // append
                s.append(1 + g.below(8), random_char());
                break;
            default:  // delete a range
                if (!s.empty()) {
                    const std::size_t at = g.below(s.size());
                    s.erase(at, 1 + g.below(8));
                }
        }
    }
    return s;
}

}  // namespace

TEST_CASE("fuzz: mutated IDX files load consistently or throw data_error", "[data][idx][fuzz]") {
    test_support::temp_dir dir;
    rng g(20240601);
    std::size_t loaded = 0, rejected = 0;
    for (int iter = 0; iter < 3000; ++iter) {
        const bool labels = g.uniform() < 0.4;
        std::string raw =
            labels
                ? test_support::idx_labels({1, 0, 7, 9, 3, static_cast<std::uint8_t>(g.below(12))})
                : test_support::idx_images(static_cast<std::uint32_t>(1 + g.below(4)),
                                           static_cast<std::uint32_t>(1 + g.below(5)),
                                           static_cast<std::uint32_t>(1 + g.below(5)));
        std::string bytes;
        switch (g.below(4)) {
            case 0:
                bytes = mutate(raw, g);
                break;  // raw file, corrupted
            case 1:
                bytes = test_support::gzip(mutate(raw, g));
                break;  // valid gzip of a corrupt file
            case 2:
                bytes = mutate(test_support::gzip(raw), g);
                break;  // corrupt gzip stream
            default:
                bytes = g.uniform() < 0.5 ? raw : test_support::gzip(raw);  // intact
        }
        std::string name = std::to_string(iter);
        if (g.uniform() < 0.5) name += ".gz";
        const auto path = dir.write(name, bytes);
        try {
            if (labels) {
                const auto y = data::read_idx_labels(path);
                for (std::int32_t l : y)
                    REQUIRE((l >= 0 && l < 10));
            } else {
                const tensor<float> x = data::read_idx_images(path);
                REQUIRE(x.rank() == 2);
                for (float v : x.span())
                    REQUIRE((v >= 0.0f && v <= 1.0f));
            }
            ++loaded;
        } catch (const data_error&) {
            ++rejected;
        } catch (const std::exception& e) {
            FAIL("iteration " << iter << ": unexpected exception type: " << e.what());
        }
        std::filesystem::remove(path);
    }
    INFO("loaded " << loaded << ", rejected " << rejected);
    CHECK(loaded > 100);
    CHECK(rejected > 1000);
}

TEST_CASE("fuzz: mutated CSV files load consistently or throw data_error", "[data][csv][fuzz]") {
    test_support::temp_dir dir;
    rng g(77);
    const std::string base =
        "a,b,label,c\n"
        "1.5,-2,0,3e2\n"
        "\"4\",5.25, 1 ,6\n"
        "7,8,2,\"9\"\n"
        "0.1,0.2,1,0.3\n";
    std::size_t loaded = 0, rejected = 0;
    for (int iter = 0; iter < 3000; ++iter) {
        const std::string text = mutate(base, g, ",\n\r\"; \t0123456789.-+eEabc");
        const auto path = dir.write(std::to_string(iter) + ".csv", text);
        data::csv_options options;
        if (g.uniform() < 0.3) options.label = std::size_t{g.below(5)};
        try {
            const data::dataset ds = data::read_csv(path, options);
            REQUIRE(ds.x.rank() == 2);
            REQUIRE(ds.x.dim(0) == ds.y.size());
            REQUIRE(ds.size() > 0);
            for (std::int32_t l : ds.y)
                REQUIRE((l >= 0 && static_cast<std::size_t>(l) < ds.classes));
            for (float v : ds.x.span())
                REQUIRE(std::isfinite(v));
            ++loaded;
        } catch (const data_error&) {
            ++rejected;
        } catch (const std::exception& e) {
            FAIL("iteration " << iter << ": unexpected exception type: " << e.what());
        }
        std::filesystem::remove(path);
    }
    INFO("loaded " << loaded << ", rejected " << rejected);
    CHECK(loaded > 300);
    CHECK(rejected > 1000);
}
