#pragma once
// dendrite::tensor<T>: an n-d array of rank 0 to 4 with shared, aligned storage.
//
// Copying a tensor shares its storage, as with NumPy arrays and PyTorch tensors; `clone()` copies
// the elements. Assigning an element-wise expression writes into the existing storage when the
// shapes agree (so a training loop reuses its buffers), and allocates otherwise.

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "dendrite/config.hpp"
#include "dendrite/tensor/shape.hpp"
#include "dendrite/tensor/storage.hpp"

namespace dendrite::inline DENDRITE_TARGET {

template <class T>
class tensor;

/// Anything the element-wise machinery can read: tensors and expression nodes.
template <class E>
concept expression = requires {
    std::remove_cvref_t<E>::is_dendrite_expression;
};

using strides_t = std::array<std::ptrdiff_t, max_rank>;

namespace detail {
/// The seam between tensors and the evaluator of expressions, which sits above them (expr/
/// evaluate.hpp, included by every header that evaluates and by dendrite.hpp). A tensor's
/// assignments call `assign_expression(evaluator_seam{}, out, e, must_fit)`, found through this
/// tag by argument-dependent lookup where the evaluator is included; where it is not, they fail
/// to compile with a static_assert naming the header, rather than to link.
struct evaluator_seam {};

template <class T, class E>
concept evaluator_included = requires(tensor<T>& out, const E& e) {
    assign_expression(evaluator_seam{}, out, e, true);
};

/// Writes the row-major strides of s into st, in place: built in a temporary and copied, the
/// strides were written element by element and read back as one wide load, a store-forwarding
/// stall on every tensor the tape hands out.
inline void set_contiguous_strides(strides_t& st, const shape& s) noexcept {
    std::ptrdiff_t acc = 1;
    for (std::size_t i = max_rank; i-- > 0;) {
        if (i >= s.rank()) {
            st[i] = 0;
            continue;
        }
        st[i] = acc;
        acc *= static_cast<std::ptrdiff_t>(s[i]);
    }
}
}  // namespace detail

template <class T>
class tensor {
    static_assert(std::is_arithmetic_v<T>, "tensor<T>: T must be an arithmetic type");

  public:
    using value_type = T;
    static constexpr bool is_dendrite_expression = true;

    /// An empty 1-d tensor of extent 0.
    tensor() : shape_{0}, strides_{1} {}

    /// Zero-filled tensor of the given shape.
    explicit tensor(const dendrite::shape& s) : tensor(s, T(0)) {}

    /// Tensor of the given shape with every element `value`.
    tensor(const dendrite::shape& s, T value) : tensor(uninitialized(s)) { fill(value); }

    /// 1-d tensor holding floating-point `values`: `tensor<float>{0.5f, 1.5f}`.
    /// Integers in braces are a shape instead (`tensor<float>({32, 784})` is zero-filled 32 x 784),
    /// and a brace list mixing the two does not compile, so neither can be taken for the other.
    template <std::floating_point F>
    tensor(std::initializer_list<F> values)
        : tensor(uninitialized(dendrite::shape{values.size()})) {
        std::transform(values.begin(), values.end(), data_, [](F v) { return static_cast<T>(v); });
    }

    /// Tensor of shape `s` holding `values` in row-major order; throws if the counts differ.
    tensor(const dendrite::shape& s, std::initializer_list<T> values);

    /// Evaluates an element-wise expression into a new tensor, in one fused pass.
    template <expression E>
    requires(!std::is_same_v<std::remove_cvref_t<E>, tensor>) tensor(const E& e) : tensor() {
        evaluate(e, /*must_fit=*/false);
    }

    /// A contiguous tensor whose elements are left unset (for kernels that overwrite them all).
    static tensor uninitialized(const dendrite::shape& s) {
        tensor t;
        t.shape_ = s;
        detail::set_contiguous_strides(t.strides_, s);
        t.storage_ = detail::storage(s.size() * sizeof(T));
        t.data_ = static_cast<T*>(t.storage_.data());
        return t;
    }

    /// A contiguous tensor of shape `s` over `st`, which must hold at least s.size() elements.
    static tensor over_storage(const detail::storage& st, const dendrite::shape& s);

    /// A tensor over memory the caller owns and keeps alive (no copy is made).
    static tensor wrap(T* data, const dendrite::shape& s) {
        tensor t;
        t.shape_ = s;
        detail::set_contiguous_strides(t.strides_, s);
        t.data_ = data;
        return t;
    }

    tensor(const tensor&) = default;
    tensor(tensor&&) noexcept = default;
    /// Rebinds this handle to `o`'s storage (no element is copied); see `assign` to copy elements.
    tensor& operator=(const tensor&) = default;
    tensor& operator=(tensor&&) noexcept = default;

    /// Evaluates `e` in one pass, into this tensor's storage when the shapes agree.
    template <expression E>
    requires(!std::is_same_v<std::remove_cvref_t<E>, tensor>) tensor& operator=(const E& e) {
        evaluate(e, /*must_fit=*/false);
        return *this;
    }

    /// Copies the elements of `e` (any expression, including a tensor) into this tensor's
    /// storage, which must already have e's shape (broadcasting e onto it is allowed).
    template <expression E>
    tensor& assign(const E& e) {
        if (data_ == nullptr && size() != 0)
            throw shape_error("tensor::assign: tensor has no storage");
        evaluate(e, /*must_fit=*/true);
        return *this;
    }

    const dendrite::shape& shape() const noexcept { return shape_; }
    const strides_t& strides() const noexcept { return strides_; }
    std::size_t rank() const noexcept { return shape_.rank(); }
    std::size_t size() const noexcept { return shape_.size(); }
    std::size_t dim(std::size_t axis) const noexcept { return shape_[axis]; }
    std::ptrdiff_t stride(std::size_t axis) const noexcept { return strides_[axis]; }
    bool empty() const noexcept { return size() == 0; }
    T* data() noexcept { return data_; }
    const T* data() const noexcept { return data_; }

    /// True when the elements are laid out densely in row-major order.
    bool is_contiguous() const noexcept {
        // Walked in place: asked on every optimizer step and parameter bind, where building
        // the contiguous strides and comparing whole arrays showed in profiles of small models.
        std::ptrdiff_t expected = 1;
        for (std::size_t i = shape_.rank(); i-- > 0;) {
            if (strides_[i] != expected) return size() <= 1;
            expected *= static_cast<std::ptrdiff_t>(shape_[i]);
        }
        return true;
    }

    /// Unchecked element access.
    template <class... I>
    requires(sizeof...(I) <= max_rank && (std::is_integral_v<I> && ...)) T& operator()(
        I... idx) noexcept {
        return data_[offset_of(idx...)];
    }
    template <class... I>
    requires(sizeof...(I) <= max_rank && (std::is_integral_v<I> && ...)) const T& operator()(
        I... idx) const noexcept {
        return data_[offset_of(idx...)];
    }

    /// Bounds-checked element access; throws std::out_of_range naming the index and the shape.
    template <class... I>
    requires(sizeof...(I) <= max_rank && (std::is_integral_v<I> && ...)) T& at(I... idx) {
        check_index({static_cast<std::size_t>(idx)...});
        return data_[offset_of(idx...)];
    }
    template <class... I>
    requires(sizeof...(I) <= max_rank &&
             (std::is_integral_v<I> && ...)) const T& at(I... idx) const {
        check_index({static_cast<std::size_t>(idx)...});
        return data_[offset_of(idx...)];
    }

    /// The single element of a one-element tensor.
    T item() const;

    /// Sets every element to `value`.
    tensor& fill(T value);

    /// A view with the same elements in a new shape (contiguous tensors only; sizes must match).
    tensor reshape(const dendrite::shape& s) const;

    /// A 1-d view of all elements (contiguous tensors only).
    tensor flatten() const { return reshape(dendrite::shape{size()}); }

    /// A view of indices [begin, end) along `axis`; no element is copied.
    tensor slice(std::size_t axis, std::size_t begin, std::size_t end) const;

    /// Rows [begin, end) along the first axis: a batch out of a data set, without a copy.
    tensor rows(std::size_t begin, std::size_t end) const { return slice(0, begin, end); }

    /// The sub-tensor at index `i` of the first axis (rank drops by one).
    tensor operator[](std::size_t i) const;

    /// A view with axes `a` and `b` exchanged (the transpose of a matrix by default).
    tensor transpose(std::size_t a = 0, std::size_t b = 1) const;

    /// A contiguous deep copy.
    tensor clone() const;

    /// The elements as a span (contiguous tensors only).
    std::span<T> span() {
        require_contiguous("span");
        return {data_, size()};
    }
    std::span<const T> span() const {
        require_contiguous("span");
        return {data_, size()};
    }

    /// True when no other tensor or view shares this tensor's storage (so writing is unobservable).
    bool owns_storage_exclusively() const noexcept { return storage_.unique(); }

    /// True when both handles view the same first element of the same storage.
    bool shares_storage_with(const tensor& o) const noexcept {
        return storage_.data() == o.storage_.data();
    }

    /// Calls f(offset) for every element in row-major order (offsets in elements from data()).
    template <class F>
    void for_each_offset(F&& f) const {
        std::array<std::size_t, max_rank> d{1, 1, 1, 1};
        strides_t s{0, 0, 0, 0};
        const std::size_t pad = max_rank - rank();
        for (std::size_t i = 0; i < rank(); ++i) {
            d[pad + i] = shape_[i];
            s[pad + i] = strides_[i];
        }
        if (size() == 0) return;
        for (std::size_t i0 = 0; i0 < d[0]; ++i0)
            for (std::size_t i1 = 0; i1 < d[1]; ++i1)
                for (std::size_t i2 = 0; i2 < d[2]; ++i2) {
                    const std::ptrdiff_t base = static_cast<std::ptrdiff_t>(i0) * s[0] +
                                                static_cast<std::ptrdiff_t>(i1) * s[1] +
                                                static_cast<std::ptrdiff_t>(i2) * s[2];
                    for (std::size_t i3 = 0; i3 < d[3]; ++i3)
                        f(base + static_cast<std::ptrdiff_t>(i3) * s[3]);
                }
    }

  private:
    /// One fused pass writing `e` here (see detail::evaluator_seam).
    template <class E>
    void evaluate(const E& e, bool must_fit) {
        if constexpr (detail::evaluator_included<T, E>)
            assign_expression(detail::evaluator_seam{}, *this, e, must_fit);
        else
            static_assert(detail::evaluator_included<T, E>,
                          "dendrite: evaluating an expression into a tensor needs the evaluator: "
                          "#include <dendrite/expr/evaluate.hpp> (or <dendrite/dendrite.hpp>)");
    }

    template <class... I>
    std::ptrdiff_t offset_of(I... idx) const noexcept {
        std::ptrdiff_t off = 0;
        std::size_t a = 0;
        ((off += static_cast<std::ptrdiff_t>(idx) * strides_[a++]), ...);
        return off;
    }

    void check_index(std::initializer_list<std::size_t> idx) const;

    void require_contiguous(const char* what) const;

    detail::storage storage_;
    T* data_ = nullptr;
    dendrite::shape shape_;
    strides_t strides_{};
};

template <class T>
tensor<T> tensor<T>::over_storage(const detail::storage& st, const dendrite::shape& s) {
    if (st.bytes() < s.size() * sizeof(T))
        throw shape_error("tensor::over_storage: storage too small for " + s.str());
    tensor t;
    t.shape_ = s;
    detail::set_contiguous_strides(t.strides_, s);
    t.storage_ = st;
    t.data_ = static_cast<T*>(st.data());
    return t;
}

template <class T>
tensor<T>::tensor(const dendrite::shape& s, std::initializer_list<T> values)
    : tensor(uninitialized(s)) {
    if (values.size() != s.size())
        throw shape_error("tensor: " + std::to_string(values.size()) + " values given for shape " +
                          s.str() + " (" + std::to_string(s.size()) + " elements)");
    std::copy(values.begin(), values.end(), data_);
}

template <class T>
T tensor<T>::item() const {
    if (size() != 1)
        throw shape_error("tensor::item: tensor of shape " + shape_.str() + " is not one element");
    return *data_;
}

template <class T>
tensor<T>& tensor<T>::fill(T value) {
    if (is_contiguous()) {
        std::fill(data_, data_ + size(), value);
    } else {
        for_each_offset([&](std::ptrdiff_t off) { data_[off] = value; });
    }
    return *this;
}

template <class T>
tensor<T> tensor<T>::reshape(const dendrite::shape& s) const {
    if (s.size() != size())
        throw shape_error("tensor::reshape: cannot reshape " + shape_.str() + " (" +
                          std::to_string(size()) + " elements) into " + s.str() + " (" +
                          std::to_string(s.size()) + " elements)");
    if (!is_contiguous())
        throw shape_error("tensor::reshape: tensor of shape " + shape_.str() +
                          " is a strided view; clone() it first");
    tensor t = *this;
    t.shape_ = s;
    detail::set_contiguous_strides(t.strides_, s);
    return t;
}

template <class T>
tensor<T> tensor<T>::slice(std::size_t axis, std::size_t begin, std::size_t end) const {
    if (axis >= rank())
        throw shape_error("tensor::slice: axis " + std::to_string(axis) +
                          " out of range for shape " + shape_.str());
    if (begin > end || end > shape_[axis])
        throw shape_error("tensor::slice: range [" + std::to_string(begin) + ", " +
                          std::to_string(end) + ") out of bounds for axis " + std::to_string(axis) +
                          " of shape " + shape_.str());
    tensor t = *this;
    t.data_ = data_ + static_cast<std::ptrdiff_t>(begin) * strides_[axis];
    t.shape_[axis] = end - begin;
    return t;
}

template <class T>
tensor<T> tensor<T>::operator[](std::size_t i) const {
    if (rank() == 0 || i >= shape_[0])
        throw shape_error("tensor::operator[]: index " + std::to_string(i) +
                          " out of range for shape " + shape_.str());
    tensor t;
    t.storage_ = storage_;
    t.data_ = data_ + static_cast<std::ptrdiff_t>(i) * strides_[0];
    t.shape_ = shape_.without(0);
    for (std::size_t a = 1; a < rank(); ++a)
        t.strides_[a - 1] = strides_[a];
    return t;
}

template <class T>
tensor<T> tensor<T>::transpose(std::size_t a, std::size_t b) const {
    if (a >= rank() || b >= rank())
        throw shape_error("tensor::transpose: axes " + std::to_string(a) + ", " +
                          std::to_string(b) + " out of range for shape " + shape_.str());
    tensor t = *this;
    std::swap(t.shape_[a], t.shape_[b]);
    std::swap(t.strides_[a], t.strides_[b]);
    return t;
}

template <class T>
tensor<T> tensor<T>::clone() const {
    tensor t = uninitialized(shape_);
    if (is_contiguous()) {
        if (size()) std::memcpy(t.data_, data_, size() * sizeof(T));
    } else {
        T* out = t.data_;
        for_each_offset([&](std::ptrdiff_t off) { *out++ = data_[off]; });
    }
    return t;
}

template <class T>
void tensor<T>::check_index(std::initializer_list<std::size_t> idx) const {
    bool ok = idx.size() == rank();
    std::size_t a = 0;
    for (std::size_t i : idx)
        ok = ok && i < shape_[a++];
    if (!ok) {
        std::string s = "(";
        a = 0;
        for (std::size_t i : idx)
            s += (a++ ? ", " : "") + std::to_string(i);
        throw std::out_of_range("tensor::at: index " + s + ") out of range for shape " +
                                shape_.str());
    }
}

template <class T>
void tensor<T>::require_contiguous(const char* what) const {
    if (!is_contiguous())
        throw shape_error(std::string("tensor::") + what + ": tensor of shape " + shape_.str() +
                          " is a strided view; clone() it first");
}

// Compiled once for the element types of data sets, labels and networks (src/tensor/tensor.cpp).
extern template class tensor<float>;
extern template class tensor<double>;
extern template class tensor<std::int32_t>;
extern template class tensor<std::int64_t>;

}  // namespace dendrite::inline DENDRITE_TARGET
