// Jinja2's expression grammar: conditional expressions, or/and/not, comparison chains,
// + - ~ * / // % **, unary signs, primaries, subscripts, calls, filters and tests.
#include "text/jinja/parser_expr.h"

#include "core/error.h"

namespace pangolin::jinja {

namespace {

bool is_reserved_name(const std::string& n) {
    return n == "else" || n == "or" || n == "and";
}

}  // namespace

bool ExprParser::tuple_end(const char* extra_end) const {
    const Token& t = cur();
    if (t.type == Tok::VarEnd || t.type == Tok::BlockEnd || t.type == Tok::Eof) return true;
    if (t.type == Tok::Op && t.text == ")") return true;
    return extra_end && t.type == Tok::Name && t.text == extra_end;
}

ExprPtr ExprParser::parse_tuple(bool simplified, bool with_condexpr, const char* extra_end,
                                bool explicit_parentheses) {
    const uint32_t pos = cur().pos;
    std::vector<ExprPtr> items;
    bool is_tuple = false;
    while (true) {
        if (!items.empty()) expect_op(",");
        if (tuple_end(extra_end)) break;
        items.push_back(simplified ? parse_primary() : parse_expression(with_condexpr));
        if (is_op(","))
            is_tuple = true;
        else
            break;
    }
    if (!is_tuple) {
        if (!items.empty()) return std::move(items[0]);
        if (!explicit_parentheses) error(cur(), "Expected an expression, got " + describe(cur()));
    }
    auto t = expr(ExprKind::Tuple, pos);
    t->items = std::move(items);
    return t;
}

ExprPtr ExprParser::parse_assign_target(bool with_tuple, bool with_namespace,
                                        const char* extra_end) {
    const Token& at = cur();
    if (with_namespace && at.type == Tok::Name && peek().type == Tok::Op && peek().text == ".") {
        auto e = expr(ExprKind::GetAttr, at.pos);
        auto base = expr(ExprKind::Name, at.pos);
        base->name = at.text;
        advance();
        advance();
        e->a = std::move(base);
        e->name = expect_name();
        return e;
    }
    ExprPtr target = with_tuple ? parse_tuple(true, true, extra_end) : parse_primary();
    check_assignable(*target, at);
    return target;
}

void ExprParser::check_assignable(const Expr& e, const Token& at) const {
    if (e.kind == ExprKind::Name) {
        if (e.name == "true" || e.name == "false" || e.name == "none" || e.name == "True" ||
            e.name == "False" || e.name == "None" || e.name == "loop")
            error(at, "can't assign to special name '" + e.name + "'");
        return;
    }
    if (e.kind == ExprKind::Tuple) {
        for (const auto& item : e.items) check_assignable(*item, at);
        return;
    }
    error(at, "can't assign to this expression");
}

ExprPtr ExprParser::parse_expression(bool with_condexpr) {
    DepthGuard guard(*this, cur());
    return with_condexpr ? parse_condexpr() : parse_or();
}

ExprPtr ExprParser::parse_condexpr() {
    ExprPtr e = parse_or();
    while (is_name("if")) {
        const uint32_t pos = cur().pos;
        advance();
        auto c = expr(ExprKind::Cond, pos);
        c->b = parse_or();
        if (skip_name("else")) {
            DepthGuard guard(*this, cur());
            c->c = parse_condexpr();
        }
        c->a = std::move(e);
        e = std::move(c);
    }
    return e;
}

ExprPtr ExprParser::parse_or() {
    ExprPtr e = parse_and();
    while (is_name("or")) {
        auto o = expr(ExprKind::Or, cur().pos);
        advance();
        o->a = std::move(e);
        o->b = parse_and();
        e = std::move(o);
    }
    return e;
}

ExprPtr ExprParser::parse_and() {
    ExprPtr e = parse_not();
    while (is_name("and")) {
        auto o = expr(ExprKind::And, cur().pos);
        advance();
        o->a = std::move(e);
        o->b = parse_not();
        e = std::move(o);
    }
    return e;
}

ExprPtr ExprParser::parse_not() {
    if (is_name("not")) {
        DepthGuard guard(*this, cur());
        auto n = expr(ExprKind::Not, cur().pos);
        advance();
        n->a = parse_not();
        return n;
    }
    return parse_compare();
}

ExprPtr ExprParser::parse_compare() {
    const uint32_t pos = cur().pos;
    ExprPtr first = parse_math1();
    std::vector<CompareOp> ops;
    std::vector<ExprPtr> operands;
    while (true) {
        CompareOp op;
        if (is_op("=="))
            op = CompareOp::Eq;
        else if (is_op("!="))
            op = CompareOp::Ne;
        else if (is_op("<"))
            op = CompareOp::Lt;
        else if (is_op("<="))
            op = CompareOp::Le;
        else if (is_op(">"))
            op = CompareOp::Gt;
        else if (is_op(">="))
            op = CompareOp::Ge;
        else if (is_name("in"))
            op = CompareOp::In;
        else if (is_name("not") && peek().type == Tok::Name && peek().text == "in") {
            advance();
            op = CompareOp::NotIn;
        } else
            break;
        advance();
        ops.push_back(op);
        operands.push_back(parse_math1());
    }
    if (ops.empty()) return first;
    auto c = expr(ExprKind::Compare, pos);
    c->items.push_back(std::move(first));
    for (auto& o : operands) c->items.push_back(std::move(o));
    c->cmp_ops = std::move(ops);
    return c;
}

ExprPtr ExprParser::binary(BinOp op, ExprPtr a, ExprPtr b, uint32_t pos) {
    auto e = expr(ExprKind::Binary, pos);
    e->op = op;
    e->a = std::move(a);
    e->b = std::move(b);
    return e;
}

ExprPtr ExprParser::parse_math1() {
    ExprPtr e = parse_concat();
    while (is_op("+") || is_op("-")) {
        const BinOp op = cur().text == "+" ? BinOp::Add : BinOp::Sub;
        const uint32_t pos = cur().pos;
        advance();
        e = binary(op, std::move(e), parse_concat(), pos);
    }
    return e;
}

ExprPtr ExprParser::parse_concat() {
    ExprPtr e = parse_math2();
    while (is_op("~")) {
        const uint32_t pos = cur().pos;
        advance();
        e = binary(BinOp::Concat, std::move(e), parse_math2(), pos);
    }
    return e;
}

ExprPtr ExprParser::parse_math2() {
    ExprPtr e = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
        const std::string& t = cur().text;
        const BinOp op = t == "*"    ? BinOp::Mul
                         : t == "/"  ? BinOp::Div
                         : t == "//" ? BinOp::FloorDiv
                                     : BinOp::Mod;
        const uint32_t pos = cur().pos;
        advance();
        e = binary(op, std::move(e), parse_pow(), pos);
    }
    return e;
}

ExprPtr ExprParser::parse_pow() {
    ExprPtr e = parse_unary(true);
    while (is_op("**")) {
        const uint32_t pos = cur().pos;
        advance();
        e = binary(BinOp::Pow, std::move(e), parse_unary(true), pos);
    }
    return e;
}

ExprPtr ExprParser::parse_unary(bool with_filter) {
    DepthGuard guard(*this, cur());
    ExprPtr e;
    if (is_op("-") || is_op("+")) {
        e = expr(cur().text == "-" ? ExprKind::Neg : ExprKind::Pos, cur().pos);
        advance();
        e->a = parse_unary(false);
    } else {
        e = parse_primary();
    }
    e = parse_postfix(std::move(e));
    if (with_filter) e = parse_filter_expr(std::move(e));
    return e;
}

ExprPtr ExprParser::literal(Value v, uint32_t pos) {
    auto e = expr(ExprKind::Literal, pos);
    e->literal = std::move(v);
    return e;
}

ExprPtr ExprParser::parse_primary() {
    DepthGuard guard(*this, cur());
    const Token& t = cur();
    switch (t.type) {
        case Tok::Name: {
            advance();
            if (t.text == "true" || t.text == "True") return literal(Value::boolean(true), t.pos);
            if (t.text == "false" || t.text == "False")
                return literal(Value::boolean(false), t.pos);
            if (t.text == "none" || t.text == "None") return literal(Value::none(), t.pos);
            auto e = expr(ExprKind::Name, t.pos);
            e->name = t.text;
            return e;
        }
        case Tok::String: {
            std::string s = t.text;
            const uint32_t pos = t.pos;
            advance();
            while (cur().type == Tok::String) {
                s += cur().text;
                advance();
            }
            return literal(Value(std::move(s)), pos);
        }
        case Tok::Int:
            advance();
            return literal(Value::integer(t.int_value), t.pos);
        case Tok::Float:
            advance();
            return literal(Value::number(t.float_value), t.pos);
        case Tok::Op:
            if (t.text == "(") {
                advance();
                ExprPtr e = parse_tuple(false, true, nullptr, true);
                expect_op(")");
                return e;
            }
            if (t.text == "[") return parse_list();
            if (t.text == "{") return parse_dict();
            break;
        default:
            break;
    }
    error(t, "unexpected " + describe(t));
}

ExprPtr ExprParser::parse_list() {
    auto e = expr(ExprKind::List, cur().pos);
    expect_op("[");
    while (!is_op("]")) {
        if (!e->items.empty()) expect_op(",");
        if (is_op("]")) break;
        e->items.push_back(parse_expression(true));
    }
    expect_op("]");
    return e;
}

ExprPtr ExprParser::parse_dict() {
    auto e = expr(ExprKind::Dict, cur().pos);
    expect_op("{");
    while (!is_op("}")) {
        if (!e->items.empty()) expect_op(",");
        if (is_op("}")) break;
        e->items.push_back(parse_expression(true));
        expect_op(":");
        e->items.push_back(parse_expression(true));
    }
    expect_op("}");
    return e;
}

ExprPtr ExprParser::parse_postfix(ExprPtr e) {
    while (true) {
        if (is_op(".") || is_op("["))
            e = parse_subscript(std::move(e));
        else if (is_op("("))
            e = parse_call(std::move(e));
        else
            return e;
    }
}

ExprPtr ExprParser::parse_filter_expr(ExprPtr e) {
    while (true) {
        if (is_op("|"))
            e = parse_filter(std::move(e), false);
        else if (is_name("is"))
            e = parse_test(std::move(e));
        else if (is_op("("))
            e = parse_call(std::move(e));
        else
            return e;
    }
}

ExprPtr ExprParser::parse_subscript(ExprPtr base) {
    const Token& t = cur();
    if (t.text == ".") {
        advance();
        const Token& attr = cur();
        if (attr.type == Tok::Name) {
            auto e = expr(ExprKind::GetAttr, t.pos);
            e->a = std::move(base);
            e->name = attr.text;
            advance();
            return e;
        }
        if (attr.type == Tok::Int) {
            auto e = expr(ExprKind::GetItem, t.pos);
            e->a = std::move(base);
            e->b = literal(Value::integer(attr.int_value), attr.pos);
            advance();
            return e;
        }
        error(attr, "expected name or number");
    }
    advance();  // '['
    std::vector<ExprPtr> args;
    while (!is_op("]")) {
        if (!args.empty()) {
            expect_op(",");
            if (is_op("]")) break;
        }
        args.push_back(parse_subscribed());
    }
    expect_op("]");
    auto e = expr(ExprKind::GetItem, t.pos);
    e->a = std::move(base);
    if (args.size() == 1) {
        e->b = std::move(args[0]);
    } else {
        e->b = expr(ExprKind::Tuple, t.pos);
        e->b->items = std::move(args);
    }
    return e;
}

ExprPtr ExprParser::parse_subscribed() {
    const uint32_t pos = cur().pos;
    auto s = expr(ExprKind::Slice, pos);
    if (!is_op(":")) {
        ExprPtr first = parse_expression(true);
        if (!is_op(":")) return first;
        s->a = std::move(first);
    }
    advance();  // ':'
    if (!is_op(":") && !is_op("]") && !is_op(",")) s->b = parse_expression(true);
    if (skip_op(":")) {
        if (!is_op("]") && !is_op(",")) s->c = parse_expression(true);
    }
    return s;
}

CallArgs ExprParser::parse_call_args() {
    expect_op("(");
    CallArgs args;
    bool first = true;
    while (!is_op(")")) {
        if (!first) {
            expect_op(",");
            if (is_op(")")) break;
        }
        first = false;
        const Token& at = cur();
        if (skip_op("*")) {
            if (args.star || args.star_star)
                error(at, "invalid syntax for function call expression");
            args.star = parse_expression(true);
        } else if (skip_op("**")) {
            if (args.star_star) error(at, "invalid syntax for function call expression");
            args.star_star = parse_expression(true);
        } else if (at.type == Tok::Name && peek().type == Tok::Op && peek().text == "=") {
            if (args.star_star) error(at, "invalid syntax for function call expression");
            std::string key = at.text;
            for (const auto& kv : args.kw)
                if (kv.first == key) error(at, "keyword argument repeated: " + key);
            advance();
            advance();
            args.kw.emplace_back(std::move(key), parse_expression(true));
        } else {
            if (!args.kw.empty() || args.star || args.star_star)
                error(at, "invalid syntax for function call expression");
            args.pos.push_back(parse_expression(true));
        }
    }
    advance();
    return args;
}

ExprPtr ExprParser::parse_call(ExprPtr callee) {
    auto e = expr(ExprKind::Call, cur().pos);
    e->args = parse_call_args();
    e->a = std::move(callee);
    return e;
}

std::string ExprParser::parse_dotted_name() {
    std::string name = expect_name();
    while (is_op(".")) {
        advance();
        name += "." + expect_name();
    }
    return name;
}

ExprPtr ExprParser::parse_filter(ExprPtr base, bool start_inline) {
    while (is_op("|") || start_inline) {
        if (!start_inline) advance();
        start_inline = false;
        auto e = expr(ExprKind::Filter, cur().pos);
        e->name = parse_dotted_name();
        if (is_op("(")) e->args = parse_call_args();
        e->a = std::move(base);
        base = std::move(e);
    }
    return base;
}

ExprPtr ExprParser::parse_test(ExprPtr base) {
    const uint32_t pos = cur().pos;
    advance();  // 'is'
    const bool negated = skip_name("not");
    auto e = expr(ExprKind::Test, pos);
    e->name = parse_dotted_name();
    const Token& t = cur();
    if (is_op("(")) {
        e->args = parse_call_args();
    } else if ((t.type == Tok::Name || t.type == Tok::String || t.type == Tok::Int ||
                t.type == Tok::Float ||
                (t.type == Tok::Op && (t.text == "(" || t.text == "[" || t.text == "{"))) &&
               !(t.type == Tok::Name && is_reserved_name(t.text))) {
        if (t.type == Tok::Name && t.text == "is")
            error(t, "You cannot chain multiple tests with is");
        e->args.pos.push_back(parse_postfix(parse_primary()));
    }
    e->a = std::move(base);
    if (!negated) return e;
    auto n = expr(ExprKind::Not, pos);
    n->a = std::move(e);
    return n;
}

}  // namespace pangolin::jinja
