#include "xml/element.h"

#include <algorithm>
#include <iterator>
#include <utility>

namespace tern::xml {

namespace {

bool matches(const Element& el, std::string_view name, std::string_view ns) {
  return el.name() == name && (ns.empty() || el.ns() == ns);
}

}  // namespace

Element::Element(const Element& other) : name_(other.name_), ns_(other.ns_), attrs_(other.attrs_) {
  nodes_.reserve(other.nodes_.size());
  for (const Node& n : other.nodes_) {
    if (n.is_text()) {
      nodes_.push_back(Node{nullptr, n.text});
    } else {
      nodes_.push_back(Node{std::make_unique<Element>(*n.element), {}});
    }
  }
}

Element& Element::operator=(const Element& other) {
  if (this != &other) {
    // Copy first, then move in: `other` may be one of our own descendants.
    Element copy(other);
    *this = std::move(copy);
  }
  return *this;
}

std::optional<std::string_view> Element::attr(std::string_view name) const {
  for (const Attribute& a : attrs_) {
    if (a.name == name) return std::string_view(a.value);
  }
  return std::nullopt;
}

std::string_view Element::attr_or(std::string_view name, std::string_view fallback) const {
  auto v = attr(name);
  return v ? *v : fallback;
}

Element& Element::set_attr(std::string_view name, std::string_view value) {
  for (Attribute& a : attrs_) {
    if (a.name == name) {
      a.value.assign(value);
      return *this;
    }
  }
  attrs_.push_back(Attribute{std::string(name), std::string(value)});
  return *this;
}

void Element::remove_attr(std::string_view name) {
  std::erase_if(attrs_, [&](const Attribute& a) { return a.name == name; });
}

Element& Element::add_child(Element child) {
  nodes_.push_back(Node{std::make_unique<Element>(std::move(child)), {}});
  return *nodes_.back().element;
}

Element& Element::add_child(std::string name, std::string ns) {
  if (ns.empty()) ns = ns_;
  return add_child(Element(std::move(name), std::move(ns)));
}

void Element::add_text(std::string_view text) {
  if (text.empty()) return;
  // The parser hands character data over in pieces; keeping one node per run
  // keeps trees small and makes text() and equality independent of chunking.
  if (!nodes_.empty() && nodes_.back().is_text()) {
    nodes_.back().text.append(text);
  } else {
    nodes_.push_back(Node{nullptr, std::string(text)});
  }
}

const Element* Element::child(std::string_view name, std::string_view ns) const {
  for (const Node& n : nodes_) {
    if (!n.is_text() && matches(*n.element, name, ns)) return n.element.get();
  }
  return nullptr;
}

Element* Element::child(std::string_view name, std::string_view ns) {
  return const_cast<Element*>(std::as_const(*this).child(name, ns));
}

const Element* Element::child_by_ns(std::string_view ns) const {
  for (const Node& n : nodes_) {
    if (!n.is_text() && n.element->ns() == ns) return n.element.get();
  }
  return nullptr;
}

std::vector<const Element*> Element::children() const {
  std::vector<const Element*> out;
  for (const Node& n : nodes_) {
    if (!n.is_text()) out.push_back(n.element.get());
  }
  return out;
}

bool Element::remove_child(std::string_view name, std::string_view ns) {
  auto it = std::find_if(nodes_.begin(), nodes_.end(), [&](const Node& n) {
    return !n.is_text() && matches(*n.element, name, ns);
  });
  if (it == nodes_.end()) return false;
  it = nodes_.erase(it);
  // Keep the one-node-per-text-run shape that add_text maintains.
  if (it != nodes_.begin() && it != nodes_.end() && it->is_text() && std::prev(it)->is_text()) {
    std::prev(it)->text += it->text;
    nodes_.erase(it);
  }
  return true;
}

std::string Element::text() const {
  std::string out;
  for (const Node& n : nodes_) {
    if (n.is_text()) out += n.text;
  }
  return out;
}

std::string Element::child_text(std::string_view name, std::string_view ns) const {
  const Element* c = child(name, ns);
  return c ? c->text() : std::string();
}

bool operator==(const Element& a, const Element& b) {
  if (a.name_ != b.name_ || a.ns_ != b.ns_ || a.nodes_.size() != b.nodes_.size()) return false;
  if (a.attrs_.size() != b.attrs_.size()) return false;
  for (std::size_t i = 0; i < a.attrs_.size(); ++i) {
    if (a.attrs_[i].name != b.attrs_[i].name || a.attrs_[i].value != b.attrs_[i].value) {
      return false;
    }
  }
  for (std::size_t i = 0; i < a.nodes_.size(); ++i) {
    const Node& x = a.nodes_[i];
    const Node& y = b.nodes_[i];
    if (x.is_text() != y.is_text()) return false;
    if (x.is_text() ? x.text != y.text : !(*x.element == *y.element)) return false;
  }
  return true;
}

void move_to_namespace(Element& el, std::string_view from, std::string_view to) {
  if (el.ns() != from) return;
  el.set_ns(std::string(to));
  for (auto& node : el.nodes())
    if (node.element) move_to_namespace(*node.element, from, to);
}

bool is_blank(const Element& el) {
  if (!el.attributes().empty()) return false;
  for (const auto& node : el.nodes())
    if (!node.is_text() || node.text.find_first_not_of(" \t\r\n") != std::string::npos) return false;
  return true;
}

}  // namespace tern::xml
