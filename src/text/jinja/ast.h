// The parsed template: expression and statement trees, plain tagged structs (one struct per
// tree level; `kind` says which fields are used).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "text/jinja/value.h"

namespace pangolin::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

enum class ExprKind {
    Literal,  // literal
    Name,     // name
    List,     // items
    Tuple,    // items
    Dict,     // items: key0, value0, key1, value1, ...
    Neg,      // -a
    Pos,      // +a
    Not,      // not a
    Binary,   // a op b
    And,      // a and b
    Or,       // a or b
    Compare,  // items[0] cmp_ops[0] items[1] cmp_ops[1] items[2] ...
    Cond,     // a if b else c (c may be null)
    GetAttr,  // a.name
    GetItem,  // a[b]
    Slice,    // a:b:c inside [] (each may be null)
    Call,     // a(args)
    Filter,   // a | name(args); a is null for a filter block's body
    Test,     // a is name(args)
};

enum class BinOp { Add, Sub, Mul, Div, FloorDiv, Mod, Pow, Concat };
enum class CompareOp { Eq, Ne, Lt, Le, Gt, Ge, In, NotIn };

struct CallArgs {
    std::vector<ExprPtr> pos;
    std::vector<std::pair<std::string, ExprPtr>> kw;
    ExprPtr star, star_star;  // *args, **kwargs
};

struct Expr {
    ExprKind kind;
    uint32_t pos = 0;  // byte offset in the source, for messages
    Value literal;
    std::string name;
    BinOp op = BinOp::Add;
    std::vector<ExprPtr> items;
    std::vector<CompareOp> cmp_ops;
    ExprPtr a, b, c;
    CallArgs args;
};

struct Node;
using Body = std::vector<std::unique_ptr<Node>>;

enum class NodeKind {
    Text,         // text
    Output,       // {{ expr }}
    If,           // branches (the else branch has a null condition)
    For,          // for target in expr [if cond] [recursive]: body, else_body
    Set,          // set target = expr (target: name, tuple of names, or ns.attr)
    SetBlock,     // set target [| filters] %}body{% endset (expr: filter chain or null)
    Macro,        // macro
    CallBlock,    // call [(params)] expr %}body{% endcall (macro: the caller)
    FilterBlock,  // filter chain %}body{% endfilter
    With,         // with assigns %}body{% endwith
    Scope,        // block / generation: body rendered in place
    Break,
    Continue,
};

struct MacroDef {
    std::string name;
    std::vector<std::pair<std::string, ExprPtr>> params;  // default may be null
    Body body;
    std::vector<std::string> locals;  // see Node::locals
};

struct Node {
    NodeKind kind;
    uint32_t pos = 0;
    std::string text;
    ExprPtr expr, target, cond;
    std::vector<std::pair<ExprPtr, Body>> branches;
    Body body, else_body;
    bool recursive = false;
    std::shared_ptr<MacroDef> macro;
    std::vector<std::pair<ExprPtr, ExprPtr>> assigns;
    // Names the scope of `body` (`else_body`) starts with as undefined: Jinja2 compiles a name
    // that a scope assigns before any use at its own level into a local that is undefined until
    // assigned, hiding outer values from nested scopes that read it earlier (scope.cpp).
    std::vector<std::string> locals, else_locals;
};

}  // namespace pangolin::jinja
