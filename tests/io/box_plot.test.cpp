// Box plots: the five numbers against numpy's quantiles, and what the picture holds.
#include "../support/text.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "dendrite/io/box_plot.hpp"

using namespace dendrite;

using dendrite::testing::count_occurrences;

TEST_CASE("box summaries interpolate quartiles as numpy does", "[io][box_plot]") {
    // numpy.percentile(v, [25, 50, 75]) with its default (linear) method.
    const io::box_summary four = io::summarize_box(std::vector<double>{4, 1, 3, 2});
    CHECK(four.first_quartile == 1.75);
    CHECK(four.median == 2.5);
    CHECK(four.third_quartile == 3.25);
    CHECK(four.lower_whisker == 1);
    CHECK(four.upper_whisker == 4);

    const io::box_summary one = io::summarize_box(std::vector<double>{0.87});
    CHECK(one.lower_whisker == 0.87);
    CHECK(one.median == 0.87);
    CHECK(one.upper_whisker == 0.87);

    // 100 lies beyond Q3 + 1.5 IQR = 4 + 3: the whisker stops at 4.
    const io::box_summary outlier = io::summarize_box(std::vector<double>{1, 2, 3, 4, 100});
    CHECK(outlier.first_quartile == 2);
    CHECK(outlier.median == 3);
    CHECK(outlier.third_quartile == 4);
    CHECK(outlier.upper_whisker == 4);
    CHECK(outlier.lower_whisker == 1);

    // Seven values: quartiles at positions 1.5 and 4.5.
    const io::box_summary seven = io::summarize_box(std::vector<double>{7, 1, 6, 2, 5, 3, 4});
    CHECK(seven.first_quartile == 2.5);
    CHECK(seven.third_quartile == 5.5);

    CHECK_THROWS_WITH(io::summarize_box(std::vector<double>{}), Catch::Contains("no values"));
}

TEST_CASE("a box chart draws a box per group and a dot per value", "[io][box_plot]") {
    io::box_chart chart;
    chart.title = "accuracy & <spread>";
    chart.panels.push_back({"MLP",
                            "accuracy (%)",
                            {{"relu", {88.1, 88.4, 87.9, 88.0, 88.3}, "#1f77b4"},
                             {"gelu", {88.6, 88.2, 88.9}, "#e8590c"},
                             {"none", {}, "#2ca02c"}}});
    chart.panels.push_back({"LeNet", "accuracy (%)", {{"relu", {85.0}, "#1f77b4"}}});
    const std::string svg = io::box_chart_svg(chart);
    CHECK(svg.find("accuracy &amp; &lt;spread&gt;") != std::string::npos);
    CHECK(count_occurrences(svg, "<circle") == 9);
    CHECK(count_occurrences(svg, "fill-opacity=\"0.25\"") == 3);  // an empty group has no box
    CHECK(svg.find(">none</text>") != std::string::npos);
    CHECK(svg.rfind("</svg>\n") == svg.size() - 7);

    chart.panels[1].groups[0].values.push_back(std::numeric_limits<double>::quiet_NaN());
    CHECK_THROWS_WITH(io::box_chart_svg(chart), Catch::Contains("group 'relu' holds nan"));
}
