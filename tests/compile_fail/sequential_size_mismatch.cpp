// A stated input size that differs from the previous layer's output must not compile.
#include <dendrite/dendrite.hpp>

int main() {
    auto net = dendrite::nn::sequential(dendrite::nn::input<784>, dendrite::nn::dense<256>,
                                        dendrite::nn::relu, dendrite::nn::linear<200, 10>);
    (void)net;
}
