// An LSTM on flat features must not compile: it needs a sequence [steps, features].
#include <dendrite/dendrite.hpp>

int main() {
    namespace nn = dendrite::nn;
    auto net = nn::sequential(nn::input<16>, nn::dense<8>, nn::lstm<8>);
    (void)net;
}
