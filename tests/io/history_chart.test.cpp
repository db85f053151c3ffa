#include "../support/text.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "../data/expect_error.hpp"
#include "../data/temp_dir.hpp"
#include "dendrite/io/csv_history.hpp"
#include "dendrite/io/svg_chart.hpp"

using namespace dendrite;
using Catch::Matchers::Contains;

using dendrite::testing::count_occurrences;

namespace {

io::epoch_record record(std::size_t e, bool validation = true) {
    io::epoch_record r;
    r.epoch = e;
    r.train_loss = 2.0 / static_cast<double>(e + 1);
    r.train_acc = 1.0 - 0.5 / static_cast<double>(e + 1);
    if (validation) {
        r.val_loss = r.train_loss * 1.1;
        r.val_acc = r.train_acc - 0.02;
    }
    r.lr = 1e-3;
    r.seconds = 1.25;
    return r;
}

}  // namespace

TEST_CASE("csv_history writes one row per epoch and resumes", "[io][history]") {
    test_support::temp_dir dir;
    const auto path = dir / "history.csv";
    {
        io::csv_history h(path);
        h.append(record(1));
        h.append(record(2, false));
    }
    const std::string text = test_support::read_file(path);
    CHECK(text.rfind(std::string(io::history_header) + "\n1,1,0.75,1.1,0.73,0.001,1.25\n", 0) == 0);
    CHECK_THAT(text, Contains("\n2,0.66666667,0.83333333,,,0.001,1.25\n"));

    const auto back = io::read_history(path);
    REQUIRE(back.size() == 2);
    CHECK(back[0].val_acc == Approx(0.73));
    CHECK(std::isnan(back[1].val_loss));

    io::csv_history resumed(path, /*resume=*/true);
    CHECK(resumed.records().size() == 2);
    resumed.append(record(3));
    CHECK(io::read_history(path).size() == 3);
    resumed.append(
        record(2));  // restarted from the checkpoint of epoch 1: rows 2 and 3 are replaced
    const auto replaced = io::read_history(path);
    REQUIRE(replaced.size() == 2);
    CHECK(replaced[1].epoch == 2);
    CHECK(!std::isnan(replaced[1].val_loss));

    io::csv_history fresh(path);
    fresh.append(record(1));
    CHECK(io::read_history(path).size() == 1);

    const auto bad = dir.write("bad.csv", std::string(io::history_header) + "\n1,2,3\n");
    CHECK_THAT(test_support::message_of<io_error>([&] { io::read_history(bad); }),
               Contains("bad.csv: line 2: expected 7 fields, found 3"));
    CHECK_THROWS_AS(io::csv_history(dir.write("other.csv", "a,b\n"), true), io_error);
}

TEST_CASE("the training chart is a complete two-panel SVG", "[io][chart]") {
    std::vector<io::epoch_record> records;
    for (std::size_t e = 1; e <= 12; ++e)
        records.push_back(record(e));
    records[4].val_loss = io::epoch_record::none;  // a gap in the validation curve
    const std::string svg =
        io::training_chart_svg(records, {.title = "MLP <784-128-10> & friends"});
    CHECK(svg.rfind("<?xml", 0) == 0);
    CHECK_THAT(svg, Contains("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    CHECK_THAT(svg, Contains("MLP &lt;784-128-10&gt; &amp; friends"));
    CHECK_THAT(svg, Contains(">Loss<") && Contains(">Accuracy<") && Contains(">epoch<") &&
                        Contains("accuracy (%)"));
    CHECK_THAT(svg, Contains(">training<") && Contains(">validation<"));
    CHECK(count_occurrences(svg, "<path ") == 4);  // train and validation in each panel
    CHECK(count_occurrences(svg, "<circle ") == 4 * 12 - 1);
    CHECK(count_occurrences(svg, "<g>") == count_occurrences(svg, "</g>"));
    CHECK(count_occurrences(svg, "<text") == count_occurrences(svg, "</text>"));
    CHECK(svg.find("</svg>") == svg.size() - 7);
    CHECK(svg.find("nan") == std::string::npos);
    CHECK(svg.find("inf") == std::string::npos);
    const std::size_t gap_path = svg.find("stroke-dasharray=\"7 4\"/>");
    CHECK(gap_path != std::string::npos);

    // Degenerate inputs still give a valid picture.
    for (const auto& few :
         {std::vector<io::epoch_record>{}, std::vector<io::epoch_record>{record(1, false)}}) {
        const std::string s = io::training_chart_svg(few);
        CHECK(s.find("nan") == std::string::npos);
        CHECK(s.find("</svg>") != std::string::npos);
    }

    test_support::temp_dir dir;
    io::write_training_chart(dir / "curves.svg", records);
    CHECK(test_support::read_file(dir / "curves.svg") == io::training_chart_svg(records));
}
