#pragma once
// The reverse-mode tape: one node per fused kernel, walked backwards by backward().
//
// Type erasure happens here and only here: a node is a virtual `backward()` over statically typed
// kernels. Nodes live in an arena and their values and gradients in pooled buffers, both kept
// across clear(), so recording the same computation again allocates nothing.

#include <cmath>
#include <cstddef>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "dendrite/config.hpp"
#include "dendrite/tensor/tensor.hpp"

namespace dendrite::inline DENDRITE_TARGET {

/// Thrown on misuse of the tape: backward on a freed graph, a non-scalar without a seed, mixing
/// tapes, or (in anomaly mode) the first node producing a NaN or an infinity.
class autodiff_error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

class tape;

namespace detail {

/// A recorded operation. Subclasses hold their inputs' nodes and a static kernel.
class node_base {
  public:
    virtual ~node_base() = default;
    /// Propagates this node's gradient into its inputs' gradients.
    virtual void backward(tape& t) = 0;
    /// What the node computes, for error messages ("matmul", "fused(mul(x, sigmoid(...)))").
    virtual std::string name() const = 0;
    /// True when the value holds a NaN or an infinity (anomaly mode).
    virtual bool non_finite() const = 0;
    /// Called on every node once a backward pass is over: an interior node forgets its gradient,
    /// so that a second pass over a retained graph propagates only the new seed (leaves keep
    /// accumulating, as PyTorch's do).
    virtual void finish_backward() noexcept {}
    /// Computes a value whose evaluation was deferred (see fused_node); only called while
    /// `pending`.
    virtual void materialize() {}
    /// Second order (autodiff/hvp.hpp), forward: sets the derivative of the value along the
    /// direction from those of the inputs.
    virtual void forward_tangent(tape&) { throw no_second_order_rule(); }
    /// Second order, reverse: backward() and, from the gradient's derivative, the derivatives of
    /// the inputs' gradients, in one call.
    virtual void backward_second_order(tape&) { throw no_second_order_rule(); }

    bool requires_grad = false;
    /// The value's buffer exists but is not computed yet. Only the node recorded last can be
    /// pending: recording the next node, var::value(), the node's own backward (in the same pass)
    /// and the end of every backward pass compute it.
    bool pending = false;

  private:
    autodiff_error no_second_order_rule() const {
        return autodiff_error("hvp: the op '" + name() + "' has no second-order rule");
    }
};

/// Which gradient the gradient functions of every node address on this thread: 0, the gradient
/// of the loss; 1, its derivative along the direction of a Hessian-vector product (see
/// autodiff/hvp.hpp). A second-order pass switches to 1 to replay a linear op's own backward on
/// the derivative of its upstream gradient, which is that op's whole second-order rule.
inline int& active_gradient() noexcept {
    thread_local int slot = 0;
    return slot;
}

/// While alive, gradient functions address the gradients' derivatives (slot 1).
class gradient_tangent_scope {
  public:
    gradient_tangent_scope() noexcept : previous_(active_gradient()) { active_gradient() = 1; }
    ~gradient_tangent_scope() { active_gradient() = previous_; }
    gradient_tangent_scope(const gradient_tangent_scope&) = delete;
    gradient_tangent_scope& operator=(const gradient_tangent_scope&) = delete;

  private:
    int previous_;
};

/// A node with a value of element type T and, once backward reaches it, a gradient.
template <class T>
class typed_node : public node_base {
  public:
    tensor<T> value;
    /// The derivative of the value along the direction of a Hessian-vector product; empty when
    /// it is zero (a value that does not depend on the parameters). Set by forward_tangent().
    tensor<T> tangent;
    bool has_tangent() const noexcept { return tangent.data() != nullptr; }

    /// The gradient buffer, zeroed when first touched in a backward pass.
    tensor<T>& grad_accumulator(tape& t);
    /// The gradient buffer for a kernel that writes every element before reading any: on first
    /// touch it is not zeroed (one pass over memory fewer). Call only when !has_grad().
    tensor<T>& grad_for_overwrite(tape& t);
    /// Uses `g` (contiguous, caller-owned, read only) as this interior node's gradient without a
    /// copy: how a seed reaches the root of a backward pass.
    void borrow_grad(const tensor<T>& g) {
        auto& s = active();
        s.grad = g;
        s.ready = true;
        s.borrowed = true;
    }
    /// The gradient if backward has touched this node, else an empty tensor.
    const tensor<T>& grad() const noexcept { return active().grad; }
    bool has_grad() const noexcept { return active().ready; }
    /// The gradient's derivative along an HVP's direction (slot 1 whatever the active slot), and
    /// whether a second-order pass has touched it.
    const tensor<T>& grad_tangent() const noexcept { return slots_[1].grad; }
    bool has_grad_tangent() const noexcept { return slots_[1].ready; }
    /// The gradient's tangent buffer, zeroed when first touched.
    tensor<T>& grad_tangent_accumulator(tape& t) {
        gradient_tangent_scope tangents;
        return grad_accumulator(t);
    }
    /// Rebinds the gradient to caller-owned storage that accumulates across steps (parameters).
    void bind_grad(const tensor<T>& g) {
        auto& s = active();
        s.grad = g;
        s.ready = true;
        s.external = true;
    }
    void reset_grad() noexcept {
        for (auto& s : slots_)
            if (!s.external) s.ready = false;
    }
    /// Forgets a binding of the gradient's derivative (an HVP's output) once the pass is over.
    void unbind_grad_tangent() noexcept { slots_[1] = {}; }
    void finish_backward() noexcept override {
        if (!is_leaf_) reset_grad();
    }
    bool is_leaf() const noexcept { return is_leaf_; }
    bool non_finite() const override {
        bool bad = false;
        value.for_each_offset(
            [&](std::ptrdiff_t off) { bad = bad || !std::isfinite(value.data()[off]); });
        return bad;
    }

  protected:
    bool is_leaf_ = false;

  private:
    struct gradient_slot {
        tensor<T> grad;
        bool ready = false;
        bool external = false;
        bool borrowed = false;
    };
    gradient_slot& active() noexcept { return slots_[active_gradient()]; }
    const gradient_slot& active() const noexcept { return slots_[active_gradient()]; }
    gradient_slot slots_[2];
};

/// A leaf: a variable or a constant; its backward has nothing further to do.
template <class T>
class leaf_node final : public typed_node<T> {
  public:
    // A literal label, not a std::string: recording a leaf must not allocate.
    explicit leaf_node(const char* label) noexcept : label_(label) { this->is_leaf_ = true; }
    void backward(tape&) override {}
    // A leaf's tangent is the direction itself (set by hvp), or zero.
    void forward_tangent(tape&) override {}
    void backward_second_order(tape&) override {}
    std::string name() const override { return label_; }

  private:
    const char* label_;
};

}  // namespace detail

/// Records operations on variables and differentiates them in reverse.
///
/// A tape is reused across training steps: `clear()` drops the recording but keeps the node arena
/// and the value/gradient buffers, so a step that records the same graph again allocates nothing.
/// Values handed out by a tape stay valid until the next clear(); clone() one to keep it. The
/// tensors a recording reads (variables, parameters) must not change until its last use: the
/// backward pass reads them again, and the last element-wise node recorded computes its value
/// when first needed (see autodiff/fused.hpp).
class tape {
  public:
    tape() = default;
    tape(const tape&) = delete;
    tape& operator=(const tape&) = delete;
    ~tape() { destroy_nodes(); }

    /// Constructs a node in the arena and appends it to the recording; a deferred value of the
    /// node before it is computed first.
    template <class Node, class... Args>
    Node& make(Args&&... args) {
        settle_deferred();
        void* p = arena_allocate(sizeof(Node), alignof(Node));
        Node* n = ::new (p) Node(std::forward<Args>(args)...);
        nodes_.push_back(n);
        return *n;
    }

    /// A contiguous buffer of shape `s` for a node's value: the same pooled storage as at this
    /// position of the previous recording when it is large enough and no longer shared.
    template <class T>
    tensor<T> acquire_value(const shape& s) {
        return acquire<T>(value_pool_, value_cursor_, s);
    }
    template <class T>
    tensor<T> acquire_grad(const shape& s) {
        return acquire<T>(grad_pool_, grad_cursor_, s);
    }

    /// Runs the recorded nodes' backward in reverse order, starting from `root`, whose gradient
    /// must already be seeded. Frees the graph unless `retain_graph`.
    void run_backward(detail::node_base& root, bool retain_graph) {
        const std::size_t start = position_for_backward(root) + 1;
        for (std::size_t i = start; i-- > 0;) {
            detail::node_base* n = nodes_[i];
            if (n->requires_grad) n->backward(*this);
        }
        for (std::size_t i = 0; i < start; ++i)
            nodes_[i]->finish_backward();
        // A node recorded after the root is not swept: its value is computed now, before an
        // optimizer step can change the parameters it reads.
        settle_deferred();
        if (!retain_graph) freed_ = true;
    }

    /// The second-order pass of a Hessian-vector product (autodiff/hvp.hpp) from `root`, whose
    /// gradient is seeded and whose leaves hold their tangents: every node's tangent forward, in
    /// recording order, then every node's gradient and gradient tangent in reverse. Frees the
    /// graph.
    void run_second_order(detail::node_base& root) {
        const std::size_t start = position_for_backward(root) + 1;
        settle_deferred();
        // Rules may record helper nodes after root; they are not part of the sweep.
        for (std::size_t i = 0; i < start; ++i)
            if (nodes_[i]->requires_grad) nodes_[i]->forward_tangent(*this);
        for (std::size_t i = start; i-- > 0;)
            if (nodes_[i]->requires_grad) nodes_[i]->backward_second_order(*this);
        for (std::size_t i = 0; i < start; ++i)
            nodes_[i]->finish_backward();
        settle_deferred();
        freed_ = true;
    }

    /// Calls f(node) on every recorded node, in recording order.
    template <class F>
    void for_each_node(F&& f) const {
        for (detail::node_base* n : nodes_)
            f(*n);
    }

    /// The index of `root` in the recording; throws if the graph was freed or root is elsewhere.
    /// Searched from the end: the root is nearly always the last node recorded.
    std::size_t position_for_backward(const detail::node_base& root) const {
        if (freed_)
            throw autodiff_error(
                "backward: the graph was already freed by a previous backward(); record it again "
                "or pass "
                "retain_graph = true");
        for (std::size_t i = nodes_.size(); i-- > 0;)
            if (nodes_[i] == &root) return i;
        throw autodiff_error(
            "backward: the root variable is not on this tape (was the tape cleared?)");
    }

    /// Forgets the recording; arena and buffers are kept for the next one.
    void clear() {
        deferred_ = nullptr;
        destroy_nodes();
        arena_used_ = 0;
        arena_chunk_ = 0;
        value_cursor_ = 0;
        grad_cursor_ = 0;
        freed_ = false;
    }

    std::size_t size() const noexcept { return nodes_.size(); }

    /// In anomaly mode every recorded node's value is checked, and the first NaN or infinity
    /// throws an autodiff_error naming the node that produced it.
    void set_anomaly_detection(bool on) noexcept { anomaly_ = on; }
    bool anomaly_detection() const noexcept { return anomaly_; }

    /// Marks n, just recorded, as holding a deferred value (see autodiff/fused.hpp).
    void defer(detail::node_base& n) noexcept {
        n.pending = true;
        deferred_ = &n;
    }
    /// Computes the deferred value, if any.
    void settle_deferred() {
        if (deferred_ == nullptr) return;
        detail::node_base* n = deferred_;
        deferred_ = nullptr;
        if (n->pending) n->materialize();
    }

    /// Called by every recording op after computing a node's value.
    void check_anomaly(const detail::node_base& n) const {
        if (anomaly_ && n.non_finite())
            throw autodiff_error("anomaly: node '" + n.name() + "' produced a NaN or an infinity");
    }

  private:
    template <class T>
    static tensor<T> acquire(std::vector<detail::storage>& pool, std::size_t& cursor,
                             const shape& s) {
        const std::size_t bytes = s.size() * sizeof(T);
        if (cursor == pool.size()) pool.emplace_back();
        detail::storage& slot = pool[cursor++];
        if (slot.bytes() < bytes || !slot.unique()) slot = detail::storage(bytes);
        return tensor<T>::over_storage(slot, s);
    }

    void* arena_allocate(std::size_t bytes, std::size_t align) {
        for (;;) {
            if (arena_chunk_ < arena_.size()) {
                std::size_t offset = (arena_used_ + align - 1) / align * align;
                if (offset + bytes <= chunk_bytes) {
                    arena_used_ = offset + bytes;
                    return arena_[arena_chunk_].get() + offset;
                }
                ++arena_chunk_;
                arena_used_ = 0;
                continue;
            }
            if (bytes > chunk_bytes) throw std::bad_alloc();
            arena_.push_back(std::make_unique<std::byte[]>(chunk_bytes));
        }
    }

    void destroy_nodes() noexcept {
        for (std::size_t i = nodes_.size(); i-- > 0;)
            nodes_[i]->~node_base();
        nodes_.clear();
    }

    static constexpr std::size_t chunk_bytes = 64 * 1024;
    std::vector<std::unique_ptr<std::byte[]>> arena_;
    std::size_t arena_chunk_ = 0;
    std::size_t arena_used_ = 0;
    std::vector<detail::node_base*> nodes_;
    std::vector<detail::storage> value_pool_, grad_pool_;
    std::size_t value_cursor_ = 0, grad_cursor_ = 0;
    bool freed_ = false;
    bool anomaly_ = false;
    detail::node_base* deferred_ = nullptr;  // the last node, if its value is deferred
};

template <class T>
tensor<T>& detail::typed_node<T>::grad_for_overwrite(tape& t) {
    // A node's own buffer from an earlier pass over a retained graph is reused; a borrowed seed
    // belongs to the caller and is never written.
    auto& s = active();
    if (s.borrowed || s.grad.data() == nullptr || !(s.grad.shape() == value.shape()))
        s.grad = t.acquire_grad<T>(value.shape());
    s.borrowed = false;
    s.ready = true;
    return s.grad;
}

template <class T>
tensor<T>& detail::typed_node<T>::grad_accumulator(tape& t) {
    if (!active().ready) grad_for_overwrite(t).fill(T(0));
    return active().grad;
}

/// While alive, operations on variables record nothing: results are constants (for evaluation,
/// metrics and optimizer updates).
class no_grad_guard {
  public:
    no_grad_guard() noexcept : previous_(active()) { active() = true; }
    ~no_grad_guard() { active() = previous_; }
    no_grad_guard(const no_grad_guard&) = delete;
    no_grad_guard& operator=(const no_grad_guard&) = delete;

    static bool& active() noexcept {
        thread_local bool on = false;
        return on;
    }

  private:
    bool previous_;
};

}  // namespace dendrite::inline DENDRITE_TARGET
