// A dense layer straight after a convolution must not compile: the image needs nn::flatten.
#include <dendrite/dendrite.hpp>

int main() {
    namespace nn = dendrite::nn;
    auto net = nn::sequential(nn::input<1, 28, 28>, nn::conv2d<6, 5>, nn::relu, nn::dense<10>);
    (void)net;
}
