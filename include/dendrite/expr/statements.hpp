#pragma once
// Several outputs in one fused pass: statements over registers.
//
//   auto [w, m, v, g] = expr::hold(p.value, m_buffer, v_buffer, expr::temporary);
//   expr::run(assign(g, p.grad),
//             assign(m, b1 * m + c1 * g),
//             assign(v, b2 * v + c2 * (g * g)),
//             assign(w, w - lr * m / (sqrt(v) + eps)));
//
// `hold` names registers: w, m and v stand for tensors, g for a temporary. Per register of lanes
// (and per element of the remainder), `run` loads each held tensor that a statement reads before
// one assigns it, runs the statements in order, each writing its register, and stores every
// assigned tensor once at the end: a later statement reads what an earlier one assigned from the
// register, never from memory. Plain tensors in a statement (p.grad) are read from memory as in
// any expression. The pass is one flat loop, split over threads like every element-wise pass, so
// an optimizer's update is written as its paper's equations at the cost of a hand-fused loop.
//
// The held tensors and the tensors the statements read are contiguous and of one shape (numbers
// broadcast); broadcasting and strided views are the single-output evaluator's (tensor::assign).
// A statement list compiles its flat loop only: the vector body and the scalar remainder.

#include <cstddef>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "dendrite/config.hpp"
#include "dendrite/expr/functions.hpp"
#include "dendrite/expr/node.hpp"
#include "dendrite/simd/loop.hpp"
#include "dendrite/simd/parallel.hpp"
#include "dendrite/simd/simd.hpp"
#include "dendrite/tensor/tensor.hpp"

namespace dendrite::inline DENDRITE_TARGET::expr {

// ---- registers --------------------------------------------------------------------------------

/// The lanes of one register, for either lane type.
template <class T>
struct lane_register {
    simd::batch<T> batch{};
    T scalar{};
    template <class X>
    DENDRITE_ALWAYS_INLINE X& get() noexcept {
        if constexpr (simd::is_batch_v<X>)
            return batch;
        else
            return scalar;
    }
};

/// The N registers of a statement list (each thread has its own).
template <class T, std::size_t N>
struct register_file {
    static constexpr std::size_t size = N;
    lane_register<T> r[N];
};

template <class S>
inline constexpr bool is_register_file = false;
template <class T, std::size_t N>
inline constexpr bool is_register_file<register_file<T, N>> = true;

/// Reads register I. Built unbound: `on_lanes(file)` points it at a thread's registers.
template <class T, std::size_t I>
struct held_cursor {
    static constexpr bool has_grad = false;
    lane_register<T>* regs = nullptr;

    DENDRITE_ALWAYS_INLINE void set_row(std::size_t, std::size_t, std::size_t) noexcept {}
    template <class X, bool C>
    DENDRITE_ALWAYS_INLINE X value(std::size_t) const noexcept {
        return regs[I].template get<X>();
    }
    template <class Slot>
    held_cursor on_lanes(Slot* slot) const noexcept {
        if constexpr (is_register_file<Slot>) {
            static_assert(I < Slot::size,
                          "expr::run: a statement reads a held register that no statement assigns");
            return {slot->r};
        } else {
            return *this;
        }
    }
};

/// The shape of a temporary: a scalar's, which broadcasts anywhere.
inline constexpr dendrite::shape no_shape{};

/// Register I as an expression: its current lanes. Bound: the register stands for the tensor
/// `*target` (loaded before a statement first reads it, stored after the last statement);
/// otherwise a temporary, whose shape broadcasts anywhere. A pointer, not a handle: statements
/// run where they are written, while the tensors live.
template <class T, std::size_t I, bool Bound>
struct held {
    static constexpr bool is_dendrite_expression = true;
    static constexpr std::size_t leaf_count = 0;
    static constexpr bool has_grad = false;
    static constexpr bool bound = Bound;
    using value_type = T;

    tensor<T>* target = nullptr;  // null for a temporary, or a bound register no statement uses

    const dendrite::shape& shape() const noexcept { return target ? target->shape() : no_shape; }
    template <class F>
    void for_each_leaf(F&) const {}
    template <class F>
    void for_each_var(F&) {}
    template <class F>
    void for_each_var(F&) const {}
    held_cursor<T, I> cursor(const loop_strides*&) const noexcept { return {}; }
    std::string describe() const { return "r" + std::to_string(I); }
};

template <class T, std::size_t I, bool B>
struct sweep_reaches_all_leaves<held<T, I, B>> : std::true_type {};

/// Tag for `hold`: a register standing for no tensor (a temporary of the statements).
struct temporary_t {
    explicit constexpr temporary_t() = default;
};
inline constexpr temporary_t temporary{};

namespace detail {
/// Values of types V... side by side, read back by position: get<K>().
template <class... V>
class indexed {
    template <std::size_t K, class X>
    struct entry {
        X value;
    };
    template <class Seq>
    struct entries;
    template <std::size_t... K>
    struct entries<std::index_sequence<K...>> : entry<K, V>... {
        explicit entries(const V&... v) : entry<K, V>{v}... {}
    };
    template <std::size_t K, class X>
    static const X& pick(const entry<K, X>& e) noexcept {
        return e.value;
    }
    template <std::size_t K, class X>
    static X& pick(entry<K, X>& e) noexcept {
        return e.value;
    }
    entries<std::index_sequence_for<V...>> all_;

  public:
    explicit indexed(const V&... v) : all_(v...) {}
    template <std::size_t K>
    const auto& get() const noexcept {
        return pick<K>(all_);
    }
    template <std::size_t K>
    auto& get() noexcept {
        return pick<K>(all_);
    }
};

template <class A>
inline constexpr bool is_tensor = false;
template <class T>
inline constexpr bool is_tensor<tensor<T>> = true;

template <class A>
inline constexpr bool is_temporary = std::is_same_v<std::remove_cvref_t<A>, temporary_t>;

/// The value type of the first tensor among a hold's arguments.
template <class... A>
struct held_value {
    static_assert(sizeof...(A) != sizeof...(A), "expr::hold: give at least one tensor");
};
template <class A, class... R>
struct held_value<A, R...> : held_value<R...> {};
template <class T, class... R>
struct held_value<tensor<T>, R...> {
    using type = T;
};
template <class T, class... R>
struct held_value<tensor<T>*, R...> {
    using type = T;
};

template <class T>
tensor<T>* target_of(tensor<T>& t) noexcept {
    return &t;
}
template <class T>
tensor<T>* target_of(tensor<T>* t) noexcept {
    return t;
}
template <class T>
tensor<T>* target_of(temporary_t) noexcept {
    return nullptr;
}
}  // namespace detail

/// The registers `hold` names, for structured bindings: `auto [w, m, g] = hold(...)`.
template <class... H>
struct held_set : detail::indexed<H...> {
    using detail::indexed<H...>::indexed;
};

/// Names registers 0, 1, ... of a statement list, one per argument: a tensor (an lvalue: the
/// register is loaded from it and stored to it), a pointer to one (null when no statement uses
/// the register: a buffer only some variants of a rule have), or `temporary`. The value type
/// is the first tensor's.
template <class... A>
auto hold(A&&... a) {
    static_assert(
        ((std::is_lvalue_reference_v<A> || !detail::is_tensor<std::remove_cvref_t<A>>)&&...),
        "expr::hold: a held tensor must outlive the statements (pass an lvalue)");
    using T = typename detail::held_value<std::remove_cvref_t<A>...>::type;
    return [&]<std::size_t... K>(std::index_sequence<K...>) {
        return held_set<held<T, K, !detail::is_temporary<A>>...>{
            held<T, K, !detail::is_temporary<A>>{detail::target_of<T>(a)}...};
    }
    (std::index_sequence_for<A...>{});
}

// ---- statements -------------------------------------------------------------------------------

/// `assign(r, e)`: register I takes the value of expression e (and is stored to *target when
/// Bound).
template <class T, std::size_t I, bool Bound, class E>
struct statement {
    static constexpr std::size_t index = I;
    tensor<T>* target;
    E rhs;
};

/// What `when<false>` leaves: a statement that does nothing.
struct no_statement {};

/// Register `r` takes the value of `e` (an expression without autodiff variables, or a number).
template <class T, std::size_t I, bool B, class E>
requires(plain_expression<E> || arithmetic<E>) auto assign(const held<T, I, B>& r, const E& e) {
    using N = std::remove_cvref_t<decltype(as_operand<E, T>(e))>;
    static_assert(std::is_same_v<typename N::value_type, T>,
                  "expr::assign: the expression's value type differs from the register's");
    return statement<T, I, B, N>{r.target, as_operand<E, T>(e)};
}

/// The statement s when B, else nothing: a step only some variants of a rule take
/// (`when<nesterov>(assign(d, d + mu * b))`).
template <bool B, class S>
auto when(const S& s) {
    if constexpr (B)
        return s;
    else
        return no_statement{};
}

// ---- what the registers need: loaded, stored ----------------------------------------------

/// Whether expression E reads register I: yes, no, or maybe (node kinds not listed here, which
/// are then taken to read it).
enum class reads { no, yes, maybe };

template <std::size_t I, class E>
struct reads_register : std::integral_constant<reads, reads::maybe> {};
template <std::size_t I, class T>
struct reads_register<I, tensor_leaf<T>> : std::integral_constant<reads, reads::no> {};
template <std::size_t I, class T>
struct reads_register<I, scalar_node<T>> : std::integral_constant<reads, reads::no> {};
template <std::size_t I, class T, std::size_t J, bool B>
struct reads_register<I, held<T, J, B>>
    : std::integral_constant<reads, I == J ? reads::yes : reads::no> {};

constexpr reads either(reads a, reads b) noexcept {
    return a == reads::yes || b == reads::yes       ? reads::yes
           : a == reads::maybe || b == reads::maybe ? reads::maybe
                                                    : reads::no;
}
template <std::size_t I, class Op, class A>
struct reads_register<I, unary_expr<Op, A>> : reads_register<I, A> {};
template <std::size_t I, class Op, class L, class R>
struct reads_register<I, binary_expr<Op, L, R>>
    : std::integral_constant<reads,
                             either(reads_register<I, L>::value, reads_register<I, R>::value)> {};
template <std::size_t I, class C, class A, class B>
struct reads_register<I, where_expr<C, A, B>>
    : std::integral_constant<reads, either(reads_register<I, C>::value,
                                           either(reads_register<I, A>::value,
                                                  reads_register<I, B>::value))> {};

template <class S>
struct statement_traits {  // no_statement
    static constexpr bool assigns(std::size_t) noexcept { return false; }
    static constexpr bool binds(std::size_t) noexcept { return false; }
    template <std::size_t I>
    static constexpr reads read = reads::no;
    static constexpr std::size_t registers = 0;
    static constexpr std::size_t leaves = 0;
    static constexpr bool stores = false;
};
template <class T, std::size_t J, bool B, class E>
struct statement_traits<statement<T, J, B, E>> {
    static constexpr bool assigns(std::size_t i) noexcept { return i == J; }
    static constexpr bool binds(std::size_t i) noexcept { return i == J && B; }
    template <std::size_t I>
    static constexpr reads read = reads_register<I, E>::value;
    static constexpr std::size_t registers = J + 1;
    static constexpr std::size_t leaves = E::leaf_count;
    static constexpr bool stores = B;
};

/// What statements S need of register I: whether one assigns it, and whether it is read before
/// (maybe read: loaded all the same).
template <std::size_t I, class... S>
struct register_use {
    static constexpr bool assigned = (statement_traits<S>::assigns(I) || ...);
    /// Stands for a tensor (statements assigning it agree, as they hold one register).
    static constexpr bool bound = (statement_traits<S>::binds(I) || ...);
    /// Whether the first statement touching it reads it: yes, maybe (a node kind not listed
    /// above), or no (it assigns it first, or nothing uses it).
    static constexpr reads read_first = [] {
        reads r = reads::no;
        bool done = false;
        (
            [&] {
                if (done) return;
                const reads here = statement_traits<S>::template read<I>;
                if (here != reads::no) r = here;
                done = here == reads::yes || statement_traits<S>::assigns(I);
            }(),
            ...);
        return r;
    }();
    static constexpr bool loaded = bound && read_first != reads::no;
    static constexpr bool stored = bound && assigned;
};

/// One past the largest register the statements assign.
template <class... S>
inline constexpr std::size_t register_count = [] {
    std::size_t n = 0;
    ((n = statement_traits<S>::registers > n ? statement_traits<S>::registers : n), ...);
    return n;
}();

/// The value type of the first statement that is not no_statement.
template <class... S>
struct statements_value {
    static_assert(sizeof...(S) != sizeof...(S), "expr::run: no statement");
};
template <class S, class... R>
struct statements_value<S, R...> : statements_value<R...> {};
template <class T, std::size_t I, bool B, class E, class... R>
struct statements_value<statement<T, I, B, E>, R...> {
    using type = T;
};

// ---- evaluation -------------------------------------------------------------------------------

/// Runs one statement on lanes X at column j: register I takes the expression's value.
template <class T, std::size_t I, class C>
struct statement_cursor {
    lane_register<T>* regs = nullptr;
    C rhs;

    DENDRITE_ALWAYS_INLINE void set_row(std::size_t i0, std::size_t i1, std::size_t i2) noexcept {
        rhs.set_row(i0, i1, i2);
    }
    template <class X>
    DENDRITE_ALWAYS_INLINE void run(std::size_t j) const noexcept {
        regs[I].template get<X>() = rhs.template value<X, true>(j);
    }
    template <std::size_t N>
    auto on_lanes(register_file<T, N>* file) const noexcept {
        auto c = rhs.on_lanes(file);
        return statement_cursor<T, I, decltype(c)>{file->r, c};
    }
};

/// The cursor of a no_statement.
struct no_statement_cursor {
    DENDRITE_ALWAYS_INLINE void set_row(std::size_t, std::size_t, std::size_t) noexcept {}
    template <class X>
    DENDRITE_ALWAYS_INLINE void run(std::size_t) const noexcept {}
    template <class File>
    no_statement_cursor on_lanes(File*) const noexcept {
        return {};
    }
};

template <class T, std::size_t I, bool B, class E>
auto make_cursor(const statement<T, I, B, E>& s, const loop_strides*& st) {
    return statement_cursor<T, I, decltype(s.rhs.cursor(st))>{nullptr, s.rhs.cursor(st)};
}
inline no_statement_cursor make_cursor(const no_statement&, const loop_strides*&) {
    return {};
}

/// The statements' cursors, run in order.
template <class... C>
struct statement_list_cursor {
    detail::indexed<C...> items;

    DENDRITE_ALWAYS_INLINE void set_row(std::size_t i0, std::size_t i1, std::size_t i2) noexcept {
        [&]<std::size_t... K>(std::index_sequence<K...>) {
            (items.template get<K>().set_row(i0, i1, i2), ...);
        }
        (std::index_sequence_for<C...>{});
    }
    template <class X>
    DENDRITE_ALWAYS_INLINE void run(std::size_t j) const noexcept {
        [&]<std::size_t... K>(std::index_sequence<K...>) {
            (items.template get<K>().template run<X>(j), ...);
        }
        (std::index_sequence_for<C...>{});
    }
    template <class File>
    auto on_lanes(File* file) const noexcept {
        return [&]<std::size_t... K>(std::index_sequence<K...>) {
            using list = detail::indexed<decltype(items.template get<K>().on_lanes(file))...>;
            return statement_list_cursor<decltype(items.template get<K>().on_lanes(file))...>{
                list{items.template get<K>().on_lanes(file)...}};
        }
        (std::index_sequence_for<C...>{});
    }
};

namespace detail {
// The checks of run, compiled once rather than once per statement list.

/// Records the tensor of a held register: contiguous, of the others' shape (`out`, null for the
/// first), and the only tensor of register `index`.
[[gnu::noinline]] inline void check_held(const void* previous, const void* data, const shape& s,
                                         bool contiguous, const shape*& out, std::size_t index) {
    if (previous != nullptr && previous != data)
        throw std::invalid_argument("expr::run: register " + std::to_string(index) +
                                    " stands for two tensors (hold them in one call)");
    if (!contiguous)
        throw shape_error("expr::run: held tensor of shape " + s.str() +
                          " is a strided view; statements run over contiguous tensors");
    if (out != nullptr && !(s == *out))
        throw shape_error("expr::run: held tensors of shapes " + out->str() + " and " + s.str());
    out = &s;
}

[[noreturn, gnu::noinline]] inline void throw_unbound(std::size_t index) {
    throw std::invalid_argument("expr::run: a statement assigns register " + std::to_string(index) +
                                ", which stands for no tensor (a null pointer given to hold) and "
                                "was not declared a temporary");
}

/// Checks that a tensor a statement reads lies as the held tensors do.
struct flat_leaf_check {
    const shape& out;
    void operator()(const shape& s, const strides_t& st) const {
        std::ptrdiff_t expected = 1;
        bool flat = s == out;
        for (std::size_t a = s.rank(); flat && a-- > 0;) {
            flat = st[a] == expected || s[a] == 1;
            expected *= static_cast<std::ptrdiff_t>(s[a]);
        }
        if (!flat) fail(s);
    }
    [[noreturn, gnu::noinline]] void fail(const shape& s) const {
        throw shape_error("expr::run: a statement reads a tensor of shape " + s.str() +
                          " or a strided view; statements read contiguous tensors of the held "
                          "shape " +
                          out.str() + ", and numbers");
    }
};
}  // namespace detail

/// Runs the statements (`assign`s, and `when`s of them) in order, in one fused pass over memory:
/// see the top of this header. Cost: one read of each tensor the statements read and of each
/// held tensor read before it is assigned, one write of each assigned tensor; the expressions'
/// operations in registers. Throws shape_error when the tensors are strided or differ in shape,
/// std::invalid_argument when a register stands for two tensors or a statement assigns a
/// register held as a null pointer.
template <class... S>
void run(const S&... s) {
    using T = typename statements_value<S...>::type;
    constexpr std::size_t N = register_count<S...>;
    using regs = std::make_index_sequence<N>;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        static_assert(
            ((register_use<I, S...>::read_first != reads::yes || register_use<I, S...>::bound) &&
             ...),
            "expr::run: a temporary is read before a statement assigns it");
    }
    (regs{});

    // The memory of each register that stands for a tensor.
    T* memory[N] = {};
    const shape* out = nullptr;
    (
        [&]<class St>(const St& st) {
            if constexpr (statement_traits<St>::stores) {
                if (st.target == nullptr) detail::throw_unbound(St::index);
                detail::check_held(memory[St::index], st.target->data(), st.target->shape(),
                                   st.target->is_contiguous(), out, St::index);
                memory[St::index] = st.target->data();
            }
        }(s),
        ...);
    static_assert((statement_traits<S>::stores || ...),
                  "expr::run: the statements store no tensor");
    const detail::flat_leaf_check check{*out};
    (
        [&]<class St>(const St& st) {
            if constexpr (!std::is_same_v<St, no_statement>) st.rhs.for_each_leaf(check);
        }(s),
        ...);
    const std::size_t n = out->size();
    if (n == 0) return;

    // Every leaf walks the one flat loop with unit stride.
    loop_strides unit[(statement_traits<S>::leaves + ... + 1)];
    for (auto& u : unit)
        u = {0, 0, 0, 1};
    const loop_strides* st = unit;
    // Braces: the cursors take their strides in the statements' order.
    using cursors = statement_list_cursor<decltype(make_cursor(s, st))...>;
    const cursors proto{detail::indexed<decltype(make_cursor(s, st))...>{make_cursor(s, st)...}};

    simd::parallel_for(
        n, simd::width<T>, simd::parallel_threshold, [&](std::size_t b, std::size_t e) {
            register_file<T, N> file;
            auto cur = proto.on_lanes(&file);
            cur.set_row(0, 0, 0);
            T* mem[N];
            for (std::size_t i = 0; i < N; ++i)
                mem[i] = memory[i];
            simd::for_lanes<T>(b, e, [&]<class X>(std::size_t j) {
                [&]<std::size_t... I>(std::index_sequence<I...>) {
                    ((register_use<I, S...>::loaded
                          ? void(file.r[I].template get<X>() = simd::load_lanes<X>(mem[I] + j))
                          : void()),
                     ...);
                    cur.template run<X>(j);
                    ((register_use<I, S...>::stored
                          ? simd::store_lanes(mem[I] + j, file.r[I].template get<X>())
                          : void()),
                     ...);
                }
                (regs{});
            });
        });
}

}  // namespace dendrite::inline DENDRITE_TARGET::expr

// The tuple protocol, for `auto [w, m, g] = expr::hold(...)`.
template <class... H>
struct std::tuple_size<dendrite::DENDRITE_TARGET::expr::held_set<H...>>
    : std::integral_constant<std::size_t, sizeof...(H)> {};
template <std::size_t K, class... H>
struct std::tuple_element<K, dendrite::DENDRITE_TARGET::expr::held_set<H...>> {
    using type = std::remove_cvref_t<
        decltype(std::declval<const dendrite::DENDRITE_TARGET::expr::held_set<H...>&>()
                     .template get<K>())>;
};
