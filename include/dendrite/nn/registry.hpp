#pragma once
// The kinds a run-time network can be built from: every built-in kind and activation, and any a
// user adds. Each entry is derived from its kind (nn/kind.hpp) by the same shape rule and `make`
// that nn::sequential uses; nothing about a kind is written twice.
//
//     auto kinds = nn::layer_registry<float>::builtin();       // a copy to extend
//     kinds.add<my_layer_kind>();                               // "my_layer:4" now parses
//     kinds.add_activation(nn::activation{my_fn, "my_act"});    // and "my_act"
//     nn::network<float> net(shape{784}, "dense:64,my_act,my_layer:4,dense:10", 1, kinds);

#include <cstddef>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "dendrite/config.hpp"
#include "dendrite/nn/activations.hpp"
#include "dendrite/nn/arguments.hpp"
#include "dendrite/nn/catalog.hpp"
#include "dendrite/nn/kind.hpp"
#include "dendrite/nn/layers.hpp"
#include "dendrite/nn/module.hpp"

namespace dendrite::inline DENDRITE_TARGET::nn {

/// A module built from a description, with the extents of its output.
template <class T>
struct built_module {
    std::unique_ptr<module<T>> layer;
    sample_dims out;
};

namespace detail {

/// Whether a layer type takes an element-wise activation into its epilogue.
template <class L>
concept takes_activation = requires {
    typename L::template with_activation<identity_activation>;
};

template <class... L>
struct type_list {};

/// The layer types kind K makes: one, or two when it makes another for images.
template <class K, class T>
auto made_types() {
    const typename K::options o{};
    const sample_dims in{};
    if constexpr (requires { K::template make_image<T>(o, in); })
        return type_list<decltype(K::template make<T>(o, in)),
                         decltype(K::template make_image<T>(o, in))>{};
    else
        return type_list<decltype(K::template make<T>(o, in))>{};
}

template <class K, class T>
using made_types_t = decltype(made_types<K, T>());

/// `plain` with activation `a` in its epilogue when it is a module of a layer type kind K makes
/// that takes activations; null otherwise.
template <class K, class T, class F>
std::unique_ptr<module<T>> fused_kind(module<T>& plain, const activation<F>& a);

/// `a` with the arguments of description `d` applied ("leaky_relu:0.2" sets the slope).
template <class F>
activation<F> configured(const activation<F>& a, const layer_description& d, std::size_t index,
                         const layer_catalog::match& m, const layer_syntax& syntax) {
    if constexpr (requires { F::arguments(); })
        return {read_arguments(a.f, F::arguments(), d, index, m, syntax), a.name};
    else
        return read_arguments(a, std::tuple<>{}, d, index, m, syntax);
}

/// `plain`, if it is a module of layer type L, rebuilt with activation `a` in its epilogue.
template <class T, class L, class F>
std::unique_ptr<module<T>> fused_with(module<T>& plain, const activation<F>& a) {
    if constexpr (takes_activation<L>) {
        if (auto* m = dynamic_cast<module_of<T, L>*>(&plain)) {
            using LF = typename L::template with_activation<activation<F>>;
            return std::make_unique<module_of<T, LF>>(LF(std::move(m->layer()), a, a.name),
                                                      m->out_dims());
        }
    }
    return nullptr;
}

template <class K, class T, class F>
std::unique_ptr<module<T>> fused_kind(module<T>& plain, const activation<F>& a) {
    return [&]<class... L>(type_list<L...>) {
        std::unique_ptr<module<T>> out;
        ((out = out ? std::move(out) : fused_with<T, L>(plain, a)), ...);
        return out;
    }(made_types_t<K, T>{});
}

/// The run-time builders of kind K for value type T. Defined out of the class, so that an
/// explicit instantiation declaration keeps them out of a unit (src/nn/builtin_registry.hpp).
template <class K, class T>
struct kind_builders {
    static built_module<T> build(const layer_description& d, std::size_t index,
                                 const layer_catalog::match& m, const layer_syntax& syntax,
                                 const sample_dims& in);

    /// `plain` (built by `build`) with the built-in activation `act` in its epilogue; null when
    /// K's layers take none or `act` is not built in.
    static std::unique_ptr<module<T>> fuse(module<T>& plain, const layer_description& act,
                                           std::size_t index, const layer_catalog::match& m,
                                           const layer_syntax& syntax);

    /// Whether K's layers take activations at all.
    static constexpr bool fuses = []<class... L>(type_list<L...>) {
        return (takes_activation<L> || ...);
    }(made_types_t<K, T>{});
};

template <class T, class L>
std::unique_ptr<module<T>> wrap_layer(L&& layer, const sample_dims& out) {
    return std::make_unique<module_of<T, std::remove_cvref_t<L>>>(std::forward<L>(layer), out);
}

template <class K, class T>
built_module<T> kind_builders<K, T>::build(const layer_description& d, std::size_t index,
                                           const layer_catalog::match& m,
                                           const layer_syntax& syntax, const sample_dims& in) {
    const auto o = read_arguments(typename K::options{}, K::arguments(), d, index, m, syntax);
    const layer_output out = K::output(o, in);
    if (!out.ok()) throw_layer_error(index, d.kind, explain(out, in));
    if constexpr (requires { K::template make_image<T>(o, in); }) {
        if (in.is_image())
            return {wrap_layer<T>(K::template make_image<T>(o, in), out.dims), out.dims};
    }
    return {wrap_layer<T>(K::template make<T>(o, in), out.dims), out.dims};
}

template <class K, class T>
std::unique_ptr<module<T>> kind_builders<K, T>::fuse(module<T>& plain, const layer_description& act,
                                                     std::size_t index,
                                                     const layer_catalog::match& m,
                                                     const layer_syntax& syntax) {
    std::unique_ptr<module<T>> out;
    if constexpr (fuses) {
        std::apply(
            [&](const auto&... a) {
                const auto try_one = [&](const auto& builtin) {
                    if (!out && act.kind == builtin.name)
                        out = fused_kind<K, T>(plain, configured(builtin, act, index, m, syntax));
                };
                (try_one(a), ...);
            },
            builtin_activations());
    }
    return out;
}

/// The run-time builders of activation `a`'s type for value type T.
template <class F, class T>
struct activation_builders {
    static built_module<T> build(const activation<F>& a, const layer_description& d,
                                 std::size_t index, const layer_catalog::match& m,
                                 const layer_syntax& syntax, const sample_dims& in) {
        const activation<F> f = configured(a, d, index, m, syntax);
        return {std::make_unique<module_of<T, activation_layer<T, activation<F>>>>(
                    activation_layer<T, activation<F>>(f, f.name), in),
                in};
    }

    /// `plain`, a layer of a built-in kind that takes activations, with `a` in its epilogue;
    /// null for any other layer.
    static std::unique_ptr<module<T>> fuse_into_builtin(module<T>& plain, const activation<F>& a,
                                                        const layer_description& d,
                                                        std::size_t index,
                                                        const layer_catalog::match& m,
                                                        const layer_syntax& syntax) {
        const activation<F> f = configured(a, d, index, m, syntax);
        std::unique_ptr<module<T>> out;
        [&]<class... K>(kind_list<K...>) {
            ((out = out ? std::move(out) : fused_kind<K, T>(plain, f)), ...);
        }(builtin_layer_kinds{});
        return out;
    }
};

}  // namespace detail

/// The kinds of layer and activation a run-time network of value type T is built from, by name.
/// Copies are cheap (shared entries); `builtin()` holds the library's own.
template <class T>
class layer_registry {
  public:
    /// The built-in kinds (nn::builtin_layer_kinds) and activations (nn::builtin_activations).
    static const layer_registry& builtin();

    /// An empty registry.
    layer_registry() = default;

    /// Adds kind K. A layer of K that takes activations absorbs the built-in ones after it.
    /// Throws network_error when K's name or an alias is taken.
    template <layer_kind K>
    layer_registry& add() {
        catalog_.add(syntax_of<K>());
        using B = detail::kind_builders<K, T>;
        builder b{};
        b.build = [](const void*, const layer_description& d, std::size_t i,
                     const layer_catalog::match& m, const layer_syntax& s,
                     const sample_dims& in) { return B::build(d, i, m, s, in); };
        if constexpr (B::fuses)
            b.fuse = [](const void*, module<T>& plain, const layer_description& act, std::size_t i,
                        const layer_catalog::match& m,
                        const layer_syntax& s) { return B::fuse(plain, act, i, m, s); };
        builders_.push_back(std::move(b));
        return *this;
    }

    /// Adds an activation under `a.name`: `add_activation(nn::activation{my_fn, "my_act"})`. The
    /// built-in layers that take activations (dense, conv) absorb it.
    template <class F>
    layer_registry& add_activation(const activation<F>& a) {
        return add_activation(a, true);
    }

    const layer_catalog& catalog() const noexcept { return catalog_; }

    /// Builds the layer of entry `m` for description `d`.
    built_module<T> build(const layer_catalog::match& m, const layer_description& d,
                          std::size_t index, const sample_dims& in) const {
        const builder& b = builders_[m.index];
        return b.build(b.object.get(), d, index, m, catalog_[m.index], in);
    }

    /// `plain` (built for entry `layer`) with the activation of entry `act` (described by `d`)
    /// in its epilogue, or null when they do not fuse.
    std::unique_ptr<module<T>> fuse(const layer_catalog::match& layer, module<T>& plain,
                                    const layer_catalog::match& act, const layer_description& d,
                                    std::size_t index) const {
        const builder& k = builders_[layer.index];
        const builder& a = builders_[act.index];
        if (!catalog_[act.index].is_activation) return nullptr;
        std::unique_ptr<module<T>> out;
        if (k.fuse) out = k.fuse(k.object.get(), plain, d, index, act, catalog_[act.index]);
        if (!out && a.fuse_into)
            out = a.fuse_into(a.object.get(), plain, d, index, act, catalog_[act.index]);
        return out;
    }

  private:
    template <class F>
    layer_registry& add_activation(const activation<F>& a, bool fuse_into_builtin) {
        catalog_.add(activation_syntax(a));
        using B = detail::activation_builders<F, T>;
        builder b{};
        b.build = [](const void* o, const layer_description& d, std::size_t i,
                     const layer_catalog::match& m, const layer_syntax& s, const sample_dims& in) {
            return B::build(*static_cast<const activation<F>*>(o), d, i, m, s, in);
        };
        if (fuse_into_builtin)
            b.fuse_into = [](const void* o, module<T>& plain, const layer_description& d,
                             std::size_t i, const layer_catalog::match& m, const layer_syntax& s) {
                return B::fuse_into_builtin(plain, *static_cast<const activation<F>*>(o), d, i, m,
                                            s);
            };
        b.object = std::make_shared<const activation<F>>(a);
        builders_.push_back(std::move(b));
        return *this;
    }

    // The built-in entries, each half compiled in a unit of its own (src/nn/).
    void add_builtin_kinds();
    void add_builtin_activations();

    struct builder {
        built_module<T> (*build)(const void* object, const layer_description&, std::size_t,
                                 const layer_catalog::match&, const layer_syntax&,
                                 const sample_dims&);
        std::unique_ptr<module<T>> (*fuse)(const void* object, module<T>& plain,
                                           const layer_description& act, std::size_t,
                                           const layer_catalog::match&, const layer_syntax&);
        std::unique_ptr<module<T>> (*fuse_into)(const void* object, module<T>& plain,
                                                const layer_description& act, std::size_t,
                                                const layer_catalog::match&, const layer_syntax&);
        std::shared_ptr<const void> object;
    };

    layer_catalog catalog_;
    std::vector<builder> builders_;
};

extern template class layer_registry<float>;
extern template class layer_registry<double>;

}  // namespace dendrite::inline DENDRITE_TARGET::nn
