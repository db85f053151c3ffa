// A pooling window padded by more than half its size must not compile: the kind's own rule says
// so, with its sentence in the diagnostic.
#include <dendrite/dendrite.hpp>

int main() {
    namespace nn = dendrite::nn;
    auto net =
        nn::sequential(nn::input<1, 8, 8>, nn::max_pool2d<2, nn::pool_options{.padding = 2}>);
    (void)net;
}
