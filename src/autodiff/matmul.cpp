// The shapes of matmul: matrices, batches and their broadcasting, checked once per call.
#include "dendrite/autodiff/matmul.hpp"

namespace dendrite::inline DENDRITE_TARGET::detail {

namespace {

[[noreturn]] void fail(const shape& a, bool ta, const shape& b, bool tb, const std::string& why) {
    throw shape_error("matmul: shapes " + a.str() + (ta ? "^T" : "") + " and " + b.str() +
                      (tb ? "^T" : "") + " " + why);
}

}  // namespace

matmul_plan plan_matmul(const shape& a, const shape& b, bool transpose_a, bool transpose_b) {
    const std::size_t ra = a.rank(), rb = b.rank();
    if (ra < 2 || ra > 4 || rb < 2 || rb > 4)
        fail(a, transpose_a, b, transpose_b,
             "cannot be multiplied: each operand needs rank 2 to 4 (matrices, or batches of them)");
    matmul_plan p;
    matmul_geometry& g = p.geo;
    g.transpose_a = transpose_a;
    g.transpose_b = transpose_b;
    g.lda = a[ra - 1];
    g.ldb = b[rb - 1];
    g.m = transpose_a ? a[ra - 1] : a[ra - 2];
    g.k = transpose_a ? a[ra - 2] : a[ra - 1];
    const std::size_t kb = transpose_b ? b[rb - 1] : b[rb - 2];
    g.n = transpose_b ? b[rb - 2] : b[rb - 1];
    if (g.k != kb)
        fail(a, transpose_a, b, transpose_b,
             "do not chain (" + std::to_string(g.k) + " vs " + std::to_string(kb) + ")");

    // Leading axes, right-aligned and padded with 1 to two: [d0, d1].
    const std::size_t batch_rank = std::max(ra, rb) - 2;
    std::size_t ad[2] = {1, 1}, bd[2] = {1, 1}, cd[2] = {1, 1};
    for (std::size_t i = 0; i + 2 < ra; ++i)
        ad[2 - (ra - 2) + i] = a[i];
    for (std::size_t i = 0; i + 2 < rb; ++i)
        bd[2 - (rb - 2) + i] = b[i];
    matmul_batch& bt = p.bt;
    std::size_t a_stride = g.m * g.k, b_stride = g.k * g.n;  // elements per matrix
    for (std::size_t d = 2; d-- > 0;) {
        if (ad[d] != bd[d] && ad[d] != 1 && bd[d] != 1)
            fail(a, transpose_a, b, transpose_b,
                 "have leading axes that do not broadcast (" + std::to_string(ad[d]) + " vs " +
                     std::to_string(bd[d]) + ")");
        cd[d] = ad[d] == 1 ? bd[d] : ad[d];  // an extent of 1 takes the other's, 0 included
        bt.a_step[d] = ad[d] == 1 ? 0 : a_stride;
        bt.b_step[d] = bd[d] == 1 ? 0 : b_stride;
        bt.a_shared = bt.a_shared || (ad[d] == 1 && cd[d] > 1);
        bt.b_shared = bt.b_shared || (bd[d] == 1 && cd[d] > 1);
        a_stride *= ad[d];
        b_stride *= bd[d];
    }
    bt.inner = cd[1];
    bt.count = cd[0] * cd[1];

    std::size_t out[4], r = 0;
    for (std::size_t d = 2 - batch_rank; d < 2; ++d)
        out[r++] = cd[d];
    out[r++] = g.m;
    out[r++] = g.n;
    p.out = shape(out, out + r);

    // One right matrix for the whole batch, and a left operand of stacked matrices: the batch is
    // one product of count m rows.
    if (bt.count > 1 && rb == 2 && !transpose_a && !bt.a_shared) {
        g.m *= bt.count;
        bt = matmul_batch{};
    }
    return p;
}

}  // namespace dendrite::inline DENDRITE_TARGET::detail
