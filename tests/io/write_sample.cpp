// Writes a small safetensors file with known contents, for read_safetensors.py to check with a
// reader that shares no code with ours.
#include <cstdio>
#include <exception>

#include "dendrite/io/safetensors.hpp"

int main(int argc, char** argv) {
    using namespace dendrite;
    if (argc != 2) {
        std::fprintf(stderr, "safetensors_write_sample: usage: safetensors_write_sample OUTPUT\n");
        return 1;
    }
    try {
        tensor<float> weight(shape{2, 3});
        for (std::size_t i = 0; i < 2; ++i)
            for (std::size_t j = 0; j < 3; ++j)
                weight(i, j) = 0.5f * static_cast<float>(i * 3 + j) - 1.0f;
        const tensor<double> bias{0.1, -0.2, 0.3};
        const tensor<std::int32_t> ids(shape{2, 2}, {1, -2, 3, 2147483647});
        const tensor<std::int64_t> step(shape{}, {1234567890123LL});
        io::save_safetensors(argv[1],
                             {{"weight", weight}, {"bias", bias}, {"ids", ids}, {"step", step}},
                             {{"format", "pt"}, {"epoch", "7"}});
    } catch (const std::exception& e) {
        std::fprintf(stderr, "safetensors_write_sample: %s\n", e.what());
        return 1;
    }
    return 0;
}
