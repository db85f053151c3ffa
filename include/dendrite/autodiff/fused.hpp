#pragma once
// The fused node: an element-wise expression over vars recorded as ONE tape node.
//
// Forward evaluates the expression in one pass. Backward runs one pass too: per SIMD batch it
// evaluates the expression tree forward, keeping every intermediate in registers, then sweeps it
// in reverse with the upstream gradient, each op applying its local derivative, and adds the
// result into each var's gradient. Each input and the upstream gradient are read once, whatever
// the depth of the expression. A var at several places (x in x * sigmoid(x)) that is the
// expression's only var, over contiguous memory, has its contributions summed in registers and
// its gradient written once; otherwise each occurrence adds its own.
//
// The last node recorded, when on the gradient path, defers its forward pass until its value is
// first needed: by the next node recorded, a read of its value, or backward. When backward
// reaches it first (a graph ending in an element-wise node, whose value only the seed follows),
// the backward pass writes the value too, from the same registers: value and gradients in one
// pass over the inputs, as a hand-fused loop would.

#include <array>
#include <cstddef>
#include <mutex>
#include <string>
#include <type_traits>

#include "dendrite/autodiff/tape.hpp"
#include "dendrite/autodiff/var.hpp"
#include "dendrite/config.hpp"
#include "dendrite/expr/evaluate.hpp"
#include "dendrite/expr/lane.hpp"
#include "dendrite/simd/loop.hpp"
#include "dendrite/simd/parallel.hpp"
#include "dendrite/simd/simd.hpp"

namespace dendrite::inline DENDRITE_TARGET {

namespace detail {

/// The number of var leaves in expression E (x * sigmoid(x) holds two).
template <class E>
struct var_leaf_count : std::integral_constant<std::size_t, 0> {};
template <class T>
struct var_leaf_count<expr::var_leaf<T>> : std::integral_constant<std::size_t, 1> {};
template <class Op, class A>
struct var_leaf_count<expr::unary_expr<Op, A>> : var_leaf_count<A> {};
template <class Op, class L, class R>
struct var_leaf_count<expr::binary_expr<Op, L, R>>
    : std::integral_constant<std::size_t, var_leaf_count<L>::value + var_leaf_count<R>::value> {};
template <class C, class A, class B>
struct var_leaf_count<expr::where_expr<C, A, B>>
    : std::integral_constant<std::size_t, var_leaf_count<C>::value + var_leaf_count<A>::value +
                                              var_leaf_count<B>::value> {};

template <class T, class E>
class fused_node final : public typed_node<T> {
  public:
    explicit fused_node(const E& e) : expr_(e) {}

    /// Allocates the value and, unless the node is differentiated, computes it. A node on the
    /// gradient path is deferred until the tape records another node or its value is read: if
    /// backward reaches it first (a graph ending in it, its output followed only by the seed),
    /// backward computes value and gradients in one pass over the inputs, not two.
    void forward(tape& t) {
        this->value = t.acquire_value<T>(expr_.shape());
        if (this->requires_grad && !t.anomaly_detection())
            t.defer(*this);
        else
            evaluate();
    }

    void materialize() override {
        evaluate();
        this->pending = false;
    }

    void backward(tape& t) override {
        if (!this->has_grad()) {
            if (this->pending) materialize();
            return;
        }
        const tensor<T>& g = this->grad();
        // The upstream gradient, then (deferred) the value to write, then the expression's leaves.
        constexpr std::size_t N = E::leaf_count + 2;
        expr::leaf_collector<N> leaves;
        leaves(g.shape(), g.strides());
        leaves(this->value.shape(), this->value.strides());
        expr_.for_each_leaf(leaves);
        auto plan = expr::plan_loop<N>(g.shape(), leaves.shapes, leaves.strides);
        const bool write_value = this->pending;
        if constexpr (var_leaf_count<E>::value >= 2) {
            if (plan.contiguous && sweep_single_var(t, plan, write_value)) return;
            if (sweep_var_and_scalars(t, write_value)) return;
        }

        const shape& out_shape = this->value.shape();
        auto bind = [&](auto& leaf) {
            auto& n = leaf.v.node();
            leaf.overwrite = false;
            if (!n.requires_grad) {
                leaf.grad = nullptr;
            } else if (expr::sweep_reaches_all_leaves<E>::value && !n.has_grad() &&
                       leaf.shape() == out_shape) {
                // The first occurrence of a var with no gradient yet, covering the whole output,
                // writes each element exactly once: store instead of zero-fill then add. Later
                // occurrences (x in x * sigmoid(x)) see has_grad() and accumulate after it, in the
                // same order within each SIMD batch.
                leaf.grad = n.grad_for_overwrite(t).data();
                leaf.overwrite = true;
            } else {
                leaf.grad = n.grad_accumulator(t).data();
            }
        };
        expr_.for_each_var(bind);
        const bool parallel = !broadcasts_a_leaf(plan);

        const expr::loop_strides* s = plan.strides.data();
        expr::read_cursor<T> upstream{g.data(), *s++};
        expr::write_cursor<T> out{this->value.data(), *s++};
        auto in = expr_.cursor(s);
        using with_value = expr::paired_cursor<expr::write_cursor<T>, decltype(in)>;
        expr::paired_cursor<expr::read_cursor<T>, with_value> proto{upstream, with_value{out, in}};
        // One kernel for both cases (a runtime test per register, not a second instantiation of
        // every expression's sweep).
        expr::run_plan<T>(
            plan, proto,
            [write_value]<class X, bool C>(auto& cur, std::size_t j) {
                auto cache = cur.in.in.template forward<X, C>(j);
                if (write_value) cur.in.out.template store<X, C>(j, cache.value);
                cur.in.in.template backward<X, C>(j, cache, cur.out.template value<X, C>(j));
            },
            parallel);
        this->pending = false;
    }

    std::string name() const override { return "fused(" + expr_.describe() + ")"; }

    /// The value's tangent: the expression evaluated on {value, tangent} jets of its vars, in
    /// one pass (forward mode, as jvp).
    void forward_tangent(tape& t) override {
        if (!bind_tangents(nullptr)) {
            this->tangent = tensor<T>();
            return;
        }
        this->tangent = t.acquire_value<T>(this->value.shape());
        auto [plan, cursor] = expr::bind_for_write(this->tangent.data(), this->tangent.shape(),
                                                   this->tangent.strides(), expr_);
        // Scalar jets only, through the same forward sweep as backward_second_order's: an HVP
        // is rarer than a step, and every expression's second order costs compile time.
        expr::run_plan_scalar<T>(plan, cursor, []<class X, bool>(auto& cur, std::size_t j) {
            cur.out.template store<X, false>(
                j, cur.in.template forward<simd::jet<X, 1>, false>(j).value.c[1]);
        });
        unbind_tangents();
    }

    /// The gradient and its tangent in one sweep over {value, tangent} jets, seeded with
    /// {gradient, gradient's tangent}: each op's local derivative, applied to jets, carries the
    /// second derivatives (forward over reverse), with no rule written for them.
    void backward_second_order(tape& t) override {
        if (!this->has_grad()) return;
        const tensor<T>& g = this->grad();
        const bool has_dg = this->has_grad_tangent();
        const tensor<T>& dg = has_dg ? this->grad_tangent() : g;
        constexpr std::size_t N = E::leaf_count + 2;
        expr::leaf_collector<N> leaves;
        leaves(g.shape(), g.strides());
        leaves(dg.shape(), dg.strides());
        expr_.for_each_leaf(leaves);
        auto plan = expr::plan_loop<N>(g.shape(), leaves.shapes, leaves.strides);
        bind_tangents(&t);
        const bool parallel = !broadcasts_a_leaf(plan);
        const expr::loop_strides* s = plan.strides.data();
        expr::read_cursor<T> upstream{g.data(), *s++};
        expr::read_cursor<T> upstream_tangent{dg.data(), *s++};
        auto in = expr_.cursor(s);
        using with_tangent = expr::paired_cursor<expr::read_cursor<T>, decltype(in)>;
        expr::paired_cursor<expr::read_cursor<T>, with_tangent> proto{
            upstream, with_tangent{upstream_tangent, in}};
        expr::run_plan_scalar<T>(
            plan, proto,
            [has_dg]<class X, bool>(auto& cur, std::size_t j) {
                using J = simd::jet<X, 1>;
                const auto cache = cur.in.in.template forward<J, false>(j);
                const X dy = has_dg ? cur.in.out.template value<X, false>(j) : X(T(0));
                cur.in.in.template backward<J, false>(
                    j, cache, J::seed(cur.out.template value<X, false>(j), dy));
            },
            parallel);
        unbind_tangents();
    }

  private:
    /// The sweep of an expression whose var leaves are all one var, over contiguous memory: the
    /// var's lanes are loaded once and its contributions (two in x * sigmoid(x)) summed in
    /// registers, then written once, where the general sweep stores one and adds the next from
    /// memory. False, having done nothing, when the leaves hold more than one var.
    template <std::size_t N>
    bool sweep_single_var(tape& t, const expr::loop_plan<N>& plan, bool write_value) {
        typed_node<T>* x_node = nullptr;
        bool single = true;
        auto same = [&](const auto& leaf) {
            typed_node<T>* n = &leaf.v.node();
            single = single && (x_node == nullptr || x_node == n);
            x_node = n;
        };
        expr_.for_each_var(same);
        if (!single || !x_node->requires_grad) return false;

        const T* x = x_node->value.data();
        const bool accumulate = x_node->has_grad();
        T* dx = (accumulate ? x_node->grad_accumulator(t) : x_node->grad_for_overwrite(t)).data();
        const T* dy = this->grad().data();
        T* y = this->value.data();
        const expr::loop_strides* s = plan.strides.data() + 2;
        const auto in = expr_.cursor(s);

        constexpr std::size_t W = simd::width<T>;
        simd::parallel_for(
            plan.size(), W, simd::parallel_threshold, [&](std::size_t b, std::size_t e) {
                expr::lane_slot<T> slot;
                auto cur = in.on_lanes(&slot);
                cur.set_row(0, 0, 0);
                sweep_range(cur, slot, b, e, x, dy, write_value ? y : nullptr, dx, accumulate);
            });
        this->pending = false;
        return true;
    }

    /// Points every var leaf at its value's tangent and, with a tape, at its gradient and the
    /// gradient's tangent; true when some leaf has a tangent.
    bool bind_tangents(tape* t) {
        bool any = false;
        auto bind = [&](auto& leaf) {
            auto& n = leaf.v.node();
            if (n.has_tangent() && !n.value.is_contiguous())
                throw autodiff_error("hvp: '" + name() + "' reads a strided value");
            leaf.tangent = n.has_tangent() ? n.tangent.data() : nullptr;
            any = any || leaf.tangent != nullptr;
            leaf.overwrite = false;
            if (t == nullptr || !n.requires_grad) {
                leaf.grad = nullptr;
                leaf.grad_tangent = nullptr;
            } else {
                leaf.grad = n.grad_accumulator(*t).data();
                leaf.grad_tangent = n.grad_tangent_accumulator(*t).data();
            }
        };
        expr_.for_each_var(bind);
        return any;
    }
    void unbind_tangents() {
        auto unbind = [](auto& leaf) {
            leaf.tangent = nullptr;
            leaf.grad_tangent = nullptr;
        };
        expr_.for_each_var(unbind);
    }

    /// Whether some leaf of a sweep's plan (after the two upstream operands) is broadcast along
    /// an axis: it then receives several rows' contributions at one address, sums that must not
    /// race, so the sweep stays on one thread.
    template <std::size_t N>
    static bool broadcasts_a_leaf(const expr::loop_plan<N>& plan) {
        for (std::size_t l = 2; l < N; ++l)
            for (std::size_t a = 0; a < max_rank; ++a)
                if (plan.dims[a] > 1 && plan.strides[l][a] == 0) return true;
        return false;
    }

    /// Sweeps elements [b, e) of the single var: its value x, the upstream dy, the value y
    /// stored when not null, its gradient dx. Taken by value, the pointers stay in registers
    /// (captured by reference from the caller, they were reloaded on every iteration).
    template <class Cursor>
    DENDRITE_ALWAYS_INLINE static void sweep_range(const Cursor& cur, expr::lane_slot<T>& slot,
                                                   std::size_t b, std::size_t e, const T* x,
                                                   const T* dy, T* y, T* dx, bool add_to_grad) {
        auto step = [&]<class X>(std::size_t j) {
            sweep_lanes<X>(cur, slot, j, x, dy, y, dx, add_to_grad);
        };
        simd::for_lanes<T>(b, e, step);
    }

    /// One register of a sweep whose var x is read through `slot`: x's lanes at j into the slot,
    /// the expression forward (its value stored into y unless y is null) and backward from dy,
    /// and the gradient summed in the slot stored into dx (added to it when `add_to_grad`;
    /// nothing when dx is null).
    template <class X, class Cursor>
    DENDRITE_ALWAYS_INLINE static void sweep_lanes(const Cursor& cur, expr::lane_slot<T>& slot,
                                                   std::size_t j, const T* x, const T* dy, T* y,
                                                   T* dx, bool add_to_grad) {
        slot.template value<X>() = expr::load_lanes<X, true>(x, 1, j);
        slot.template grad<X>() = expr::lane_gradient_start<E, X>();
        const auto cache = cur.template forward<X, true>(j);
        if (y) simd::store_lanes(y + j, cache.value);
        cur.template backward<X, true>(j, cache, expr::load_lanes<X, true>(dy, 1, j));
        if (!dx) return;
        X d = slot.template grad<X>();
        if (add_to_grad) d += expr::load_lanes<X, true>(dx, 1, j);
        simd::store_lanes(dx + j, d);
    }

    /// The sweep of an expression over one var x of the output's shape and one-element vars
    /// broadcast over it (a learnable activation's parameters), all contiguous: x's contributions
    /// are summed in registers as in sweep_single_var, and each one-element var's gradient in a
    /// register for the whole chunk, reduced across lanes once at its end rather than once per
    /// register. False, having done nothing, for any other expression.
    bool sweep_var_and_scalars(tape& t, bool write_value) {
        const std::size_t size = this->value.size();
        if (size <= 1 || !this->value.is_contiguous() || !this->grad().is_contiguous())
            return false;
        typed_node<T>* x_node = nullptr;
        expr::var_slots<T> proto;
        std::array<typed_node<T>*, expr::var_slots<T>::capacity> scalars{};
        bool fits = true;
        std::size_t var_leaves = 0;
        auto classify = [&](const auto& leaf) {
            ++var_leaves;
            typed_node<T>* n = &leaf.v.node();
            if (!n->value.is_contiguous()) fits = false;
            if (n->value.size() == 1 && n->value.shape().rank() <= this->value.shape().rank()) {
                if (proto.find(n->value.data()) != nullptr) return;
                if (proto.count == proto.capacity) {
                    fits = false;
                    return;
                }
                scalars[proto.count] = n;
                proto.bases[proto.count++] = n->value.data();
            } else if (n->value.shape() == this->value.shape() &&
                       (x_node == nullptr || x_node == n)) {
                x_node = n;
            } else {
                fits = false;
            }
        };
        expr_.for_each_var(classify);
        // Every leaf must be a var: a tensor leaf would be read flat, which only its full shape
        // allows.
        if (!fits || x_node == nullptr || proto.count == 0 || var_leaves != E::leaf_count ||
            proto.find(x_node->value.data()) != nullptr)
            return false;
        const std::size_t xi = proto.count;
        proto.bases[proto.count++] = x_node->value.data();

        const T* x = x_node->value.data();
        const bool x_grad = x_node->requires_grad;
        const bool accumulate = x_grad && x_node->has_grad();
        T* dx =
            !x_grad
                ? nullptr
                : (accumulate ? x_node->grad_accumulator(t) : x_node->grad_for_overwrite(t)).data();
        std::array<T*, expr::var_slots<T>::capacity> scalar_grads{};
        for (std::size_t i = 0; i < xi; ++i) {
            const T v = scalars[i]->value.data()[0];
            proto.slots[i].batch_value = simd::batch<T>(v);
            proto.slots[i].scalar_value = v;
            proto.slots[i].batch_grad = simd::batch<T>(T(0));
            proto.slots[i].scalar_grad = T(0);
            if (scalars[i]->requires_grad) scalar_grads[i] = scalars[i]->grad_accumulator(t).data();
        }
        const T* dy = this->grad().data();
        T* y = this->value.data();
        // The cursor reads no memory (every leaf is a slot): its strides are never used.
        std::array<expr::loop_strides, E::leaf_count> strides{};
        const expr::loop_strides* s = strides.data();
        const auto in = expr_.cursor(s);
        std::mutex reduce;

        constexpr std::size_t W = simd::width<T>;
        simd::parallel_for(size, W, simd::parallel_threshold, [&](std::size_t b, std::size_t e) {
            expr::var_slots<T> slots = proto;
            auto cur = in.on_lanes(&slots);
            expr::lane_slot<T>& xs = slots.slots[xi];
            sweep_range(cur, xs, b, e, x, dy, write_value ? y : nullptr, dx, accumulate);
            const std::lock_guard<std::mutex> lock(reduce);
            for (std::size_t i = 0; i < xi; ++i)
                if (scalar_grads[i])
                    scalar_grads[i][0] +=
                        simd::hsum(slots.slots[i].batch_grad) + slots.slots[i].scalar_grad;
        });
        this->pending = false;
        return true;
    }

    void evaluate() {
        expr::evaluate_into(this->value.data(), this->value.shape(), this->value.strides(), expr_);
    }

    E expr_;
};

}  // namespace detail

/// The tape an expression's vars are recorded on; throws if they come from different tapes.
template <class E>
tape& tape_of(const E& e) {
    tape* found = nullptr;
    auto visit = [&](const auto& leaf) {
        tape* t = &leaf.v.tape();
        if (found && found != t)
            throw autodiff_error("expression mixes variables from different tapes: " +
                                 e.describe());
        found = t;
    };
    e.for_each_var(visit);
    if (!found) throw autodiff_error("expression has no variable: " + e.describe());
    return *found;
}

/// Records element-wise expression `e` (over vars) as one fused node and returns its var.
template <expression E>
auto record(const E& e) {
    const auto& n = as_node(e);
    using N = std::remove_cvref_t<decltype(n)>;
    using T = typename N::value_type;
    tape& t = tape_of(n);
    auto& node = t.make<detail::fused_node<T, N>>(n);
    bool any_grad = false;
    auto visit = [&](const auto& leaf) { any_grad = any_grad || leaf.v.requires_grad(); };
    n.for_each_var(visit);
    node.requires_grad = any_grad && !no_grad_guard::active();
    node.forward(t);
    t.check_anomaly(node);
    return var<T>(t, node);
}

template <class T>
template <class E>
requires detail::recordable_expression<E, T> var<T>::var(const E& e) : var(record(e)) {}

}  // namespace dendrite::inline DENDRITE_TARGET
