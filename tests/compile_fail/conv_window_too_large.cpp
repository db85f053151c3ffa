// A window larger than what is left of the image must not compile.
#include <dendrite/dendrite.hpp>

int main() {
    namespace nn = dendrite::nn;
    auto net = nn::sequential(nn::input<1, 12, 12>, nn::conv2d<6, 5>, nn::max_pool2d<2>,
                              nn::conv2d<16, 5>, nn::flatten, nn::dense<10>);
    (void)net;
}
