// The activation lab in C++: an activation written as a lambda, its derivatives derived at
// compile time (f'' included), measured, drawn, and trained against the usual ones. The same
// report as `dendrite-lab`, which takes the activations as text instead.
//
//   activation_lab [OUT_DIR] [--quick]     --quick: 2 seeds, 1 epoch, 3000 samples, the MLP only
#include <dendrite/dendrite.hpp>
#include <dendrite/nn/activation_lab.hpp>

#include <cstdio>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

using namespace dendrite;

int main(int argc, char** argv) try {
    std::string out = "activation_lab_out";
    bool quick = false;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--quick")
            quick = true;
        else
            out = arg;
    }

    // A new activation in one line: Mish with a softer negative tail.
    auto soft_mish = [](auto x) { return x * tanh(softplus(0.8 * x)); };

    // 1. Shapes: f, f', f'' and their properties.
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
    std::printf("\nsoft_mish'(x) = %s\n\n", describe(derivative<1>(soft_mish)).c_str());

    // 2. Training: the lambda joins the built-in activations under a name, and the MLP and
    // LeNet train with each for several seeds.
    auto kinds = nn::layer_registry<float>::builtin();
    kinds.add_activation(nn::activation{soft_mish, "soft_mish"});
    train::activation_trial_options options;
    options.log = &std::cout;
    if (quick) {
        options.networks = {train::trial_mlp()};
        options.seeds = 2;
        options.epochs = 1;
        options.train_samples = 3000;
    }
    const data::train_test_data d = data::mnist_or_synthetic("", 1);
    const train::activation_trials trials = train::run_activation_trials(
        d, {"relu", "gelu", "swish", "mish", "soft_mish"}, options, kinds);
    train::write_activation_trials(out, trials);
    std::printf("\n%s", train::activation_trials_report(trials).c_str());
    std::printf("reports and pictures in %s/\n", out.c_str());
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "activation_lab: %s\n", e.what());
    return 1;
}
