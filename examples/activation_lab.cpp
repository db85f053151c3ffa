// The activation lab in C++: activations written as lambdas, their derivatives derived at compile
// time (f'' included), measured and drawn. The same report as `dendrite-lab`, which takes the
// activations as text instead.
#include <dendrite/dendrite.hpp>
#include <dendrite/nn/activation_lab.hpp>

#include <cstdio>
#include <exception>
#include <vector>

using namespace dendrite;

int main(int argc, char** argv) try {
    const char* out = argc > 1 ? argv[1] : "activation_lab_out";

    // A new activation in one line: Mish with a softer negative tail.
    auto soft_mish = [](auto x) { return x * tanh(softplus(0.8 * x)); };

    std::vector<nn::activation_profile> profiles;
    profiles.push_back(nn::profile_activation(nn::relu, "relu"));
    profiles.push_back(nn::profile_activation(nn::gelu, "gelu"));
    profiles.push_back(nn::profile_activation(nn::swish, "swish"));
    profiles.push_back(nn::profile_activation(nn::mish, "mish"));
    profiles.push_back(nn::profile_activation(soft_mish, "soft_mish"));
    nn::write_activation_lab(out, profiles);

    // Derivatives of any order, fused: f and its first three derivatives at a few points.
    std::printf("%8s %12s %12s %12s %12s\n", "x", "f", "f'", "f''", "f'''");
    for (double x : {-2.0, -0.5, 0.0, 0.5, 2.0}) {
        const auto d = value_and_derivatives<3>(soft_mish, x);
        std::printf("%8.2f %12.6f %12.6f %12.6f %12.6f\n", x, d[0], d[1], d[2], d[3]);
    }
    std::printf("\nsoft_mish'(x) = %s\n", describe(derivative<1>(soft_mish)).c_str());
    std::printf("report and pictures in %s/\n", out);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "activation_lab: %s\n", e.what());
    return 1;
}
