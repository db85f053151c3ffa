#include "dendrite/data/synthetic.hpp"
#include "dendrite/config.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include "dendrite/tensor/random.hpp"

namespace dendrite::inline DENDRITE_TARGET::data {

namespace {

constexpr std::size_t side = 28;

struct point {
    double x, y;
};

// Seven-segment strokes in glyph coordinates (x right, y down, both in [0, 1]):
// a top, b upper right, c lower right, d bottom, e lower left, f upper left, g middle.
constexpr std::array<std::array<point, 2>, 7> segments{{
    {{{0, 0}, {1, 0}}},
    {{{1, 0}, {1, 0.5}}},
    {{{1, 0.5}, {1, 1}}},
    {{{0, 1}, {1, 1}}},
    {{{0, 0.5}, {0, 1}}},
    {{{0, 0}, {0, 0.5}}},
    {{{0, 0.5}, {1, 0.5}}},
}};

// Bit k set: segment k (a = bit 0 ... g = bit 6) is lit in that digit.
constexpr std::array<unsigned, 10> digit_segments{
    0b0111111,  // 0: abcdef
    0b0000110,  // 1: bc
    0b1011011,  // 2: abdeg
    0b1001111,  // 3: abcdg
    0b1100110,  // 4: bcfg
    0b1101101,  // 5: acdfg
    0b1111101,  // 6: acdefg
    0b0000111,  // 7: abc
    0b1111111,  // 8: all
    0b1101111,  // 9: abcdfg
};

double distance_to_segment(point p, point a, point b) {
    const double vx = b.x - a.x, vy = b.y - a.y;
    const double len2 = vx * vx + vy * vy;
    double t = len2 > 0 ? ((p.x - a.x) * vx + (p.y - a.y) * vy) / len2 : 0.0;
    t = std::clamp(t, 0.0, 1.0);
    const double dx = p.x - (a.x + t * vx), dy = p.y - (a.y + t * vy);
    return std::sqrt(dx * dx + dy * dy);
}

void draw_digit(int digit, rng& g, float* image) {
    // Per-image pose: the glyph box, its centre, slant and rotation.
    const double width = g.uniform(9.0, 14.0), height = g.uniform(15.0, 20.0);
    const double cx = 14.0 + g.uniform(-3.0, 3.0), cy = 14.0 + g.uniform(-2.5, 2.5);
    const double slant = g.uniform(-0.25, 0.25);
    const double angle = g.uniform(-0.2, 0.2);
    const double cs = std::cos(angle), sn = std::sin(angle);
    const double half_width = g.uniform(0.8, 1.9);
    const double ink = g.uniform(0.75, 1.0);
    auto to_pixels = [&](point q) {
        const double x = (q.x - 0.5) * width + slant * (0.5 - q.y) * height;
        const double y = (q.y - 0.5) * height;
        return point{cx + cs * x - sn * y, cy + sn * x + cs * y};
    };

    unsigned lit = digit_segments[static_cast<std::size_t>(digit)];
    // Now and then a stroke is missing, as in hurried handwriting: this keeps the task from being
    // perfectly separable.
    if (g.uniform() < 0.03) lit &= ~(1u << g.below(7));

    std::array<std::array<point, 2>, 7> strokes{};
    std::size_t count = 0;
    for (std::size_t s = 0; s < segments.size(); ++s) {
        if (!(lit & (1u << s))) continue;
        for (std::size_t e = 0; e < 2; ++e) {
            point q = segments[s][e];
            q.x += g.normal(0.0, 0.05);
            q.y += g.normal(0.0, 0.035);
            strokes[count][e] = to_pixels(q);
        }
        ++count;
    }

    // A faint blob somewhere, unrelated to the class.
    const bool blob = g.uniform() < 0.5;
    const point blob_at{g.uniform(3.0, 25.0), g.uniform(3.0, 25.0)};
    const double blob_sigma = g.uniform(1.2, 3.0), blob_amp = g.uniform(0.15, 0.45);

    for (std::size_t r = 0; r < side; ++r)
        for (std::size_t c = 0; c < side; ++c) {
            const point p{static_cast<double>(c) + 0.5, static_cast<double>(r) + 0.5};
            double v = 0;
            for (std::size_t s = 0; s < count; ++s) {
                const double d = distance_to_segment(p, strokes[s][0], strokes[s][1]);
                v = std::max(v, std::clamp(half_width + 0.5 - d, 0.0, 1.0));
            }
            v *= ink;
            if (blob) {
                const double dx = p.x - blob_at.x, dy = p.y - blob_at.y;
                v = std::max(
                    v, blob_amp * std::exp(-(dx * dx + dy * dy) / (2 * blob_sigma * blob_sigma)));
            }
            v += g.normal(0.0, 0.06);
            image[r * side + c] = static_cast<float>(std::clamp(v, 0.0, 1.0));
        }
}

}  // namespace

dataset synthetic_digits(std::size_t n, std::uint64_t seed, image_layout layout) {
    rng g(seed);
    dataset ds;
    ds.x = tensor<float>::uninitialized(layout == image_layout::flat
                                            ? dendrite::shape{n, side * side}
                                            : dendrite::shape{n, 1, side, side});
    ds.y.resize(n);
    // Balanced classes in a random order.
    for (std::size_t i = 0; i < n; ++i)
        ds.y[i] = static_cast<std::int32_t>(i % 10);
    for (std::size_t i = n; i > 1; --i)
        std::swap(ds.y[i - 1], ds.y[g.below(i)]);
    for (std::size_t i = 0; i < n; ++i)
        draw_digit(ds.y[i], g, ds.x.data() + i * side * side);
    ds.classes = 10;
    for (int k = 0; k < 10; ++k)
        ds.class_names.push_back(std::to_string(k));
    return ds;
}

}  // namespace dendrite::inline DENDRITE_TARGET::data
