// A custom layer declaring 128 inputs after a layer giving 64 must not compile.
#include <dendrite/dendrite.hpp>

struct scale_layer {
    static constexpr std::size_t in_features = 128, out_features = 128;
    dendrite::nn::parameter<float> scale{dendrite::shape{128}, "scale"};
    dendrite::var<float> forward(const dendrite::nn::context& ctx, const dendrite::var<float>& x) {
        auto [s] = dendrite::nn::bind(ctx, scale);
        return dendrite::var<float>(x * s);
    }
};

int main() {
    auto net =
        dendrite::nn::sequential(dendrite::nn::input<32>, dendrite::nn::dense<64>, scale_layer{});
    (void)net;
}
