#pragma once
// Changing the shape of variables: reshape and flatten (views), slice and concat (copies).

#include <algorithm>
#include <array>
#include <cstddef>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

#include "dendrite/autodiff/op_node.hpp"
#include "dendrite/config.hpp"

namespace dendrite::inline DENDRITE_TARGET {

/// The same elements in a new shape (same element count): the value is a view of x's value, no
/// copy. Backward: dx += reshape(g, x.shape()), one pass.
template <differentiable E>
auto reshape(const E& e, const shape& s) {
    const auto x = as_var(e);
    using T = typename decltype(x)::value_type;
    if (s.size() != x.size())
        throw shape_error("reshape: cannot reshape " + x.shape().str() + " (" +
                          std::to_string(x.size()) + " elements) into " + s.str() + " (" +
                          std::to_string(s.size()) + " elements)");
    return record_op(
        x.tape(), "reshape", x.value().reshape(s), x.requires_grad(),
        [x](tape& tp, const tensor<T>& g) { accumulate_grad(tp, x, g.reshape(x.shape())); },
        linear_in(x, [s](tape&, const tensor<T>& dx) { return dx.reshape(s); }));
}

/// All elements as a 1-d var (a view, no copy).
template <differentiable E>
auto flatten(const E& e) {
    const auto x = as_var(e);
    return reshape(x, shape{x.size()});
}

/// Indices [begin, end) of `axis`, copied into a contiguous tape buffer (so later ops read it
/// with unit stride). Backward adds g into that slice of dx. Cost: one copy of the slice each way.
template <differentiable E>
auto slice(const E& e, std::size_t axis, std::size_t begin, std::size_t end) {
    const auto x = as_var(e);
    using T = typename decltype(x)::value_type;
    const tensor<T> part = x.value().slice(axis, begin, end);  // checks axis and bounds
    tensor<T> out = x.tape().template acquire_value<T>(part.shape());
    out.assign(part);
    return record_op(
        x.tape(), "slice", out, x.requires_grad(),
        [x, axis, begin, end](tape& tp, const tensor<T>& g) {
            tensor<T> dst = x.node().grad_accumulator(tp).slice(axis, begin, end);
            dst.assign(dst + g);
        },
        linear_in(x, [axis, begin, end](tape& tp, const tensor<T>& dx) {
            const tensor<T> part = dx.slice(axis, begin, end);
            tensor<T> d = tp.acquire_value<T>(part.shape());
            d.assign(part);
            return d;
        }));
}

namespace detail {

/// The inputs of a concat, held in the node itself up to `inline_count` of them so that
/// recording one allocates nothing; more spill to a vector.
template <class T>
class concat_inputs {
  public:
    static constexpr std::size_t inline_count = 8;
    explicit concat_inputs(std::span<const var<T>> parts) : count_(parts.size()) {
        if (count_ <= inline_count)
            std::copy(parts.begin(), parts.end(), small_.begin());
        else
            large_.assign(parts.begin(), parts.end());
    }
    std::span<const var<T>> get() const noexcept {
        return count_ <= inline_count ? std::span<const var<T>>(small_.data(), count_)
                                      : std::span<const var<T>>(large_);
    }

  private:
    std::size_t count_;
    std::array<var<T>, inline_count> small_{};
    std::vector<var<T>> large_;
};

/// A concat's backward: each slice of g into its input's gradient. Its second-order rule reads
/// the inputs from here.
template <class T>
struct concat_backward {
    concat_inputs<T> inputs;
    std::size_t axis;

    void operator()(tape& t, const tensor<T>& g) const {
        std::size_t off = 0;
        for (const var<T>& p : inputs.get()) {
            const std::size_t len = p.shape()[axis];
            accumulate_grad(t, p, g.slice(axis, off, off + len));
            off += len;
        }
    }
};

}  // namespace detail

/// Joins vars along `axis`; their shapes must agree on every other axis and they must share a
/// tape. The value is one contiguous copy; backward adds each slice of g into its input's
/// gradient. Cost: one copy of every input each way; no allocation for up to 8 inputs.
template <class T>
var<T> concat(std::span<const var<T>> parts, std::size_t axis) {
    if (parts.empty()) throw shape_error("concat: no inputs");
    const shape& first = parts[0].shape();
    if (axis >= first.rank())
        throw shape_error("concat: axis " + std::to_string(axis) + " out of range for shape " +
                          first.str());
    tape& t = parts[0].tape();
    shape out_shape = first;
    out_shape[axis] = 0;
    bool needs = false;
    for (const var<T>& p : parts) {
        if (&p.tape() != &t) throw autodiff_error("concat: inputs come from different tapes");
        const shape& s = p.shape();
        bool ok = s.rank() == first.rank();
        for (std::size_t a = 0; ok && a < s.rank(); ++a)
            ok = a == axis || s[a] == first[a];
        if (!ok)
            throw shape_error("concat: shapes " + first.str() + " and " + s.str() +
                              " differ outside axis " + std::to_string(axis));
        out_shape[axis] += s[axis];
        needs = needs || p.requires_grad();
    }
    tensor<T> out = t.acquire_value<T>(out_shape);
    std::size_t offset = 0;
    for (const var<T>& p : parts) {
        out.slice(axis, offset, offset + p.shape()[axis]).assign(p.value());
        offset += p.shape()[axis];
    }
    return record_op(t, "concat", out, needs,
                     detail::concat_backward<T>{detail::concat_inputs<T>(parts), axis},
                     linear_op([out_shape](tape& tp, const detail::concat_backward<T>& b) {
                         const auto inputs = b.inputs.get();
                         const std::size_t axis = b.axis;
                         bool any = false;
                         for (const var<T>& p : inputs)
                             any = any || p.node().has_tangent();
                         if (!any) return tensor<T>();
                         tensor<T> d = tp.acquire_value<T>(out_shape);
                         std::size_t off = 0;
                         for (const var<T>& p : inputs) {
                             tensor<T> dst = d.slice(axis, off, off + p.shape()[axis]);
                             if (p.node().has_tangent())
                                 dst.assign(tangent_of(p));
                             else
                                 dst.fill(T(0));
                             off += p.shape()[axis];
                         }
                         return d;
                     }));
}
template <class T>
var<T> concat(const std::vector<var<T>>& parts, std::size_t axis) {
    return concat(std::span<const var<T>>(parts), axis);
}
template <class T>
var<T> concat(std::initializer_list<var<T>> parts, std::size_t axis) {
    return concat(std::span<const var<T>>(parts.begin(), parts.size()), axis);
}

}  // namespace dendrite::inline DENDRITE_TARGET
