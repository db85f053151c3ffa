// An expression over tensor<float> and tensor<double> must not compile.
#include <dendrite/dendrite.hpp>

int main() {
    dendrite::tensor<float> a({3}, 1.0f);
    dendrite::tensor<double> b({3}, 1.0);
    auto e = a + b;
    (void)e;
}
