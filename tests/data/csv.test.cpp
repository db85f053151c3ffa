#include <catch2/catch.hpp>

#include <string>

#include "dendrite/data/csv.hpp"
#include "expect_error.hpp"
#include "temp_dir.hpp"

using namespace dendrite;
using Catch::Matchers::Contains;
using test_support::message_of;

namespace {

std::string csv_error(const std::filesystem::path& p, const data::csv_options& o = {}) {
    return message_of<data_error>([&] { data::read_csv(p, o); });
}

}  // namespace

TEST_CASE("CSV features and integer labels", "[data][csv]") {
    test_support::temp_dir dir;
    const auto p = dir.write("simple.csv",
                             "x1,label,x2\n"
                             "1.5,2,-3\n"
                             "  0.25 , 0 ,1e3\n"
                             "\n"
                             "+4,1,\"5\"\n");
    const data::dataset ds = data::read_csv(p);
    REQUIRE(ds.x.shape() == shape{3, 2});
    CHECK(ds.x(0, 0) == 1.5f);
    CHECK(ds.x(0, 1) == -3.0f);
    CHECK(ds.x(1, 0) == 0.25f);
    CHECK(ds.x(1, 1) == 1000.0f);
    CHECK(ds.x(2, 0) == 4.0f);
    CHECK(ds.x(2, 1) == 5.0f);
    CHECK(ds.y == std::vector<std::int32_t>{2, 0, 1});
    CHECK(ds.classes == 3);
    CHECK(ds.class_names.empty());

    SECTION("label by index") {
        const data::dataset by_index = data::read_csv(p, {.label = std::size_t{1}});
        CHECK(by_index.y == ds.y);
    }
    SECTION("another label column") {
        const data::dataset other =
            data::read_csv(p, {.label = std::string("x1"), .delimiter = ','});
        CHECK(other.x.shape() == shape{3, 2});
        CHECK(other.class_names == std::vector<std::string>{"+4", "0.25", "1.5"});
    }
}

TEST_CASE("CSV text labels become sorted class indices", "[data][csv]") {
    test_support::temp_dir dir;
    const auto p = dir.write("iris.csv",
                             "\xEF\xBB\xBFsepal;species;\"petal, width\"\r\n"
                             "5.1;setosa;0.2\r\n"
                             "7.0;\"versi\"\"color\";1.4\r\n"
                             "6.3;virginica;2.5\r\n"
                             "4.9;setosa;0.1\r\n");
    const data::dataset ds = data::read_csv(p, {.label = std::string("species"), .delimiter = ';'});
    CHECK(ds.x.shape() == shape{4, 2});
    CHECK(ds.class_names == std::vector<std::string>{"setosa", "versi\"color", "virginica"});
    CHECK(ds.y == std::vector<std::int32_t>{0, 1, 2, 0});
    CHECK(ds.classes == 3);

    const auto q = dir.write("signs.csv", "x,y\n1,1\n2,-1\n3,1\n");
    const data::dataset signs = data::read_csv(q, {.label = std::string("y")});
    CHECK(signs.class_names == std::vector<std::string>{"-1", "1"});
    CHECK(signs.y == std::vector<std::int32_t>{1, 0, 1});
}

TEST_CASE("a quoted field may span lines; line numbers in errors stay physical", "[data][csv]") {
    test_support::temp_dir dir;
    const auto p = dir.write("multi.csv", "a,label\n1,\"two\nlines\"\n2,z\n3\n");
    CHECK_THAT(csv_error(p), Contains("line 5: expected 2 fields, found 1"));
}

TEST_CASE("bad CSV files give data_error naming the file and the line", "[data][csv][errors]") {
    test_support::temp_dir dir;
    SECTION("wrong field count") {
        std::string text = "a,b,c,d,label\n";
        for (int i = 2; i < 17; ++i)
            text += "1,2,3,4,0\n";
        text += "1,2,3,0\n";
        const auto p = dir.write("count.csv", text);
        CHECK_THAT(csv_error(p),
                   Contains(p.string()) && Contains("line 17: expected 5 fields, found 4"));
    }
    SECTION("not a number") {
        const auto p = dir.write("nan.csv", "x1,x2,label\n1,2,0\n1,abc,1\n");
        CHECK_THAT(csv_error(p),
                   Contains(p.string()) && Contains("line 3, column 'x2': 'abc' is not a number"));
    }
    SECTION("trailing garbage after a number") {
        CHECK_THAT(csv_error(dir.write("g.csv", "x,label\n1.5kg,0\n")),
                   Contains("'1.5kg' is not a number"));
    }
    SECTION("empty feature") {
        CHECK_THAT(csv_error(dir.write("e.csv", "x,y,label\n1,,0\n")),
                   Contains("line 2, column 'y': empty field"));
    }
    SECTION("non-finite feature") {
        CHECK_THAT(csv_error(dir.write("inf.csv", "x,label\ninf,0\n")),
                   Contains("'inf' is not a finite number"));
        CHECK_THAT(csv_error(dir.write("big.csv", "x,label\n1e39,0\n")),
                   Contains("'1e39' is out of range for float"));
        CHECK_THAT(csv_error(dir.write("huge.csv", "x,label\n-1e999,0\n")),
                   Contains("out of range for float"));
        const data::dataset tiny =
            data::read_csv(dir.write("tiny.csv", "x,label\n1e-40,0\n1e-999,1\n"));
        CHECK(tiny.x(0, 0) == static_cast<float>(1e-40));
        CHECK(tiny.x(1, 0) == 0.0f);
    }
    SECTION("empty label") {
        CHECK_THAT(csv_error(dir.write("l.csv", "x,label\n1, \n")),
                   Contains("line 2, column 'label': empty label"));
    }
    SECTION("label column missing") {
        CHECK_THAT(csv_error(dir.write("m.csv", "a,b\n1,2\n")),
                   Contains("no column named 'label'") && Contains("'a', 'b'"));
        CHECK_THAT(csv_error(dir.write("i.csv", "a,b\n1,2\n"), {.label = std::size_t{2}}),
                   Contains("label column index 2 is out of range (the header has 2 columns)"));
    }
    SECTION("empty file, header only, only blank lines") {
        const auto p = dir.write("empty.csv", "");
        CHECK_THAT(csv_error(p), Contains(p.string()) && Contains("empty file"));
        CHECK_THAT(csv_error(dir.write("blank.csv", "\n\n  \n")), Contains("empty file"));
        CHECK_THAT(csv_error(dir.write("header.csv", "x,label\n")), Contains("no data rows"));
    }
    SECTION("no features") {
        CHECK_THAT(csv_error(dir.write("nf.csv", "label\n1\n")), Contains("no feature columns"));
    }
    SECTION("unterminated quote") {
        CHECK_THAT(csv_error(dir.write("q.csv", "x,label\n1,0\n\"2,1\n")),
                   Contains("line 3: unterminated quoted field"));
    }
    SECTION("text after a closing quote") {
        CHECK_THAT(csv_error(dir.write("q2.csv", "x,label\n\"2\"x,1\n")),
                   Contains("line 2: unexpected character 'x'"));
    }
    SECTION("missing file") {
        CHECK_THAT(csv_error(dir / "absent.csv"), Contains("absent.csv: cannot open"));
    }
}
