#pragma once
// Loop planning: maps every leaf of an expression onto one 4-d loop over the output shape.
//
// Each leaf gets strides in the output's index space (0 along broadcast axes). Adjacent axes that
// every leaf traverses linearly are then merged, so a contiguous expression of any rank becomes a
// single flat loop and a row-vector broadcast onto a matrix becomes rows x columns.

#include <array>
#include <cstddef>

#include "dendrite/config.hpp"
#include "dendrite/tensor/shape.hpp"
#include "dendrite/tensor/tensor.hpp"

namespace dendrite::inline DENDRITE_TARGET::expr {

/// The loop one evaluation runs: dims[0..2] are outer rows, dims[3] the vectorised inner axis.
template <std::size_t N>
struct loop_plan {
    std::array<std::size_t, max_rank> dims{1, 1, 1, 1};
    std::array<strides_t, N> strides{};
    /// Every leaf is traversed with unit stride in a single flat loop.
    bool contiguous = false;

    std::size_t rows() const noexcept { return dims[0] * dims[1] * dims[2]; }
    std::size_t size() const noexcept { return rows() * dims[3]; }
};

/// Strides of a leaf of shape `ls` / strides `lst` read at the indices of output shape `out`,
/// right-aligned to rank 4; zero along broadcast axes.
inline strides_t broadcast_strides(const shape& out, const shape& ls,
                                   const strides_t& lst) noexcept {
    strides_t s{0, 0, 0, 0};
    for (std::size_t k = 0; k < ls.rank(); ++k) {
        const std::size_t leaf_axis = ls.rank() - 1 - k;
        if (ls[leaf_axis] != 1 || out.from_back(k) == 1) s[max_rank - 1 - k] = lst[leaf_axis];
    }
    return s;
}

/// Plans the loop over `out` for leaves given as (shape, strides) pairs; `merge` = false keeps the
/// axes as they are (reductions need them).
template <std::size_t N>
loop_plan<N> plan_loop(const shape& out, const std::array<const shape*, N>& leaf_shapes,
                       const std::array<const strides_t*, N>& leaf_strides, bool merge = true) {
    loop_plan<N> p;
    // The common case, every leaf of the output's shape and row-major: one flat loop, without
    // the general walk (which showed in profiles of small models, where it runs once per node).
    const auto row_major = [&](const shape& ls, const strides_t& st) {
        if (!(ls == out)) return false;
        std::ptrdiff_t expected = 1;
        for (std::size_t a = ls.rank(); a-- > 0;) {
            if (st[a] != expected && ls[a] != 1) return false;
            expected *= static_cast<std::ptrdiff_t>(ls[a]);
        }
        return true;
    };
    bool flat = merge && out.size() > 0;
    for (std::size_t l = 0; l < N && flat; ++l)
        flat = row_major(*leaf_shapes[l], *leaf_strides[l]);
    if (flat) {
        p.dims[max_rank - 1] = out.size();
        for (std::size_t l = 0; l < N; ++l)
            p.strides[l][max_rank - 1] = 1;
        p.contiguous = true;
        return p;
    }
    std::array<std::size_t, max_rank> d{1, 1, 1, 1};
    for (std::size_t k = 0; k < out.rank(); ++k)
        d[max_rank - 1 - k] = out.from_back(k);
    std::array<strides_t, N> s{};
    for (std::size_t l = 0; l < N; ++l)
        s[l] = broadcast_strides(out, *leaf_shapes[l], *leaf_strides[l]);

    if (!merge) {
        p.dims = d;
        p.strides = s;
    } else {
        // Walk from the innermost axis outwards, growing the current group while every leaf's
        // stride on the next axis equals its group stride times the group's extent.
        std::array<std::size_t, max_rank> gd{};
        std::array<strides_t, N> gs{};
        std::size_t groups = 0;
        for (std::size_t a = max_rank; a-- > 0;) {
            if (d[a] == 1) continue;
            bool mergeable = groups > 0;
            for (std::size_t l = 0; l < N && mergeable; ++l)
                mergeable =
                    s[l][a] == gs[l][groups - 1] * static_cast<std::ptrdiff_t>(gd[groups - 1]);
            if (mergeable) {
                gd[groups - 1] *= d[a];
            } else {
                gd[groups] = d[a];
                for (std::size_t l = 0; l < N; ++l)
                    gs[l][groups] = s[l][a];
                ++groups;
            }
        }
        for (std::size_t g = 0; g < groups; ++g) {
            p.dims[max_rank - 1 - g] = gd[g];
            for (std::size_t l = 0; l < N; ++l)
                p.strides[l][max_rank - 1 - g] = gs[l][g];
        }
        if (out.size() == 0) p.dims = {0, 1, 1, 1};
    }
    p.contiguous = p.rows() <= 1;
    for (std::size_t l = 0; l < N && p.contiguous; ++l)
        p.contiguous = p.strides[l][3] == 1 || p.dims[3] <= 1;
    return p;
}

// The plans of expressions of up to eight leaves are compiled once (src/expr/layout.cpp); the
// loop that runs a plan stays with its expression.
extern template loop_plan<1> plan_loop<1>(const shape&, const std::array<const shape*, 1>&,
                                          const std::array<const strides_t*, 1>&, bool);
extern template loop_plan<2> plan_loop<2>(const shape&, const std::array<const shape*, 2>&,
                                          const std::array<const strides_t*, 2>&, bool);
extern template loop_plan<3> plan_loop<3>(const shape&, const std::array<const shape*, 3>&,
                                          const std::array<const strides_t*, 3>&, bool);
extern template loop_plan<4> plan_loop<4>(const shape&, const std::array<const shape*, 4>&,
                                          const std::array<const strides_t*, 4>&, bool);
extern template loop_plan<5> plan_loop<5>(const shape&, const std::array<const shape*, 5>&,
                                          const std::array<const strides_t*, 5>&, bool);
extern template loop_plan<6> plan_loop<6>(const shape&, const std::array<const shape*, 6>&,
                                          const std::array<const strides_t*, 6>&, bool);
extern template loop_plan<7> plan_loop<7>(const shape&, const std::array<const shape*, 7>&,
                                          const std::array<const strides_t*, 7>&, bool);
extern template loop_plan<8> plan_loop<8>(const shape&, const std::array<const shape*, 8>&,
                                          const std::array<const strides_t*, 8>&, bool);

}  // namespace dendrite::inline DENDRITE_TARGET::expr
