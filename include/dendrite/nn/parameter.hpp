#include "dendrite/tensor/parameter.hpp"  // the type lives below optim/ and nn/ alike
