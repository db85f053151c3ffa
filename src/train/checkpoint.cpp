#include "dendrite/train/checkpoint.hpp"
#include "dendrite/config.hpp"

#include <cinttypes>
#include <cstdio>
#include <cstring>

namespace dendrite::inline DENDRITE_TARGET::train {

std::string rng_state_text(const rng::state_type& s) {
    std::uint64_t spare_bits = 0;
    std::memcpy(&spare_bits, &s.spare, sizeof spare_bits);
    char buf[160];
    std::snprintf(buf, sizeof buf,
                  "%016" PRIx64 " %016" PRIx64 " %016" PRIx64 " %016" PRIx64 " %016" PRIx64 " %d",
                  s.s[0], s.s[1], s.s[2], s.s[3], spare_bits, s.has_spare ? 1 : 0);
    return buf;
}

rng::state_type parse_rng_state(const std::string& text) {
    rng::state_type s{};
    std::uint64_t spare_bits = 0;
    int has_spare = 0;
    if (std::sscanf(text.c_str(), "%" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64 " %d",
                    &s.s[0], &s.s[1], &s.s[2], &s.s[3], &spare_bits, &has_spare) != 6)
        throw io_error("checkpoint: bad generator state '" + text + "'");
    std::memcpy(&s.spare, &spare_bits, sizeof spare_bits);
    s.has_spare = has_spare != 0;
    return s;
}

}  // namespace dendrite::inline DENDRITE_TARGET::train
