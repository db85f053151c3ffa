// The floor: xsimd alone, compiled for the same target. Every dendrite unit pays at least this.
#include <xsimd/xsimd.hpp>

int main() {
    return 0;
}
