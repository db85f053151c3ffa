#pragma once
// The message of the exception of type E that f throws; fails the test when there is none.

#include <catch2/catch.hpp>

#include <string>

namespace test_support {

template <class E, class F>
std::string message_of(F&& f) {
    try {
        f();
    } catch (const E& e) {
        return e.what();
    }
    FAIL("expected an exception of the right type, none was thrown");
    return {};
}

}  // namespace test_support
