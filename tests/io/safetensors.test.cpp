#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <string>

#include "../data/expect_error.hpp"
#include "../data/temp_dir.hpp"
#include "dendrite/io/safetensors.hpp"
#include "dendrite/tensor/random.hpp"

using namespace dendrite;
using Catch::Matchers::Contains;
using test_support::message_of;

namespace {

std::string le64(std::uint64_t v) {
    std::string s;
    for (int i = 0; i < 8; ++i)
        s += static_cast<char>((v >> (8 * i)) & 0xFF);
    return s;
}

template <class T>
std::string raw_bytes(std::initializer_list<T> values) {
    std::string s;
    for (T v : values)
        s.append(reinterpret_cast<const char*>(&v), sizeof v);
    return s;
}

/// A file from a header text and a data section, composed the way any writer would.
std::string compose(const std::string& header, const std::string& data) {
    return le64(header.size()) + header + data;
}

std::string load_error(const std::filesystem::path& p) {
    return message_of<io_error>([&] { io::load_safetensors(p); });
}

}  // namespace

TEST_CASE("safetensors round-trip of every dtype and rank", "[io][safetensors]") {
    test_support::temp_dir dir;
    rng g(3);
    const tensor<float> w = normal<float>({3, 5}, 0, 1, g);
    const tensor<double> d = normal<double>({2, 1, 3, 2}, 0, 1, g);
    const tensor<std::int32_t> i32(shape{4}, {-1, 0, 7, 2147483647});
    const tensor<std::int64_t> i64(shape{}, {-9000000000LL});
    const tensor<float> empty(shape{0, 4});
    const tensor<float> strided = w.transpose();  // a view: saved as its row-major copy
    const io::metadata_map meta{{"epoch", "12"}, {"note", "quotes \" and\nnewlines"}};
    const auto path = dir / "model.safetensors";
    io::save_safetensors(
        path, {{"w", w}, {"d", d}, {"i32", i32}, {"i64", i64}, {"empty", empty}, {"wt", strided}},
        meta);

    const std::string bytes = test_support::read_file(path);
    std::uint64_t n = 0;
    std::memcpy(&n, bytes.data(), 8);
    CHECK((8 + n) % 8 == 0);
    CHECK(bytes[8] == '{');
    CHECK(bytes.size() == 8 + n + 15 * 4 + 12 * 8 + 4 * 4 + 8 + 0 + 15 * 4);

    const io::safetensors_file f = io::load_safetensors(path);
    CHECK(f.metadata == meta);
    REQUIRE(f.tensors.size() == 6);
    CHECK(f.tensors[0].first == "w");  // file order is data order
    CHECK(f.tensors[5].first == "wt");
    const auto& w2 = f.get<float>("w");
    CHECK(w2.shape() == w.shape());
    CHECK(std::memcmp(w2.data(), w.data(), w.size() * sizeof(float)) == 0);
    const auto& d2 = f.get<double>("d");
    CHECK(d2.shape() == shape{2, 1, 3, 2});
    CHECK(std::memcmp(d2.data(), d.data(), d.size() * sizeof(double)) == 0);
    CHECK(f.get<std::int32_t>("i32")(3) == 2147483647);
    CHECK(f.get<std::int64_t>("i64").rank() == 0);
    CHECK(f.get<std::int64_t>("i64").item() == -9000000000LL);
    CHECK(f.get<float>("empty").shape() == shape{0, 4});
    const auto& wt = f.get<float>("wt");
    CHECK(wt.shape() == shape{5, 3});
    CHECK(wt(4, 2) == w(2, 4));
    CHECK(io::dtype_name(*f.find("d")) == "F64");
    CHECK(f.find("absent") == nullptr);
    CHECK_THROWS_AS(f.get<float>("absent"), io_error);
    CHECK_THROWS_WITH(f.get<double>("w"), Contains("has dtype F32"));
}

TEST_CASE("a safetensors file composed by hand (another writer) loads", "[io][safetensors]") {
    // Keys in another order, whitespace, metadata last, data in another order than the header,
    // an F64 scalar: nothing our writer would produce, all of it valid.
    const std::string header =
        "{ \"bias\" : {\"dtype\":\"F32\", \"shape\":[2], \"data_offsets\":[24, 32]},\n"
        "  \"weight\": {\"shape\": [2, 2], \"data_offsets\": [0, 16], \"dtype\": \"F32\"},\n"
        "  \"scale\": {\"data_offsets\": [16, 24], \"dtype\": \"F64\", \"shape\": []},\n"
        "  \"__metadata__\": {\"format\": \"pt\"} }    ";
    const std::string data = raw_bytes<float>({1.0f, -2.0f, 3.5f, 0.25f}) +
                             raw_bytes<double>({0.125}) + raw_bytes<float>({10.0f, 20.0f});
    test_support::temp_dir dir;
    const auto path = dir.write("foreign.safetensors", compose(header, data));
    const io::safetensors_file f = io::load_safetensors(path);
    CHECK(f.metadata.at("format") == "pt");
    REQUIRE(f.tensors.size() == 3);
    CHECK(f.tensors[0].first == "weight");
    CHECK(f.tensors[1].first == "scale");
    CHECK(f.tensors[2].first == "bias");
    const auto& w = f.get<float>("weight");
    CHECK(w.shape() == shape{2, 2});
    CHECK(w(0, 1) == -2.0f);
    CHECK(w(1, 0) == 3.5f);
    CHECK(f.get<double>("scale").item() == 0.125);
    CHECK(f.get<float>("bias")(1) == 20.0f);
}

TEST_CASE("bad safetensors files give io_error naming the file and the tensor",
          "[io][safetensors][errors]") {
    test_support::temp_dir dir;
    const std::string ok_data = raw_bytes<float>({1, 2, 3, 4});
    auto file_with = [&](const std::string& name, const std::string& tensor_json,
                         const std::string& data = "") {
        return dir.write(name,
                         compose("{\"t\": " + tensor_json + "}", data.empty() ? ok_data : data));
    };

    SECTION("empty and short files") {
        const auto p = dir.write("empty.safetensors", "");
        CHECK_THAT(load_error(p), Contains(p.string()) && Contains("empty file"));
        CHECK_THAT(load_error(dir.write("short", "abc")), Contains("too short"));
    }
    SECTION("header length beyond the file") {
        const auto p = dir.write("long-header", le64(1000) + "{}");
        CHECK_THAT(load_error(p), Contains("header length 1000 exceeds the 2 bytes"));
    }
    SECTION("a truncated file") {
        const auto p =
            file_with("trunc", "{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}",
                      raw_bytes<float>({1, 2}));
        CHECK_THAT(load_error(p),
                   Contains("tensor 't'") && Contains("extend past the data section of 8 bytes"));
    }
    SECTION("malformed JSON") {
        CHECK_THAT(load_error(dir.write("json", compose("{\"t\": {\"dtype\": ", ""))),
                   Contains("not valid JSON"));
        CHECK_THAT(load_error(dir.write("array", compose("[1, 2]", ""))),
                   Contains("not a JSON object"));
    }
    SECTION("unsupported dtype") {
        const auto p =
            file_with("bf16", "{\"dtype\":\"BF16\",\"shape\":[8],\"data_offsets\":[0,16]}");
        CHECK_THAT(load_error(p), Contains(p.string()) && Contains("tensor 't'") &&
                                      Contains("dtype BF16 is not supported"));
    }
    SECTION("size disagrees with the shape") {
        const auto p =
            file_with("size", "{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,16]}");
        CHECK_THAT(
            load_error(p),
            Contains("tensor 't': data_offsets [0, 16] hold 16 bytes but F32 [2, 3] needs 24"));
    }
    SECTION("offsets reversed") {
        CHECK_THAT(load_error(file_with(
                       "rev", "{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}")),
                   Contains("end before they begin"));
    }
    SECTION("overlapping tensors") {
        const std::string header =
            "{\"a\": {\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
            " \"b\": {\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
        CHECK_THAT(load_error(dir.write("overlap", compose(header, ok_data))),
                   Contains("tensors 'a' [0, 8] and 'b' [4, 12] overlap"));
    }
    SECTION("bad shapes and entries") {
        CHECK_THAT(load_error(file_with(
                       "neg", "{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}")),
                   Contains("is not a list of sizes"));
        CHECK_THAT(
            load_error(file_with(
                "rank5", "{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1],\"data_offsets\":[0,4]}")),
            Contains("rank 5 exceeds the maximum of 4"));
        CHECK_THAT(
            load_error(file_with(
                "huge",
                "{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}")),
            Contains("impossibly large"));
        CHECK_THAT(load_error(file_with("nodtype", "{\"shape\":[1],\"data_offsets\":[0,4]}")),
                   Contains("'dtype'"));
        CHECK_THAT(load_error(file_with("noffs",
                                        "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}")),
                   Contains("'data_offsets' is not a pair"));
        CHECK_THAT(load_error(file_with("notobj", "7")), Contains("entry is not an object"));
        CHECK_THAT(load_error(dir.write("meta", compose("{\"__metadata__\": {\"k\": 1}}", ""))),
                   Contains("metadata 'k' is not a string"));
    }
}

TEST_CASE("save_safetensors refuses bad names and leaves no file", "[io][safetensors][errors]") {
    test_support::temp_dir dir;
    const tensor<float> t(shape{2}, 1.0f);
    const auto p = dir / "bad.safetensors";
    CHECK_THROWS_WITH(io::save_safetensors(p, {{"a", t}, {"a", t}}),
                      Contains("two tensors are named 'a'"));
    CHECK_THROWS_WITH(io::save_safetensors(p, {{"__metadata__", t}}), Contains("reserved"));
    CHECK_THROWS_WITH(io::save_safetensors(p, {{"", t}}), Contains("empty name"));
    CHECK_THROWS_WITH(io::save_safetensors(p, {{"\xff\xfe", t}}), Contains("UTF-8"));
    CHECK(!std::filesystem::exists(p));
    CHECK(std::filesystem::is_empty(dir.path()));
}

TEST_CASE("fuzz: mutated safetensors files load or throw io_error", "[io][safetensors][fuzz]") {
    test_support::temp_dir dir;
    const auto good = dir / "good.safetensors";
    io::save_safetensors(
        good,
        {{"a", tensor<float>(shape{2, 3}, 1.5f)}, {"b", tensor<std::int64_t>(shape{2}, {4, 5})}},
        {{"k", "v"}});
    const std::string base = test_support::read_file(good);
    rng g(5);
    std::size_t rejected = 0;
    for (int iter = 0; iter < 2000; ++iter) {
        std::string s = base;
        const int edits = 1 + static_cast<int>(g.below(3));
        for (int e = 0; e < edits; ++e) {
            const std::string alphabet = "{}[]\":,0123456789 FIabdt_";
            switch (g.below(4)) {
                case 0:
                    s[g.below(s.size())] = alphabet[g.below(alphabet.size())];
                    break;
                case 1:
                    s[g.below(std::min<std::size_t>(s.size(), 8))] =
                        static_cast<char>(g.below(256));
                    break;
                case 2:
                    s.resize(g.below(s.size() + 1));
                    break;
                default:
                    s.insert(g.below(s.size() + 1), 1, alphabet[g.below(alphabet.size())]);
            }
            if (s.empty()) break;
        }
        const auto p = dir.write(std::to_string(iter) + ".safetensors", s);
        try {
            const io::safetensors_file f = io::load_safetensors(p);
            for (const auto& [name, t] : f.tensors)
                CHECK(!name.empty());
        } catch (const io_error&) {
            ++rejected;
        } catch (const std::exception& e) {
            FAIL("iteration " << iter << ": unexpected exception type: " << e.what());
        }
        std::filesystem::remove(p);
    }
    CHECK(rejected > 1000);
}
