// Groups that do not divide the channels must not compile.
#include <dendrite/dendrite.hpp>

int main() {
    namespace nn = dendrite::nn;
    auto net = nn::sequential(nn::input<3, 8, 8>, nn::conv2d<4, 3, nn::conv_options{.groups = 2}>);
    (void)net;
}
