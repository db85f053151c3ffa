// A statement list reading a temporary register before any statement assigns it must not
// compile: the temporary would hold nothing yet.
#include <dendrite/expr/statements.hpp>

int main() {
    dendrite::tensor<float> w({3}, 1.0f);
    auto [rw, t] = dendrite::expr::hold(w, dendrite::expr::temporary);
    dendrite::expr::run(dendrite::expr::assign(rw, rw + t), dendrite::expr::assign(t, rw));
}
