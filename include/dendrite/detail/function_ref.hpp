#pragma once
// A non-owning reference to a callable: what virtual interfaces take instead of std::function,
// which allocates for large captures and costs its header in every unit.

#include <memory>
#include <type_traits>
#include <utility>

#include "dendrite/config.hpp"

namespace dendrite::inline DENDRITE_TARGET::detail {

template <class Signature>
class function_ref;

/// Refers to any callable with this signature; valid while the callable lives (pass it down a
/// call, never store it).
template <class R, class... Args>
class function_ref<R(Args...)> {
  public:
    template <class F>
    requires(!std::is_same_v<std::remove_cvref_t<F>, function_ref> &&
             std::is_invocable_r_v<R, F&, Args...>) function_ref(F&& f)
    noexcept  // NOLINT: converts like std::function
        : object_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
          call_([](void* o, Args... args) -> R {
              return (*static_cast<std::remove_reference_t<F>*>(o))(std::forward<Args>(args)...);
          }) {}

    R operator()(Args... args) const { return call_(object_, std::forward<Args>(args)...); }

  private:
    void* object_;
    R (*call_)(void*, Args...);
};

}  // namespace dendrite::inline DENDRITE_TARGET::detail
