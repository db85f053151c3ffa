// dendrite-lab: the shape of activation functions, by name or written out, with their derived
// derivatives as formulas, a properties table and one picture each.
//
//   dendrite-lab [--act NAME_OR_EXPRESSION]... [--from X] [--to X] [--points N] [--out DIR]
//
// e.g. dendrite-lab --act relu --act gelu --act "x * tanh(softplus(x))" --out lab_out
#include <dendrite/nn/activation_expression.hpp>
#include <dendrite/nn/activation_lab.hpp>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

using namespace dendrite;

int main(int argc, char** argv) try {
    CLI::App app{"Profile activation functions: f, f', f'' as derived, their properties and plots"};
    std::vector<std::string> acts;
    nn::lab_range range;
    std::string out = "dendrite_lab_out";
    app.add_option("--act", acts,
                   "a built-in activation's name or an expression in x, e.g. "
                   "\"x * tanh(softplus(x))\" (repeatable; default: relu gelu swish mish)");
    app.add_option("--from", range.from, "left end of the plotted range")->capture_default_str();
    app.add_option("--to", range.to, "right end of the plotted range")->capture_default_str();
    app.add_option("--points", range.points, "samples over the range")->capture_default_str();
    app.add_option("--out", out, "folder for the report and the pictures")->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    if (acts.empty()) acts = {"relu", "gelu", "swish", "mish"};

    std::vector<nn::activation_profile> profiles;
    for (const std::string& a : acts)
        profiles.push_back(nn::profile_activation(nn::activation_expression(a), a, range));
    nn::write_activation_lab(out, profiles);

    for (const nn::activation_profile& p : profiles) {
        std::printf("%s\n  f(x)   = %s\n  f'(x)  = %s\n  f''(x) = %s\n", p.name.c_str(),
                    p.formulas[0].c_str(), p.formulas[1].c_str(), p.formulas[2].c_str());
        std::printf(
            "  f(0) = %.4g, f'(0) = %.4g, E f(z) = %.4g, E f(z)^2 = %.4g, E f'(z)^2 = %.4g, "
            "init gain %.4g\n",
            p.value_at_0, p.slope_at_0, p.gaussian_mean, p.gaussian_second_moment,
            p.gaussian_slope_moment, p.init_gain);
    }
    std::printf("report and pictures in %s: activations.md, one .svg per activation\n",
                out.c_str());
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "dendrite-lab: %s\n", e.what());
    return 1;
}
