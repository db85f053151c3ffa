// A residual block whose body changes the number of features must not compile.
#include <dendrite/dendrite.hpp>

int main() {
    auto net = dendrite::nn::sequential(dendrite::nn::input<16>,
                                        dendrite::nn::residual(dendrite::nn::dense<8>));
    (void)net;
}
