// Internal to the parser: a cursor over the tokens and Jinja2's expression grammar (operator
// precedence as Jinja2's parser has it), shared by the statement parser in parser.cpp.
#pragma once

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "text/jinja/ast.h"
#include "text/jinja/lexer.h"
#include "text/jinja/parser.h"

namespace pangolin::jinja {

class ExprParser {
  public:
    ExprParser(const Source& src, std::vector<Token> toks) : src_(src), toks_(std::move(toks)) {}

  protected:
    const Source& src_;
    std::vector<Token> toks_;
    size_t i_ = 0;
    int depth_ = 0;

    struct DepthGuard {
        ExprParser& p;
        DepthGuard(ExprParser& parser, const Token& at) : p(parser) {
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

    [[noreturn]] void error(const Token& t, const std::string& msg) const {
        syntax_error(src_, t.pos, msg);
    }

    void expect_op(const char* o) {
        if (!skip_op(o))
            error(cur(), std::string("expected token '") + o + "', got " + describe(cur()));
    }
    void expect(Tok type, const char* what) {
        if (cur().type != type)
            error(cur(), std::string("expected token '") + what + "', got " + describe(cur()));
        advance();
    }
    void expect_block_end() { expect(Tok::BlockEnd, "end of statement block"); }
    std::string expect_name() {
        if (cur().type != Tok::Name) error(cur(), "expected token 'name', got " + describe(cur()));
        std::string n = cur().text;
        advance();
        return n;
    }

    static ExprPtr expr(ExprKind k, uint32_t pos) {
        auto e = std::make_unique<Expr>();
        e->kind = k;
        e->pos = pos;
        return e;
    }

    // Expressions (parser_expr.cpp).
    bool tuple_end(const char* extra_end) const;
    ExprPtr parse_tuple(bool simplified, bool with_condexpr, const char* extra_end,
                        bool explicit_parentheses = false);
    ExprPtr parse_assign_target(bool with_tuple, bool with_namespace, const char* extra_end);
    void check_assignable(const Expr& e, const Token& at) const;
    ExprPtr parse_expression(bool with_condexpr);
    ExprPtr parse_condexpr();
    ExprPtr parse_or();
    ExprPtr parse_and();
    ExprPtr parse_not();
    ExprPtr parse_compare();
    ExprPtr binary(BinOp op, ExprPtr a, ExprPtr b, uint32_t pos);
    ExprPtr parse_math1();
    ExprPtr parse_concat();
    ExprPtr parse_math2();
    ExprPtr parse_pow();
    ExprPtr parse_unary(bool with_filter);
    ExprPtr literal(Value v, uint32_t pos);
    ExprPtr parse_primary();
    ExprPtr parse_list();
    ExprPtr parse_dict();
    ExprPtr parse_postfix(ExprPtr e);
    ExprPtr parse_filter_expr(ExprPtr e);
    ExprPtr parse_subscript(ExprPtr base);
    ExprPtr parse_subscribed();
    CallArgs parse_call_args();
    ExprPtr parse_call(ExprPtr callee);
    std::string parse_dotted_name();
    ExprPtr parse_filter(ExprPtr base, bool start_inline);
    ExprPtr parse_test(ExprPtr base);
};

}  // namespace pangolin::jinja
