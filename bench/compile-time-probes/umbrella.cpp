// The umbrella header alone: what every program that includes <dendrite/dendrite.hpp> pays before
// its own code.
#include <dendrite/dendrite.hpp>

int main() {
    return 0;
}
