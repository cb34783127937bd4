#include "text/jinja/parser.h"

#include <algorithm>

#include "core/error.h"

namespace pangolin::jinja {

namespace {

bool is_reserved_name(const std::string& n) { return n == "else" || n == "or" || n == "and"; }

class Parser {
public:
    Parser(const Source& src, std::vector<Token> toks) : src_(src), toks_(std::move(toks)) {}

    Body parse_template() {
        Body body = subparse({});
        return body;
    }

private:
    const Source& src_;
    std::vector<Token> toks_;
    size_t i_ = 0;
    int depth_ = 0;
    int loop_depth_ = 0;
    std::vector<std::vector<std::string>> end_stack_;  // tags that close each open block
    std::vector<std::string> tag_stack_;               // the open blocks, innermost last

    struct DepthGuard {
        Parser& p;
        DepthGuard(Parser& parser, const Token& at) : p(parser) {
            if (++p.depth_ > k_max_parse_depth)
                p.error(at, "template nested more than " + std::to_string(k_max_parse_depth) +
                                " levels deep");
        }
        ~DepthGuard() { --p.depth_; }
    };

    const Token& cur() const { return toks_[i_]; }
    const Token& peek(size_t k = 1) const { return toks_[std::min(i_ + k, toks_.size() - 1)]; }
    void advance() {
        if (i_ + 1 < toks_.size()) ++i_;
    }
    bool is_name(const char* n) const { return cur().type == Tok::Name && cur().text == n; }
    bool is_op(const char* o) const { return cur().type == Tok::Op && cur().text == o; }
    bool skip_name(const char* n) {
        if (!is_name(n)) return false;
        advance();
        return true;
    }
    bool skip_op(const char* o) {
        if (!is_op(o)) return false;
        advance();
        return true;
    }

    [[noreturn]] void error(const Token& t, const std::string& msg) const { syntax_error(src_, t.pos, msg); }

    void expect_op(const char* o) {
        if (!skip_op(o)) error(cur(), std::string("expected token '") + o + "', got " + describe(cur()));
    }
    void expect(Tok type, const char* what) {
        if (cur().type != type) error(cur(), std::string("expected token '") + what + "', got " + describe(cur()));
        advance();
    }
    void expect_block_end() { expect(Tok::BlockEnd, "end of statement block"); }
    std::string expect_name() {
        if (cur().type != Tok::Name) error(cur(), "expected token 'name', got " + describe(cur()));
        std::string n = cur().text;
        advance();
        return n;
    }

    static std::string quoted_list(const std::vector<std::string>& names) {
        std::string s;
        for (size_t k = 0; k < names.size(); ++k) s += (k ? " or '" : "'") + names[k] + "'";
        return s;
    }

    [[noreturn]] void fail_unknown(const Token& at, const std::string* name) const {
        std::string msg = name ? "Encountered unknown tag '" + *name + "'." : "Unexpected end of template.";
        if (!end_stack_.empty()) {
            bool expected = false;
            for (const auto& ends : end_stack_)
                if (name && std::find(ends.begin(), ends.end(), *name) != ends.end()) expected = true;
            if (expected)
                msg += " You probably made a nesting mistake. Jinja is expecting this tag, but currently looking for " +
                       quoted_list(end_stack_.back()) + ".";
            else
                msg += " Jinja was looking for the following tags: " + quoted_list(end_stack_.back()) + ".";
        }
        if (!tag_stack_.empty()) msg += " The innermost block that needs to be closed is '" + tag_stack_.back() + "'.";
        error(at, msg);
    }

    static std::unique_ptr<Node> node(NodeKind k, uint32_t pos) {
        auto n = std::make_unique<Node>();
        n->kind = k;
        n->pos = pos;
        return n;
    }
    static ExprPtr expr(ExprKind k, uint32_t pos) {
        auto e = std::make_unique<Expr>();
        e->kind = k;
        e->pos = pos;
        return e;
    }

    // ---- statements ----

    Body subparse(const std::vector<std::string>& end_names) {
        Body body;
        while (true) {
            const Token& t = cur();
            switch (t.type) {
                case Tok::Data: {
                    auto n = node(NodeKind::Text, t.pos);
                    n->text = t.text;
                    body.push_back(std::move(n));
                    advance();
                    break;
                }
                case Tok::VarBegin: {
                    advance();
                    auto n = node(NodeKind::Output, t.pos);
                    n->expr = parse_tuple(false, true, nullptr);
                    expect(Tok::VarEnd, "end of print statement");
                    body.push_back(std::move(n));
                    break;
                }
                case Tok::BlockBegin: {
                    advance();
                    if (cur().type == Tok::Name &&
                        std::find(end_names.begin(), end_names.end(), cur().text) != end_names.end())
                        return body;
                    body.push_back(parse_statement());
                    break;
                }
                case Tok::Eof:
                    if (!end_names.empty()) fail_unknown(t, nullptr);
                    return body;
                default: error(t, "unexpected " + describe(t));
            }
        }
    }

    // After the tag header: "%}", the body up to one of end_names (consumed when drop_needle).
    Body parse_statements(const std::vector<std::string>& end_names, bool drop_needle) {
        skip_op(":");
        expect_block_end();
        end_stack_.push_back(end_names);
        Body body = subparse(end_names);
        end_stack_.pop_back();
        if (drop_needle) advance();
        return body;
    }

    std::unique_ptr<Node> parse_statement() {
        const Token& t = cur();
        if (t.type != Tok::Name) error(t, "tag name expected");
        DepthGuard guard(*this, t);
        const std::string name = t.text;
        static const char* const tags[] = {"for", "if", "set", "macro", "call", "filter", "with", "block", "generation"};
        const bool pushes = std::find(std::begin(tags), std::end(tags), name) != std::end(tags);
        if (pushes) tag_stack_.push_back(name);
        std::unique_ptr<Node> n;
        if (name == "for") n = parse_for();
        else if (name == "if") n = parse_if();
        else if (name == "set") n = parse_set();
        else if (name == "macro") n = parse_macro();
        else if (name == "call") n = parse_call_block();
        else if (name == "filter") n = parse_filter_block();
        else if (name == "with") n = parse_with();
        else if (name == "block" || name == "generation") n = parse_scope(name);
        else if (name == "break" || name == "continue") {
            if (loop_depth_ == 0) error(t, "'" + name + "' outside of a for loop");
            n = node(name == "break" ? NodeKind::Break : NodeKind::Continue, t.pos);
            advance();
            expect_block_end();
        } else if (name == "include" || name == "import" || name == "extends" || name == "from") {
            error(t, "the '" + name + "' tag is not supported: a chat template is a single file");
        } else {
            fail_unknown(t, &name);
        }
        if (pushes) tag_stack_.pop_back();
        return n;
    }

    std::unique_ptr<Node> parse_for() {
        auto n = node(NodeKind::For, cur().pos);
        advance();
        n->target = parse_assign_target(true, false, "in");
        if (!skip_name("in")) error(cur(), "expected token 'in', got " + describe(cur()));
        n->expr = parse_tuple(false, false, "recursive");
        if (skip_name("if")) n->cond = parse_expression(true);
        n->recursive = skip_name("recursive");
        ++loop_depth_;
        n->body = parse_statements({"endfor", "else"}, false);
        --loop_depth_;
        const bool has_else = cur().text == "else";
        advance();
        if (has_else) n->else_body = parse_statements({"endfor"}, true);
        expect_block_end();
        return n;
    }

    std::unique_ptr<Node> parse_if() {
        auto n = node(NodeKind::If, cur().pos);
        advance();
        while (true) {
            ExprPtr cond = parse_tuple(false, false, nullptr);
            Body body = parse_statements({"elif", "else", "endif"}, false);
            n->branches.emplace_back(std::move(cond), std::move(body));
            const std::string tag = cur().text;
            advance();
            if (tag == "elif") continue;
            if (tag == "else") n->branches.emplace_back(nullptr, parse_statements({"endif"}, true));
            break;
        }
        expect_block_end();
        return n;
    }

    std::unique_ptr<Node> parse_set() {
        const uint32_t pos = cur().pos;
        advance();
        ExprPtr target = parse_assign_target(true, true, nullptr);
        if (skip_op("=")) {
            auto n = node(NodeKind::Set, pos);
            n->target = std::move(target);
            n->expr = parse_tuple(false, true, nullptr);
            expect_block_end();
            return n;
        }
        auto n = node(NodeKind::SetBlock, pos);
        n->target = std::move(target);
        n->expr = parse_filter(nullptr, false);
        n->body = parse_statements({"endset"}, true);
        expect_block_end();
        return n;
    }

    std::vector<std::pair<std::string, ExprPtr>> parse_signature() {
        std::vector<std::pair<std::string, ExprPtr>> params;
        expect_op("(");
        while (!is_op(")")) {
            if (!params.empty()) expect_op(",");
            const Token& at = cur();
            std::string pname = expect_name();
            ExprPtr def;
            if (skip_op("=")) def = parse_expression(true);
            else if (!params.empty() && params.back().second)
                error(at, "non-default argument follows default argument");
            params.emplace_back(std::move(pname), std::move(def));
        }
        advance();
        return params;
    }

    std::unique_ptr<Node> parse_macro() {
        auto n = node(NodeKind::Macro, cur().pos);
        advance();
        n->macro = std::make_shared<MacroDef>();
        n->macro->name = expect_name();
        n->macro->params = parse_signature();
        const int saved = loop_depth_;
        loop_depth_ = 0;
        n->macro->body = parse_statements({"endmacro"}, true);
        loop_depth_ = saved;
        expect_block_end();
        return n;
    }

    std::unique_ptr<Node> parse_call_block() {
        auto n = node(NodeKind::CallBlock, cur().pos);
        advance();
        n->macro = std::make_shared<MacroDef>();
        n->macro->name = "caller";
        if (is_op("(")) n->macro->params = parse_signature();
        const Token& at = cur();
        n->expr = parse_expression(true);
        if (n->expr->kind != ExprKind::Call) error(at, "expected call");
        const int saved = loop_depth_;
        loop_depth_ = 0;
        n->macro->body = parse_statements({"endcall"}, true);
        loop_depth_ = saved;
        expect_block_end();
        return n;
    }

    std::unique_ptr<Node> parse_filter_block() {
        auto n = node(NodeKind::FilterBlock, cur().pos);
        advance();
        n->expr = parse_filter(nullptr, true);
        n->body = parse_statements({"endfilter"}, true);
        expect_block_end();
        return n;
    }

    std::unique_ptr<Node> parse_with() {
        auto n = node(NodeKind::With, cur().pos);
        advance();
        while (cur().type != Tok::BlockEnd) {
            if (!n->assigns.empty()) expect_op(",");
            ExprPtr target = parse_assign_target(true, false, nullptr);
            expect_op("=");
            n->assigns.emplace_back(std::move(target), parse_expression(true));
        }
        n->body = parse_statements({"endwith"}, true);
        expect_block_end();
        return n;
    }

    std::unique_ptr<Node> parse_scope(const std::string& tag) {
        auto n = node(NodeKind::Scope, cur().pos);
        advance();
        if (tag == "block") {
            n->text = expect_name();
            skip_name("scoped");
            skip_name("required");
        }
        n->body = parse_statements({"end" + tag}, true);
        if (tag == "block" && cur().type == Tok::Name) {
            if (cur().text != n->text) error(cur(), "mismatching name in endblock");
            advance();
        }
        expect_block_end();
        return n;
    }

    // ---- expressions ----

    bool tuple_end(const char* extra_end) const {
        const Token& t = cur();
        if (t.type == Tok::VarEnd || t.type == Tok::BlockEnd || t.type == Tok::Eof) return true;
        if (t.type == Tok::Op && t.text == ")") return true;
        return extra_end && t.type == Tok::Name && t.text == extra_end;
    }

    ExprPtr parse_tuple(bool simplified, bool with_condexpr, const char* extra_end,
                        bool explicit_parentheses = false) {
        const uint32_t pos = cur().pos;
        std::vector<ExprPtr> items;
        bool is_tuple = false;
        while (true) {
            if (!items.empty()) expect_op(",");
            if (tuple_end(extra_end)) break;
            items.push_back(simplified ? parse_primary() : parse_expression(with_condexpr));
            if (is_op(",")) is_tuple = true;
            else break;
        }
        if (!is_tuple) {
            if (!items.empty()) return std::move(items[0]);
            if (!explicit_parentheses) error(cur(), "Expected an expression, got " + describe(cur()));
        }
        auto t = expr(ExprKind::Tuple, pos);
        t->items = std::move(items);
        return t;
    }

    ExprPtr parse_assign_target(bool with_tuple, bool with_namespace, const char* extra_end) {
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

    void check_assignable(const Expr& e, const Token& at) const {
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

    ExprPtr parse_expression(bool with_condexpr) {
        DepthGuard guard(*this, cur());
        return with_condexpr ? parse_condexpr() : parse_or();
    }

    ExprPtr parse_condexpr() {
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

    ExprPtr parse_or() {
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

    ExprPtr parse_and() {
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

    ExprPtr parse_not() {
        if (is_name("not")) {
            DepthGuard guard(*this, cur());
            auto n = expr(ExprKind::Not, cur().pos);
            advance();
            n->a = parse_not();
            return n;
        }
        return parse_compare();
    }

    ExprPtr parse_compare() {
        const uint32_t pos = cur().pos;
        ExprPtr first = parse_math1();
        std::vector<CompareOp> ops;
        std::vector<ExprPtr> operands;
        while (true) {
            CompareOp op;
            if (is_op("==")) op = CompareOp::Eq;
            else if (is_op("!=")) op = CompareOp::Ne;
            else if (is_op("<")) op = CompareOp::Lt;
            else if (is_op("<=")) op = CompareOp::Le;
            else if (is_op(">")) op = CompareOp::Gt;
            else if (is_op(">=")) op = CompareOp::Ge;
            else if (is_name("in")) op = CompareOp::In;
            else if (is_name("not") && peek().type == Tok::Name && peek().text == "in") {
                advance();
                op = CompareOp::NotIn;
            } else break;
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

    ExprPtr binary(BinOp op, ExprPtr a, ExprPtr b, uint32_t pos) {
        auto e = expr(ExprKind::Binary, pos);
        e->op = op;
        e->a = std::move(a);
        e->b = std::move(b);
        return e;
    }

    ExprPtr parse_math1() {
        ExprPtr e = parse_concat();
        while (is_op("+") || is_op("-")) {
            const BinOp op = cur().text == "+" ? BinOp::Add : BinOp::Sub;
            const uint32_t pos = cur().pos;
            advance();
            e = binary(op, std::move(e), parse_concat(), pos);
        }
        return e;
    }

    ExprPtr parse_concat() {
        ExprPtr e = parse_math2();
        while (is_op("~")) {
            const uint32_t pos = cur().pos;
            advance();
            e = binary(BinOp::Concat, std::move(e), parse_math2(), pos);
        }
        return e;
    }

    ExprPtr parse_math2() {
        ExprPtr e = parse_pow();
        while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
            const std::string& t = cur().text;
            const BinOp op = t == "*" ? BinOp::Mul : t == "/" ? BinOp::Div : t == "//" ? BinOp::FloorDiv : BinOp::Mod;
            const uint32_t pos = cur().pos;
            advance();
            e = binary(op, std::move(e), parse_pow(), pos);
        }
        return e;
    }

    ExprPtr parse_pow() {
        ExprPtr e = parse_unary(true);
        while (is_op("**")) {
            const uint32_t pos = cur().pos;
            advance();
            e = binary(BinOp::Pow, std::move(e), parse_unary(true), pos);
        }
        return e;
    }

    ExprPtr parse_unary(bool with_filter) {
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

    ExprPtr literal(Value v, uint32_t pos) {
        auto e = expr(ExprKind::Literal, pos);
        e->literal = std::move(v);
        return e;
    }

    ExprPtr parse_primary() {
        DepthGuard guard(*this, cur());
        const Token& t = cur();
        switch (t.type) {
            case Tok::Name: {
                advance();
                if (t.text == "true" || t.text == "True") return literal(Value::boolean(true), t.pos);
                if (t.text == "false" || t.text == "False") return literal(Value::boolean(false), t.pos);
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
            case Tok::Int: advance(); return literal(Value::integer(t.int_value), t.pos);
            case Tok::Float: advance(); return literal(Value::number(t.float_value), t.pos);
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
            default: break;
        }
        error(t, "unexpected " + describe(t));
    }

    ExprPtr parse_list() {
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

    ExprPtr parse_dict() {
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

    ExprPtr parse_postfix(ExprPtr e) {
        while (true) {
            if (is_op(".") || is_op("[")) e = parse_subscript(std::move(e));
            else if (is_op("(")) e = parse_call(std::move(e));
            else return e;
        }
    }

    ExprPtr parse_filter_expr(ExprPtr e) {
        while (true) {
            if (is_op("|")) e = parse_filter(std::move(e), false);
            else if (is_name("is")) e = parse_test(std::move(e));
            else if (is_op("(")) e = parse_call(std::move(e));
            else return e;
        }
    }

    ExprPtr parse_subscript(ExprPtr base) {
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

    ExprPtr parse_subscribed() {
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

    CallArgs parse_call_args() {
        const Token& open = cur();
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
                if (args.star || args.star_star) error(at, "invalid syntax for function call expression");
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
        (void)open;
        advance();
        return args;
    }

    ExprPtr parse_call(ExprPtr callee) {
        auto e = expr(ExprKind::Call, cur().pos);
        e->args = parse_call_args();
        e->a = std::move(callee);
        return e;
    }

    std::string parse_dotted_name() {
        std::string name = expect_name();
        while (is_op(".")) {
            advance();
            name += "." + expect_name();
        }
        return name;
    }

    ExprPtr parse_filter(ExprPtr base, bool start_inline) {
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

    ExprPtr parse_test(ExprPtr base) {
        const uint32_t pos = cur().pos;
        advance();  // 'is'
        const bool negated = skip_name("not");
        auto e = expr(ExprKind::Test, pos);
        e->name = parse_dotted_name();
        const Token& t = cur();
        if (is_op("(")) {
            e->args = parse_call_args();
        } else if ((t.type == Tok::Name || t.type == Tok::String || t.type == Tok::Int || t.type == Tok::Float ||
                    (t.type == Tok::Op && (t.text == "(" || t.text == "[" || t.text == "{"))) &&
                   !(t.type == Tok::Name && is_reserved_name(t.text))) {
            if (t.type == Tok::Name && t.text == "is") error(t, "You cannot chain multiple tests with is");
            e->args.pos.push_back(parse_postfix(parse_primary()));
        }
        e->a = std::move(base);
        if (!negated) return e;
        auto n = expr(ExprKind::Not, pos);
        n->a = std::move(e);
        return n;
    }
};

}  // namespace

Body parse(const Source& src) { return Parser(src, tokenize(src)).parse_template(); }

}  // namespace pangolin::jinja
