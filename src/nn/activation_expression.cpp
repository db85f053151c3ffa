// The parser of run-time activations (the grammar is in nn/activation_expression.hpp).
#include "dendrite/nn/activation_expression.hpp"

#include <cctype>
#include <charconv>
#include <map>
#include <stdexcept>
#include <string_view>
#include <system_error>

namespace dendrite::inline DENDRITE_TARGET::nn {

namespace {

using op = activation_expression::op;
using node = activation_expression::node;

/// The built-in activations' names, in builtin_activations() order.
std::vector<std::string> builtin_names() {
    std::vector<std::string> names;
    std::apply([&](const auto&... a) { (names.emplace_back(a.name), ...); }, builtin_activations());
    return names;
}

const std::map<std::string_view, op>& unary_functions() {
    static const std::map<std::string_view, op> functions = {
        {"exp", op::exp},           {"log", op::log},   {"log1p", op::log1p},
        {"expm1", op::expm1},       {"sqrt", op::sqrt}, {"rsqrt", op::rsqrt},
        {"square", op::square},     {"abs", op::abs},   {"sin", op::sin},
        {"cos", op::cos},           {"tanh", op::tanh}, {"sigmoid", op::sigmoid},
        {"softplus", op::softplus}, {"relu", op::relu}, {"erf", op::erf}};
    return functions;
}

const std::map<std::string_view, op>& binary_functions() {
    static const std::map<std::string_view, op> functions = {
        {"pow", op::power}, {"max", op::maximum}, {"min", op::minimum}};
    return functions;
}

class parser {
  public:
    explicit parser(const std::string& text) : text_(text) {}

    std::vector<node> parse() {
        condition();
        skip_space();
        if (pos_ != text_.size()) fail("unexpected '" + std::string(1, text_[pos_]) + "'");
        return std::move(nodes_);
    }

  private:
    const std::string& text_;
    std::size_t pos_ = 0;
    std::vector<node> nodes_;

    [[noreturn]] void fail(const std::string& what) const {
        throw std::invalid_argument("activation expression \"" + text_ + "\": " + what +
                                    " at column " + std::to_string(pos_ + 1));
    }
    void skip_space() {
        while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_])))
            ++pos_;
    }
    bool accept(std::string_view token) {
        skip_space();
        if (text_.compare(pos_, token.size(), token) != 0) return false;
        pos_ += token.size();
        return true;
    }
    void expect(std::string_view token) {
        if (!accept(token)) {
            skip_space();
            fail("expected '" + std::string(token) + "'" +
                 (pos_ < text_.size() ? ", found '" + std::string(1, text_[pos_]) + "'"
                                      : std::string(", found the end")));
        }
    }
    std::uint32_t add(node n) {
        nodes_.push_back(n);
        return static_cast<std::uint32_t>(nodes_.size() - 1);
    }
    std::uint32_t binary(op kind, std::uint32_t a, std::uint32_t b) {
        return add(node{kind, 0, a, b, 0, 0});
    }

    std::uint32_t condition() {
        const std::uint32_t a = sum();
        static constexpr std::pair<std::string_view, op> comparisons[] = {
            {"<=", op::less_equal}, {">=", op::greater_equal}, {"==", op::equal},
            {"!=", op::not_equal},  {"<", op::less},           {">", op::greater}};
        for (const auto& [token, kind] : comparisons)
            if (accept(token)) return binary(kind, a, sum());
        return a;
    }
    std::uint32_t sum() {
        std::uint32_t a = product();
        for (;;) {
            if (accept("+"))
                a = binary(op::add, a, product());
            else if (accept("-"))
                a = binary(op::subtract, a, product());
            else
                return a;
        }
    }
    bool starts_atom() {
        skip_space();
        if (pos_ >= text_.size()) return false;
        const char c = text_[pos_];
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '(' || c == '_';
    }
    std::uint32_t product() {
        std::uint32_t a = unary();
        for (;;) {
            if (accept("*"))
                a = binary(op::multiply, a, unary());
            else if (accept("/"))
                a = binary(op::divide, a, unary());
            else if (starts_atom())  // "0.1 x", "2 (x + 1)"
                a = binary(op::multiply, a, power());
            else
                return a;
        }
    }
    std::uint32_t unary() {
        if (accept("-")) return add(node{op::negate, 0, unary(), 0, 0, 0});
        if (accept("+")) return unary();
        return power();
    }
    std::uint32_t power() {
        const std::uint32_t a = atom();
        if (accept("^") || accept("**")) return binary(op::power, a, unary());
        return a;
    }
    std::uint32_t atom() {
        skip_space();
        if (pos_ >= text_.size()) fail("expected a number, x, a function or '(', found the end");
        const char c = text_[pos_];
        if (accept("(")) {
            const std::uint32_t a = condition();
            expect(")");
            return a;
        }
        if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
            double v = 0;
            const char* first = text_.data() + pos_;
            const auto [end, ec] = std::from_chars(first, text_.data() + text_.size(), v);
            if (ec != std::errc{}) fail("malformed number");
            pos_ += static_cast<std::size_t>(end - first);
            if (pos_ < text_.size() &&
                (text_[pos_] == '.' || std::isdigit(static_cast<unsigned char>(text_[pos_]))))
                fail("malformed number");
            return add(node{op::constant, v, 0, 0, 0, 0});
        }
        if (!std::isalpha(static_cast<unsigned char>(c)) && c != '_')
            fail("expected a number, x, a function or '(', found '" + std::string(1, c) + "'");
        const std::size_t start = pos_;
        while (pos_ < text_.size() &&
               (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_'))
            ++pos_;
        const std::string name = text_.substr(start, pos_ - start);
        if (name == "x") return add(node{op::variable, 0, 0, 0, 0, 0});
        if (name == "pi") return add(node{op::constant, 3.14159265358979323846, 0, 0, 0, 0});
        if (name == "e") return add(node{op::constant, 2.71828182845904523536, 0, 0, 0, 0});
        return call(name, start);
    }
    std::uint32_t call(const std::string& name, std::size_t start) {
        const auto unary_fn = unary_functions().find(name);
        const auto binary_fn = binary_functions().find(name);
        const std::vector<std::string> builtins = builtin_names();
        std::uint32_t builtin = 0;
        while (builtin < builtins.size() && builtins[builtin] != name)
            ++builtin;
        const bool is_builtin = builtin < builtins.size();
        if (unary_fn == unary_functions().end() && binary_fn == binary_functions().end() &&
            !is_builtin && name != "where") {
            pos_ = start;
            std::string known = "x, pi, e, where";
            for (const auto& [n, k] : unary_functions())
                known += ", " + std::string(n);
            for (const auto& [n, k] : binary_functions())
                known += ", " + std::string(n);
            for (const auto& n : builtins)
                if (unary_functions().count(n) == 0) known += ", " + n;
            fail("unknown name '" + name + "' (known: " + known + ")");
        }
        // A built-in activation alone ("mish") is the activation of x.
        if (is_builtin && !accept("(")) {
            const std::uint32_t x = add(node{op::variable, 0, 0, 0, 0, 0});
            return add(node{op::builtin, 0, x, 0, 0, builtin});
        }
        if (!is_builtin) expect("(");
        std::vector<std::uint32_t> args{condition()};
        while (accept(","))
            args.push_back(condition());
        expect(")");
        const std::size_t wanted = name == "where"                         ? 3
                                   : binary_fn != binary_functions().end() ? 2
                                                                           : 1;
        if (args.size() != wanted) {
            pos_ = start;
            fail("'" + name + "' takes " + std::to_string(wanted) + " argument" +
                 (wanted == 1 ? "" : "s") + ", given " + std::to_string(args.size()));
        }
        if (name == "where") return add(node{op::where, 0, args[0], args[1], args[2], 0});
        if (binary_fn != binary_functions().end())
            return binary(binary_fn->second, args[0], args[1]);
        if (unary_fn != unary_functions().end())
            return add(node{unary_fn->second, 0, args[0], 0, 0, 0});
        return add(node{op::builtin, 0, args[0], 0, 0, builtin});
    }
};

}  // namespace

activation_expression::activation_expression(std::string text) {
    std::vector<node> nodes = parser(text).parse();
    program_ = std::make_shared<const program>(program{std::move(text), std::move(nodes)});
}

}  // namespace dendrite::inline DENDRITE_TARGET::nn
