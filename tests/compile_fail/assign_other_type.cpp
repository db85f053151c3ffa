// Evaluating a float expression into a tensor<double> must not compile.
#include <dendrite/dendrite.hpp>

int main() {
    dendrite::tensor<float> a({3}, 1.0f);
    dendrite::tensor<double> y({3});
    y = a * 2.0f;
}
