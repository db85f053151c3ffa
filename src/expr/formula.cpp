// Formulas: interned nodes, simplification on construction, and the printer.
#include "dendrite/expr/formula.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

namespace dendrite::inline DENDRITE_TARGET::expr {

namespace {

using kind = formula::kind;

struct node {
    explicit node(kind kind_of) : k(kind_of) {}
    kind k;
    double value = 0;  // constant
    std::string name;  // variable, function
    std::uint32_t a = 0, b = 0, c = 0;
    // A hash of the structure (kind, name, value, the operands' hashes): the same in every
    // process, whatever was built before, so it can order the operands of + and *.
    std::uint64_t structure = 0;
};

std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h * 0x100000001b3ULL;
}

using node_key =
    std::tuple<kind, std::uint64_t, std::string, std::uint32_t, std::uint32_t, std::uint32_t>;

/// Every node ever built, interned: a formula is an index into `nodes`. Nodes are never freed;
/// describing the same functions again builds no new ones.
struct arena {
    std::mutex mutex;
    std::vector<node> nodes;
    std::map<node_key, std::uint32_t> index;

    static arena& get() {
        static arena a;
        return a;
    }
    std::uint32_t intern(node n) {
        std::uint64_t bits = 0;
        std::memcpy(&bits, &n.value, sizeof bits);
        node_key key{n.k, bits, n.name, n.a, n.b, n.c};
        std::lock_guard lock(mutex);
        n.structure = mix(static_cast<std::uint64_t>(n.k) + 1, bits);
        for (const char ch : n.name)
            n.structure = mix(n.structure, static_cast<unsigned char>(ch));
        const int operands =
            n.k == kind::constant || n.k == kind::variable                             ? 0
            : n.k == kind::select                                                      ? 3
            : n.k == kind::function || n.k == kind::negate || n.k == kind::logical_not ? 1
                                                                                       : 2;
        const std::uint32_t ids[3] = {n.a, n.b, n.c};
        for (int i = 0; i < operands; ++i)
            n.structure = mix(n.structure, nodes.at(ids[i]).structure);
        const auto [it, inserted] = index.try_emplace(std::move(key), 0);
        if (inserted) {
            it->second = static_cast<std::uint32_t>(nodes.size());
            nodes.push_back(std::move(n));
        }
        return it->second;
    }
    node at(std::uint32_t id) {
        std::lock_guard lock(mutex);
        return nodes.at(id);
    }
};

bool is_comparison(kind k) {
    return k == kind::less || k == kind::less_equal || k == kind::greater ||
           k == kind::greater_equal || k == kind::equal || k == kind::logical_not;
}

}  // namespace

// ---- construction, simplified -------------------------------------------------------------------

struct formula_access {
    static formula make(node n) { return formula(arena::get().intern(std::move(n)), 0); }
    static formula from_id(std::uint32_t id) { return formula(id, 0); }
    static node get(const formula& f) { return arena::get().at(f.id()); }
};

namespace {
formula make(kind k, const formula& a, const formula& b = {}, const formula& c = {}) {
    node n{k};
    n.a = a.id();
    n.b = b.id();
    n.c = c.id();
    return formula_access::make(std::move(n));
}
bool is(const formula& f, double v) {
    const auto c = f.constant_value();
    return c && *c == v;
}
formula first(const formula& f) {
    return formula_access::from_id(formula_access::get(f).a);
}
/// Whether a should come after b among the operands of + and *: by structure, so that the order
/// does not depend on what was built first.
bool after(const formula& a, const formula& b) {
    const std::uint64_t ha = formula_access::get(a).structure,
                        hb = formula_access::get(b).structure;
    return ha != hb ? ha > hb : a.id() > b.id();
}
formula second(const formula& f) {
    return formula_access::from_id(formula_access::get(f).b);
}
/// c and x of a term c x (1 and the term itself when it has no constant factor), so that like
/// terms meet: c x + d x = (c + d) x.
std::pair<double, formula> coefficient_and_rest(const formula& f) {
    if (f.node_kind() == kind::multiply)
        if (const auto c = first(f).constant_value()) return {*c, second(f)};
    return {1.0, f};
}
}  // namespace

formula::formula(double c) : id_(0) {
    node n{kind::constant};
    n.value = c == 0 ? 0.0 : c;  // one zero: -0 and +0 print alike
    id_ = arena::get().intern(std::move(n));
}

formula formula::variable(const std::string& name) {
    node n{kind::variable};
    n.name = name;
    return formula_access::make(std::move(n));
}

std::optional<double> formula::constant_value() const {
    const node n = formula_access::get(*this);
    if (n.k == kind::constant) return n.value;
    return std::nullopt;
}

formula::kind formula::node_kind() const {
    return formula_access::get(*this).k;
}

formula formula::function(const char* name, const formula& x) {
    if (std::strcmp(name, "neg") == 0) return -x;
    if (std::strcmp(name, "square") == 0) return x * x;
    node n{kind::function};
    n.name = name;
    n.a = x.id();
    return formula_access::make(std::move(n));
}

formula formula::binary(const char* name, const formula& a, const formula& b) {
    const std::string s = name;
    if (s == "add") return a + b;
    if (s == "sub") return a - b;
    if (s == "mul") return a * b;
    if (s == "div") return a / b;
    if (s == "less") return a < b;
    if (s == "less_equal") return a <= b;
    if (s == "greater") return a > b;
    if (s == "greater_equal") return a >= b;
    if (s == "equal") return a == b;
    if (s == "not_equal") return !(a == b);
    if (s == "max") return a.id() == b.id() ? a : make(kind::maximum, a, b);
    if (s == "min") return a.id() == b.id() ? a : make(kind::minimum, a, b);
    if (s == "pow") {
        if (is(b, 1)) return a;
        if (is(b, 0)) return formula(1.0);
        return make(kind::power, a, b);
    }
    throw std::invalid_argument(std::string("formula: no rule for the binary op '") + name + "'");
}

formula formula::select(const formula& cond, const formula& a, const formula& b) {
    if (const auto c = cond.constant_value()) return *c != 0 ? a : b;
    if (a.id() == b.id()) return a;
    if (cond.node_kind() == kind::logical_not) return select(first(cond), b, a);
    if (is_comparison(cond.node_kind())) {
        // A comparison is the number 1 or 0 ([x > 0]).
        if (is(a, 1) && is(b, 0)) return cond;
        if (is(a, 0) && is(b, 1)) return !cond;
        // where(v > 0, 1, where(v < 0, -1, 0)) is sign(v).
        if (cond.node_kind() == kind::greater && is(second(cond), 0) && is(a, 1) &&
            b.node_kind() == kind::select) {
            const node nb = formula_access::get(b);
            const formula inner = formula_access::from_id(nb.a);
            if (inner.node_kind() == kind::less && first(inner).id() == first(cond).id() &&
                is(second(inner), 0) && is(formula_access::from_id(nb.b), -1) &&
                is(formula_access::from_id(nb.c), 0))
                return function("sign", first(cond));
        }
    }
    if (cond.node_kind() == kind::equal || !is_comparison(cond.node_kind()))
        return make(kind::select, cond, a, b);
    return make(kind::select, cond, a, b);
}

formula operator+(const formula& a, const formula& b) {
    const auto ca = a.constant_value(), cb = b.constant_value();
    if (ca && cb) return formula(*ca + *cb);
    if (is(a, 0)) return b;
    if (is(b, 0)) return a;
    if (b.node_kind() == kind::negate) return a - first(b);
    if (a.node_kind() == kind::negate) return b - first(a);
    if (cb && *cb < 0) return a - formula(-*cb);
    if (ca && *ca < 0) return b - formula(-*ca);
    if (a.id() == b.id()) return formula(2.0) * a;
    // Terms times constants meet: c x + d x = (c + d) x.
    const auto [c1, r1] = coefficient_and_rest(a);
    const auto [c2, r2] = coefficient_and_rest(b);
    if (r1.id() == r2.id()) return formula(c1 + c2) * r1;
    // One order for the operands of + and *, so that a + b and b + a are one node.
    if (cb) return make(kind::add, b, a);  // constants first: 1 + x
    if (!ca && after(a, b)) return make(kind::add, b, a);
    return make(kind::add, a, b);
}

formula operator-(const formula& a, const formula& b) {
    const auto ca = a.constant_value(), cb = b.constant_value();
    if (ca && cb) return formula(*ca - *cb);
    if (is(b, 0)) return a;
    if (is(a, 0)) return -b;
    if (a.id() == b.id()) return formula(0.0);
    if (b.node_kind() == kind::negate) return a + first(b);
    if (cb && *cb < 0) return a + formula(-*cb);
    // c x - d x = (c - d) x.
    const auto [c1, r1] = coefficient_and_rest(a);
    const auto [c2, r2] = coefficient_and_rest(b);
    if (r1.id() == r2.id()) return formula(c1 - c2) * r1;
    return make(kind::subtract, a, b);
}

formula operator-(const formula& a) {
    if (const auto c = a.constant_value()) return formula(-*c);
    switch (a.node_kind()) {
        case kind::negate:
            return first(a);
        case kind::subtract:
            return make(kind::subtract, second(a), first(a));
        case kind::multiply:  // -(c x) = (-c) x
            if (const auto c = first(a).constant_value()) return formula(-*c) * second(a);
            break;
        default:
            break;
    }
    return make(kind::negate, a);
}

formula operator*(const formula& a, const formula& b) {
    const auto ca = a.constant_value(), cb = b.constant_value();
    if (ca && cb) return formula(*ca * *cb);
    if (is(a, 0) || is(b, 0)) return formula(0.0);
    if (is(a, 1)) return b;
    if (is(b, 1)) return a;
    if (is(a, -1)) return -b;
    if (is(b, -1)) return -a;
    if (a.node_kind() == kind::negate) return -(first(a) * b);
    if (b.node_kind() == kind::negate) return -(a * first(b));
    if (cb) return b * a;  // constants in front
    if (ca) {
        if (b.node_kind() == kind::multiply) {  // c1 (c2 x) = (c1 c2) x
            if (const auto c2 = first(b).constant_value()) return formula(*ca * *c2) * second(b);
        }
        if (b.node_kind() == kind::divide) {  // c (x / y) = (c x) / y
            if (const auto c2 = first(b).constant_value()) return formula(*ca * *c2) / second(b);
        }
        // c (a + b) = c a + c b: constants meet (2 (0.5 x + y) is x + 2 y).
        if (b.node_kind() == kind::add) return a * first(b) + a * second(b);
        if (b.node_kind() == kind::subtract) return a * first(b) - a * second(b);
        // c (p (a + b)) = p (c a + c b) when that cancels a constant (2 x (0.5 u - 0.5 v) is
        // x (u - v)); otherwise c stays in front (0.5 x (1 + erf(x))).
        if (b.node_kind() == kind::multiply) {
            const formula p = first(b), q = second(b);
            auto cancels = [&](const formula& sum) {
                if (sum.node_kind() != kind::add && sum.node_kind() != kind::subtract) return false;
                for (const formula& t : {first(sum), second(sum)}) {
                    const auto c = t.node_kind() == kind::multiply ? first(t).constant_value()
                                                                   : t.constant_value();
                    if (c && std::abs(std::abs(*c * *ca) - 1) < 1e-15) return true;
                }
                return false;
            };
            if (cancels(q)) return p * (a * q);
            if (cancels(p)) return q * (a * p);
        }
    } else if (b.node_kind() == kind::multiply && first(b).constant_value()) {
        return first(b) * (a * second(b));  // x (c y) = c (x y)
    } else if (a.node_kind() == kind::multiply && first(a).constant_value()) {
        return first(a) * (second(a) * b);
    }
    if (!ca && after(a, b)) return make(kind::multiply, b, a);
    return make(kind::multiply, a, b);
}

formula operator/(const formula& a, const formula& b) {
    const auto ca = a.constant_value(), cb = b.constant_value();
    if (ca && cb) return formula(*ca / *cb);
    if (is(a, 0)) return formula(0.0);
    if (is(b, 1)) return a;
    if (a.id() == b.id()) return formula(1.0);
    if (cb) return formula(1.0 / *cb) * a;
    if (a.node_kind() == kind::negate) return -(first(a) / b);
    if (b.node_kind() == kind::negate) return -(a / first(b));
    return make(kind::divide, a, b);
}

#define DENDRITE_FORMULA_COMPARISON(op, k)                           \
    formula operator op(const formula& a, const formula& b) {        \
        const auto ca = a.constant_value(), cb = b.constant_value(); \
        if (ca && cb) return formula(*ca op * cb ? 1.0 : 0.0);       \
        return make(kind::k, a, b);                                  \
    }
DENDRITE_FORMULA_COMPARISON(<, less)
DENDRITE_FORMULA_COMPARISON(<=, less_equal)
DENDRITE_FORMULA_COMPARISON(>, greater)
DENDRITE_FORMULA_COMPARISON(>=, greater_equal)
#undef DENDRITE_FORMULA_COMPARISON

formula operator==(const formula& a, const formula& b) {
    const auto ca = a.constant_value(), cb = b.constant_value();
    if (ca && cb) return formula(*ca == *cb ? 1.0 : 0.0);
    if (a.id() == b.id()) return formula(1.0);
    if (is_comparison(a.node_kind()) && is(b, 0)) return !a;  // [c] == 0 is "not c"
    return make(kind::equal, a, b);
}

formula operator!(const formula& a) {
    if (const auto c = a.constant_value()) return formula(*c == 0 ? 1.0 : 0.0);
    if (a.node_kind() == kind::logical_not) return first(a);
    return make(kind::logical_not, a);
}

// ---- printing ---------------------------------------------------------------------------------

namespace {

/// The shortest digits that read back as v; a constant that is a rounding away from a short one
/// (0.5000000000000001, the square of a rounded 1/sqrt(2)) is written short.
std::string number(double v) {
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    std::string s(buf, r.ptr);
    if (s.size() > 12 && std::isfinite(v)) {
        char short_buf[64];
        std::snprintf(short_buf, sizeof short_buf, "%.12g", v);
        const double back = std::strtod(short_buf, nullptr);
        if (std::abs(back - v) <= 4 * std::numeric_limits<double>::epsilon() * std::abs(v))
            return short_buf;
    }
    return s;
}

struct printer {
    notation how;
    std::vector<node> nodes;  // a snapshot, read without the lock
    std::unordered_map<std::uint32_t, std::string> names;
    std::uint32_t defining = std::uint32_t(-1);  // the named node being defined, written out

    bool named(std::uint32_t id) const { return id != defining && names.count(id) != 0; }

    const node& at(std::uint32_t id) const { return nodes.at(id); }
    bool latex() const { return how == notation::latex; }

    // How tightly a node's printed form binds: 1 sum, 2 product or quotient, 3 negation, 4 power,
    // 5 an atom (constant, variable, call, name).
    int precedence(std::uint32_t id) const {
        if (named(id)) return 5;
        const node& n = at(id);
        switch (n.k) {
            case kind::add:
            case kind::subtract:
                return 1;
            case kind::multiply:
            case kind::divide:
                return 2;
            case kind::negate:
                return 3;
            case kind::constant:
                return n.value < 0 ? 3 : 5;
            case kind::power:
                return 4;
            case kind::less:
            case kind::less_equal:
            case kind::greater:
            case kind::greater_equal:
            case kind::equal:
            case kind::logical_not:
                return 5;  // as a number: [x > 0]
            default:
                return 5;
        }
    }
    std::string paren(const std::string& s) const {
        return latex() ? "\\left(" + s + "\\right)" : "(" + s + ")";
    }
    std::string at_least(std::uint32_t id, int p) const {
        const std::string s = print(id);
        return precedence(id) < p ? paren(s) : s;
    }

    // Terms of a sum, each with its sign, through nested sums and differences.
    void terms(std::uint32_t id, bool negative,
               std::vector<std::pair<bool, std::uint32_t>>& out) const {
        const node& n = at(id);
        if (!named(id) && (n.k == kind::add || n.k == kind::subtract)) {
            terms(n.a, negative, out);
            terms(n.b, n.k == kind::subtract ? !negative : negative, out);
        } else if (!named(id) && n.k == kind::negate) {
            terms(n.a, !negative, out);
        } else {
            out.emplace_back(negative, id);
        }
    }
    // Factors of a product, through nested products; constants multiplied into `coefficient`.
    void factors(std::uint32_t id, double& coefficient, std::vector<std::uint32_t>& out) const {
        const node& n = at(id);
        if (!named(id) && n.k == kind::multiply) {
            factors(n.a, coefficient, out);
            factors(n.b, coefficient, out);
        } else if (!named(id) && n.k == kind::negate) {
            coefficient = -coefficient;
            factors(n.a, coefficient, out);
        } else if (n.k == kind::constant) {
            coefficient *= n.value;
        } else {
            out.push_back(id);
        }
    }

    std::string product(std::uint32_t id, bool& negative, double coefficient = 1) const {
        std::vector<std::uint32_t> fs;
        factors(id, coefficient, fs);
        if (coefficient < 0) {
            negative = !negative;
            coefficient = -coefficient;
        }
        // The order of reading: x, then named subexpressions by name, calls and powers, bracketed
        // sums, quotients; repeated factors as powers (x x s -> x^2 s).
        std::stable_sort(fs.begin(), fs.end(), [&](std::uint32_t a, std::uint32_t b) {
            const auto ra = factor_rank(a), rb = factor_rank(b);
            if (ra != rb) return ra < rb;
            if (named(a) && named(b)) return names.at(a) < names.at(b);
            return false;
        });
        std::vector<std::pair<std::uint32_t, int>> powers;
        for (const std::uint32_t f : fs) {
            auto it = std::find_if(powers.begin(), powers.end(),
                                   [&](const auto& p) { return p.first == f; });
            if (it == powers.end())
                powers.emplace_back(f, 1);
            else
                ++it->second;
        }
        std::string s;
        if (coefficient != 1 || fs.empty()) s = number(coefficient);
        for (const auto& [f, count] : powers) {
            if (!s.empty()) s += latex() ? " \\, " : " ";
            if (count > 1) {
                const std::string e = std::to_string(count);
                s += at_least(f, 5) + (latex() ? "^{" + e + "}" : "^" + e);
                continue;
            }
            // A quotient among other factors is bracketed: x (1 / y), not x 1 / y.
            const bool alone = powers.size() == 1 && s.empty();
            s += alone ? at_least(f, 2) : at_least(f, 3);
        }
        return s;
    }

    int factor_rank(std::uint32_t id) const {
        if (named(id)) return 1;
        switch (at(id).k) {
            case kind::variable:
                return 0;
            case kind::add:
            case kind::subtract:
                return 3;
            case kind::divide:
                return 4;
            default:
                return 2;
        }
    }
    /// Nodes printed for id (a name counts one): shorter terms of a sum come first.
    std::size_t size(std::uint32_t id) const {
        if (named(id)) return 1;
        const node& n = at(id);
        switch (n.k) {
            case kind::constant:
            case kind::variable:
                return 1;
            case kind::function:
            case kind::negate:
            case kind::logical_not:
                return 1 + size(n.a);
            case kind::select:
                return 1 + size(n.a) + size(n.b) + size(n.c);
            default:
                return 1 + size(n.a) + size(n.b);
        }
    }

    std::string sum(std::uint32_t id) const {
        std::vector<std::pair<bool, std::uint32_t>> signed_terms;
        terms(id, false, signed_terms);
        // Equal terms counted together: v - 2 u + v is 2 v - 2 u.
        std::vector<std::pair<double, std::uint32_t>> ts;
        for (const auto& [negative, term] : signed_terms) {
            const std::uint32_t t = term;
            auto it =
                std::find_if(ts.begin(), ts.end(), [&](const auto& p) { return p.second == t; });
            if (it == ts.end())
                ts.emplace_back(negative ? -1.0 : 1.0, t);
            else
                it->first += negative ? -1.0 : 1.0;
        }
        std::erase_if(ts, [](const auto& p) { return p.first == 0; });
        if (ts.empty()) return "0";
        // Short terms first, and at equal length the added before the subtracted: u + u^2, 1 - s.
        std::stable_sort(ts.begin(), ts.end(), [&](const auto& a, const auto& b) {
            const std::size_t sa = size(a.second), sb = size(b.second);
            if (sa != sb) return sa < sb;
            return a.first > 0 && b.first < 0;
        });
        std::string s;
        for (std::size_t i = 0; i < ts.size(); ++i) {
            bool negative = ts[i].first < 0;
            const double count = negative ? -ts[i].first : ts[i].first;
            const node& n = at(ts[i].second);
            std::string t;
            if (count != 1 && n.k != kind::constant)
                t = product(ts[i].second, negative, count);
            else if (!named(ts[i].second) && n.k == kind::multiply)
                t = product(ts[i].second, negative);
            else if (n.k == kind::constant) {
                const double v = n.value * count;
                if (v < 0) negative = !negative;
                t = number(v < 0 ? -v : v);
            } else {
                t = at_least(ts[i].second, 2);
            }
            if (i == 0)
                s = negative ? "-" + t : t;
            else
                s += (negative ? " - " : " + ") + t;
        }
        return s;
    }

    std::string function_call(const std::string& name, std::uint32_t arg) const {
        const std::string a = print(arg);
        if (!latex()) return name + "(" + a + ")";
        if (name == "sqrt") return "\\sqrt{" + a + "}";
        if (name == "abs") return "\\left|" + a + "\\right|";
        static const std::map<std::string, std::string> known = {{"exp", "\\exp"},
                                                                 {"log", "\\log"},
                                                                 {"sin", "\\sin"},
                                                                 {"cos", "\\cos"},
                                                                 {"tanh", "\\tanh"},
                                                                 {"sigmoid", "\\sigma"},
                                                                 {"erf", "\\operatorname{erf}"}};
        const auto it = known.find(name);
        const std::string f = it != known.end() ? it->second : "\\operatorname{" + name + "}";
        return f + paren(a);
    }

    std::string comparison(const node& n) const {
        const bool l = latex();
        const char* op = n.k == kind::less            ? " < "
                         : n.k == kind::less_equal    ? (l ? " \\le " : " <= ")
                         : n.k == kind::greater       ? " > "
                         : n.k == kind::greater_equal ? (l ? " \\ge " : " >= ")
                                                      : " = ";
        return at_least(n.a, 1) + op + at_least(n.b, 1);
    }
    std::string condition(std::uint32_t id) const {
        const node& n = at(id);
        if (named(id)) return print(id) + (latex() ? " \\ne 0" : " != 0");
        if (n.k == kind::logical_not) return (latex() ? "\\lnot " : "not ") + paren(condition(n.a));
        if (is_comparison(n.k)) return comparison(n);
        return print(id) + (latex() ? " \\ne 0" : " != 0");
    }

    std::string print(std::uint32_t id) const {
        if (named(id)) return names.at(id);
        return expand(id);
    }
    // The node itself, even when it has a name (for its definition).
    std::string expand(std::uint32_t id) const {
        const node& n = at(id);
        switch (n.k) {
            case kind::constant:
                return number(n.value);
            case kind::variable:
                return n.name;
            case kind::function:
                return function_call(n.name, n.a);
            case kind::negate: {
                bool negative = true;
                const std::string p =
                    at(n.a).k == kind::multiply ? product(n.a, negative) : at_least(n.a, 3);
                return negative ? "-" + p : p;
            }
            case kind::add:
            case kind::subtract:
                return sum(id);
            case kind::multiply: {
                bool negative = false;
                const std::string p = product(id, negative);
                return negative ? "-" + p : p;
            }
            case kind::divide:
                if (latex()) return "\\frac{" + print(n.a) + "}{" + print(n.b) + "}";
                return at_least(n.a, 2) + " / " + at_least(n.b, 3);
            case kind::power:
                if (latex()) return "{" + at_least(n.a, 5) + "}^{" + print(n.b) + "}";
                return at_least(n.a, 5) + "^" + at_least(n.b, 5);
            case kind::maximum:
            case kind::minimum: {
                const std::string f = n.k == kind::maximum ? "max" : "min";
                return (latex() ? "\\" + f : f) + paren(print(n.a) + ", " + print(n.b));
            }
            case kind::select: {
                const node& a = at(n.b);
                const node& b = at(n.c);
                if (a.k == kind::constant && a.value == 1 && b.k == kind::constant && b.value == 0)
                    return "[" + condition(n.a) + "]";
                if (latex())
                    return "\\begin{cases} " + print(n.b) + " & " + condition(n.a) + " \\\\ " +
                           print(n.c) + " & \\text{otherwise} \\end{cases}";
                return "where(" + condition(n.a) + ", " + print(n.b) + ", " + print(n.c) + ")";
            }
            default:
                return "[" + condition(id) + "]";  // a comparison used as a number
        }
    }
};

/// Nodes reachable from root, each after the nodes it reads, and how many edges point at each.
void visit(const std::vector<node>& nodes, std::uint32_t id, std::vector<std::uint32_t>& order,
           std::unordered_map<std::uint32_t, int>& uses) {
    if (uses[id]++ > 0) return;
    const node& n = nodes.at(id);
    switch (n.k) {
        case kind::constant:
        case kind::variable:
            break;
        case kind::function:
        case kind::negate:
        case kind::logical_not:
            visit(nodes, n.a, order, uses);
            break;
        case kind::select:
            visit(nodes, n.a, order, uses);
            visit(nodes, n.b, order, uses);
            visit(nodes, n.c, order, uses);
            break;
        default:
            visit(nodes, n.a, order, uses);
            visit(nodes, n.b, order, uses);
            break;
    }
    order.push_back(id);
}

/// Whether a shared node is worth a name: calls, quotients and selections are; small sums and
/// products of atoms (`1 - s`, `1.702 x`) read better written out.
bool worth_naming(const std::vector<node>& nodes, std::uint32_t id) {
    const node& n = nodes.at(id);
    switch (n.k) {
        case kind::constant:
        case kind::variable:
        case kind::negate:
        case kind::less:
        case kind::less_equal:
        case kind::greater:
        case kind::greater_equal:
        case kind::equal:
        case kind::logical_not:
            return false;
        case kind::function:
        case kind::divide:
        case kind::power:
        case kind::select:
        case kind::maximum:
        case kind::minimum:
            return true;
        default: {
            auto atomic = [&](std::uint32_t c) {
                const kind k = nodes.at(c).k;
                return k == kind::constant || k == kind::variable;
            };
            return !(atomic(n.a) && atomic(n.b));
        }
    }
}

}  // namespace

std::string formula::str(notation how) const {
    printer p{how, {}, {}};
    {
        arena& a = arena::get();
        std::lock_guard lock(a.mutex);
        p.nodes = a.nodes;
    }
    std::vector<std::uint32_t> order;
    std::unordered_map<std::uint32_t, int> uses;
    visit(p.nodes, id_, order, uses);

    // Names: the initial of the function when free (s for sigmoid, t for tanh), else the next
    // free letter; never x (the variable) or e.
    std::string taken = "xe";
    for (const std::uint32_t id : order)
        if (p.nodes.at(id).k == kind::variable && p.nodes.at(id).name.size() == 1)
            taken += p.nodes.at(id).name;
    std::vector<std::uint32_t> named;
    for (const std::uint32_t id : order) {
        if (id == id_ || uses[id] < 2 || !worth_naming(p.nodes, id)) continue;
        const node& n = p.nodes.at(id);
        char letter = 0;
        if (n.k == kind::function && std::isalpha(static_cast<unsigned char>(n.name[0])) &&
            taken.find(n.name[0]) == std::string::npos)
            letter = n.name[0];
        for (const char c : std::string("uvwabcdfghkmnpqrsyz"))
            if (!letter && taken.find(c) == std::string::npos) letter = c;
        if (!letter) break;  // 24 names in one formula: the rest written out
        taken += letter;
        p.names[id] = std::string(1, letter);
        named.push_back(id);
    }
    std::string s = p.print(id_);
    if (!named.empty()) {
        s += how == notation::latex ? " \\quad \\text{where } " : "   where ";
        for (std::size_t i = 0; i < named.size(); ++i) {
            if (i) s += how == notation::latex ? ",\\ " : ", ";
            p.defining = named[i];
            s += p.names.at(named[i]) + " = " + p.expand(named[i]);
        }
    }
    return s;
}

}  // namespace dendrite::inline DENDRITE_TARGET::expr
