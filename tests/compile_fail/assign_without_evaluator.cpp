// Assigning an expression (here a tensor) to a tensor where the evaluator is not included must
// fail to compile with the header to include (it used to compile and then fail to link).
#include <dendrite/tensor/tensor.hpp>

int main() {
    dendrite::tensor<float> a({3}, 1.0f);
    dendrite::tensor<float> y({3});
    y.assign(a);
}
