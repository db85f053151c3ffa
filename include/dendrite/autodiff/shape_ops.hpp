#pragma once
// Changing the shape of variables: reshape and flatten (views); slice, concat, stack and split
// (copies).

#include <algorithm>
#include <array>
#include <cstddef>
#include <initializer_list>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "dendrite/autodiff/axis.hpp"
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

/// Indices begin, begin + step, ... below end of `axis`, copied into a contiguous tape buffer
/// (step 1 is slice above). Backward adds g into those indices of dx. Cost: one copy of the
/// picked slices each way. Throws shape_error for step 0 or a range outside the axis.
template <differentiable E>
auto slice(const E& e, std::size_t axis, std::size_t begin, std::size_t end, std::size_t step) {
    const auto x = as_var(e);
    using T = typename decltype(x)::value_type;
    if (step == 0) throw shape_error("slice: step must be at least 1");
    if (step == 1) return slice(x, axis, begin, end);
    (void)x.value().slice(axis, begin, end);  // checks axis and bounds
    const std::size_t count = (end - begin + step - 1) / step;
    // Index i of the result is index begin + i * step of x; one contiguous assign per index.
    auto pick = [axis, begin, step, count](tape& tp, const tensor<T>& from) {
        shape s = from.shape();
        s[axis] = count;
        tensor<T> out = tp.acquire_value<T>(s);
        for (std::size_t i = 0; i < count; ++i)
            out.slice(axis, i, i + 1)
                .assign(from.slice(axis, begin + i * step, begin + i * step + 1));
        return out;
    };
    return record_op(
        x.tape(), "slice", pick(x.tape(), x.value()), x.requires_grad(),
        [x, axis, begin, step, count](tape& tp, const tensor<T>& g) {
            const tensor<T>& acc = x.node().grad_accumulator(tp);
            for (std::size_t i = 0; i < count; ++i) {
                tensor<T> dst = acc.slice(axis, begin + i * step, begin + i * step + 1);
                dst.assign(dst + g.slice(axis, i, i + 1));
            }
        },
        linear_in(x, pick));
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

/// Joins vars of one shape along a new axis `axis` (0 to their rank): stack of n [T, D] vars
/// along 1 is [T, n, D]. Each part is reshaped (a view) and the parts concatenated: one copy of
/// every input each way; no allocation for up to 8 inputs.
template <class T>
var<T> stack(std::span<const var<T>> parts, std::size_t axis) {
    if (parts.empty()) throw shape_error("stack: no inputs");
    const shape& first = parts[0].shape();
    if (axis > first.rank() || first.rank() == max_rank)
        throw shape_error("stack: cannot insert axis " + std::to_string(axis) + " into shape " +
                          first.str());
    std::array<std::size_t, max_rank> dims{};
    for (std::size_t a = 0, j = 0; a <= first.rank(); ++a)
        dims[a] = a == axis ? 1 : first[j++];
    const shape one(dims.begin(), dims.begin() + first.rank() + 1);
    for (const var<T>& p : parts)
        if (!(p.shape() == first))
            throw shape_error("stack: shapes " + first.str() + " and " + p.shape().str() +
                              " differ");
    auto joined = [&](std::span<var<T>> views) {
        for (std::size_t i = 0; i < parts.size(); ++i)
            views[i] = reshape(parts[i], one);
        return concat(std::span<const var<T>>(views.data(), views.size()), axis);
    };
    if (parts.size() <= detail::concat_inputs<T>::inline_count) {
        std::array<var<T>, detail::concat_inputs<T>::inline_count> views{};
        return joined(std::span<var<T>>(views.data(), parts.size()));
    }
    std::vector<var<T>> views(parts.size());
    return joined(std::span<var<T>>(views));
}
template <class T>
var<T> stack(const std::vector<var<T>>& parts, std::size_t axis) {
    return stack(std::span<const var<T>>(parts), axis);
}
template <class T>
var<T> stack(std::initializer_list<var<T>> parts, std::size_t axis) {
    return stack(std::span<const var<T>>(parts.begin(), parts.size()), axis);
}

/// x cut along `axis` into consecutive parts of the given sizes, which must add up to the
/// axis's extent: split(qkv, 2, {D, D, D}). Each part is a slice (one copy each way).
template <differentiable E>
auto split(const E& e, std::size_t axis, std::span<const std::size_t> sizes) {
    const auto x = as_var(e);
    using T = typename decltype(x)::value_type;
    const detail::axis_split sp = detail::split_axis(x.shape(), axis, "split");
    std::size_t total = 0;
    for (std::size_t n : sizes)
        total += n;
    if (total != sp.len)
        throw shape_error("split: sizes add up to " + std::to_string(total) + ", axis " +
                          std::to_string(axis) + " of " + x.shape().str() + " has " +
                          std::to_string(sp.len));
    std::vector<var<T>> parts;
    parts.reserve(sizes.size());
    std::size_t off = 0;
    for (std::size_t n : sizes) {
        parts.push_back(slice(x, axis, off, off + n));
        off += n;
    }
    return parts;
}
template <differentiable E>
auto split(const E& e, std::size_t axis, std::initializer_list<std::size_t> sizes) {
    return split(e, axis, std::span<const std::size_t>(sizes.begin(), sizes.size()));
}

namespace detail {
/// The length of each of `count` equal parts of `axis` of x; throws when they cannot be equal.
inline std::size_t chunk_length(const shape& s, std::size_t count, std::size_t axis) {
    const axis_split sp = split_axis(s, axis, "chunk");
    if (count == 0 || sp.len % count != 0)
        throw shape_error("chunk: axis " + std::to_string(axis) + " of " + s.str() +
                          " does not divide into " + std::to_string(count) + " equal parts");
    return sp.len / count;
}
}  // namespace detail

/// x cut along `axis` into `count` parts of equal size (the axis's extent must divide).
template <differentiable E>
auto chunk(const E& e, std::size_t count, std::size_t axis) {
    const auto x = as_var(e);
    const std::size_t n = detail::chunk_length(x.shape(), count, axis);
    std::vector<var<typename decltype(x)::value_type>> parts;
    parts.reserve(count);
    for (std::size_t i = 0; i < count; ++i)
        parts.push_back(slice(x, axis, i * n, (i + 1) * n));
    return parts;
}
/// chunk with the count known while compiling: a std::array, no allocation (a recurrent cell's
/// gates, every step): `const auto [i, f, g, o] = chunk<4>(gates, 1);`.
template <std::size_t Count, differentiable E>
auto chunk(const E& e, std::size_t axis) {
    const auto x = as_var(e);
    const std::size_t n = detail::chunk_length(x.shape(), Count, axis);
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
        return std::array<var<typename decltype(x)::value_type>, Count>{
            slice(x, axis, I * n, (I + 1) * n)...};
    }
    (std::make_index_sequence<Count>{});
}

}  // namespace dendrite::inline DENDRITE_TARGET
