// Network pictures: every layer a column, large layers elided, edges between neighbours only.
#include <catch2/catch.hpp>
#include <dendrite/dendrite.hpp>
#include <filesystem>
#include <fstream>

using namespace dendrite;

TEST_CASE("network_dot draws one column per layer and elides large ones", "[io][dot]") {
    const std::string dot =
        io::network_dot({{"input", 3}, {"dense + relu", 20}, {"dense", 2}}, {.max_neurons = 5});
    CHECK(dot.rfind("digraph network {", 0) == 0);
    CHECK(dot.find("label=\"input\\n3\"") != std::string::npos);
    CHECK(dot.find("label=\"dense + relu\\n20\"") != std::string::npos);
    CHECK(dot.find("n1_gap") != std::string::npos);  // 20 neurons shown as 2 + marker + 2
    CHECK(dot.find("n1_19 ") != std::string::npos);
    CHECK(dot.find("n1_10 ") == std::string::npos);
    // 3 * 4 edges into the drawn hidden neurons, 4 * 2 out of them; none to the marker.
    std::size_t edges = 0;
    for (std::size_t at = dot.find("->"); at != std::string::npos; at = dot.find("->", at + 2))
        ++edges;
    CHECK(edges == 3 * 4 + 4 * 2);
    CHECK_THROWS_AS(io::network_dot({}), io_error);
}

TEST_CASE("write_network_dot takes a model and writes its layers", "[io][dot]") {
    auto net = nn::sequential(nn::input<4>, nn::dense<3>, nn::relu, nn::dense<2>);
    const auto path = std::filesystem::temp_directory_path() / "dendrite_net.dot";
    io::write_network_dot(path, net);
    std::ifstream in(path);
    const std::string text((std::istreambuf_iterator<char>(in)), {});
    CHECK(text.find("relu (fused)\\n3") != std::string::npos);
    CHECK(text.find("\\n2\"") != std::string::npos);
    std::filesystem::remove(path);
}
