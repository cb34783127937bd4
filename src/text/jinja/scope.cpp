#include "text/jinja/scope.h"

#include <unordered_set>

namespace pangolin::jinja {

namespace {

using Names = std::unordered_set<std::string>;

// A nested scope found while scanning its parent, analyzed once the parent is complete
// (the parent's names must all be known first).
struct Child {
    Body* body;
    std::vector<std::string>* locals;
    std::vector<std::string> bound;  // names bound on entry: loop targets, macro parameters
    std::vector<const Expr*> loads;  // expressions evaluated inside it: a loop filter, defaults
};

struct Scan {
    const Names& outer;  // names the enclosing scopes mention
    Names seen;          // names mentioned at this scope's level
    std::vector<std::string> undefined_first;
    std::vector<Child> children;

    void load(const std::string& n) { seen.insert(n); }

    void store(const std::string& n, bool in_branch) {
        if (!seen.insert(n).second) return;
        if (!in_branch && !outer.count(n)) undefined_first.push_back(n);
    }

    void loads(const Expr* e) {
        if (!e) return;
        if (e->kind == ExprKind::Name) load(e->name);
        loads(e->a.get());
        loads(e->b.get());
        loads(e->c.get());
        for (const auto& x : e->items) loads(x.get());
        for (const auto& x : e->args.pos) loads(x.get());
        for (const auto& [k, x] : e->args.kw) loads(x.get());
        loads(e->args.star.get());
        loads(e->args.star_star.get());
    }

    void store_target(const Expr& t, bool in_branch) {
        if (t.kind == ExprKind::Name)
            store(t.name, in_branch);
        else if (t.kind == ExprKind::GetAttr)
            loads(t.a.get());  // ns.attr reads ns
        else
            for (const auto& item : t.items) store_target(*item, in_branch);
    }

    static void target_names(const Expr& t, std::vector<std::string>& out) {
        if (t.kind == ExprKind::Name) out.push_back(t.name);
        for (const auto& item : t.items) target_names(*item, out);
    }

    void macro_child(MacroDef& m) {
        Child c{&m.body, &m.locals, {"varargs", "kwargs", "caller"}, {}};
        for (const auto& [name, def] : m.params) {
            c.bound.push_back(name);
            if (def) c.loads.push_back(def.get());
        }
        children.push_back(std::move(c));
    }

    void walk(Body& body, bool in_branch) {
        for (auto& node : body) {
            Node& n = *node;
            switch (n.kind) {
                case NodeKind::Output:
                    loads(n.expr.get());
                    break;
                case NodeKind::If:
                    for (auto& [cond, branch] : n.branches) {
                        loads(cond.get());
                        walk(branch, true);
                    }
                    break;
                case NodeKind::For: {
                    loads(n.expr.get());
                    Child c{&n.body, &n.locals, {"loop"}, {}};
                    target_names(*n.target, c.bound);
                    if (n.cond) c.loads.push_back(n.cond.get());
                    children.push_back(std::move(c));
                    if (!n.else_body.empty())
                        children.push_back({&n.else_body, &n.else_locals, {}, {}});
                    break;
                }
                case NodeKind::Set:
                    loads(n.expr.get());
                    store_target(*n.target, in_branch);
                    break;
                case NodeKind::SetBlock:
                    children.push_back({&n.body, &n.locals, {}, {}});
                    loads(n.expr.get());
                    store_target(*n.target, in_branch);
                    break;
                case NodeKind::Macro:
                    store(n.macro->name, in_branch);
                    macro_child(*n.macro);
                    break;
                case NodeKind::CallBlock:
                    loads(n.expr.get());
                    macro_child(*n.macro);
                    break;
                case NodeKind::FilterBlock:
                    loads(n.expr.get());
                    children.push_back({&n.body, &n.locals, {}, {}});
                    break;
                case NodeKind::With: {
                    Child c{&n.body, &n.locals, {}, {}};
                    for (const auto& [target, value] : n.assigns) {
                        loads(value.get());
                        target_names(*target, c.bound);
                    }
                    children.push_back(std::move(c));
                    break;
                }
                case NodeKind::Scope:
                    children.push_back({&n.body, &n.locals, {}, {}});
                    break;
                default:
                    break;
            }
        }
    }
};

std::vector<std::string> analyze(Body& body, const Names& outer,
                                 const std::vector<std::string>& bound,
                                 const std::vector<const Expr*>& extra_loads) {
    Scan s{outer, {}, {}, {}};
    for (const auto& n : bound) s.seen.insert(n);
    for (const Expr* e : extra_loads) s.loads(e);
    s.walk(body, false);
    Names inner = outer;
    inner.insert(s.seen.begin(), s.seen.end());
    for (Child& c : s.children) *c.locals = analyze(*c.body, inner, c.bound, c.loads);
    return std::move(s.undefined_first);
}

}  // namespace

std::vector<std::string> analyze_scopes(Body& root) {
    return analyze(root, {}, {}, {});
}

}  // namespace pangolin::jinja
