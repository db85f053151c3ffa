// Compiled against the library twice by target_check.sh: with the library's flags it links and
// prints the target; for another target it must fail to link, naming both targets.
#include <cstdio>
#include <dendrite/simd/parallel.hpp>

#define TARGET_PROBE_STR_(x) #x
#define TARGET_PROBE_STR(x) TARGET_PROBE_STR_(x)

int main() {
    std::printf("%s %d\n", TARGET_PROBE_STR(DENDRITE_TARGET), dendrite::num_threads() > 0);
    return 0;
}
