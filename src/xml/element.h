// A small element tree for stanzas: names are local names plus a namespace
// URI; text and child elements keep their document order.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tern::xml {

struct Attribute {
  // Qualified as written on the wire: "to", "xml:lang". Namespaced attributes
  // other than xml:* are kept as "{uri}local" (rare in XMPP; preserved as-is).
  std::string name;
  std::string value;
};

class Element;

// A child node: either an element or a run of character data.
struct Node {
  std::unique_ptr<Element> element;  // null for text
  std::string text;
  bool is_text() const { return !element; }
};

class Element {
 public:
  Element() = default;
  Element(std::string name, std::string ns) : name_(std::move(name)), ns_(std::move(ns)) {}
  // Takes the attributes as they are: names must be unique (the parser's are).
  Element(std::string name, std::string ns, std::vector<Attribute> attrs)
      : name_(std::move(name)), ns_(std::move(ns)), attrs_(std::move(attrs)) {}
  Element(const Element& other);
  Element& operator=(const Element& other);
  Element(Element&&) noexcept = default;
  Element& operator=(Element&&) noexcept = default;

  const std::string& name() const { return name_; }
  const std::string& ns() const { return ns_; }
  void set_name(std::string name) { name_ = std::move(name); }
  void set_ns(std::string ns) { ns_ = std::move(ns); }

  // Attributes.
  const std::vector<Attribute>& attributes() const { return attrs_; }
  std::optional<std::string_view> attr(std::string_view name) const;
  std::string_view attr_or(std::string_view name, std::string_view fallback = {}) const;
  Element& set_attr(std::string_view name, std::string_view value);  // adds or replaces
  void remove_attr(std::string_view name);

  // Children.
  const std::vector<Node>& nodes() const { return nodes_; }
  std::vector<Node>& nodes() { return nodes_; }
  Element& add_child(Element child);                          // returns the stored child
  Element& add_child(std::string name, std::string ns = {});  // ns empty: inherits ours
  void add_text(std::string_view text);                       // merges adjacent text
  // First child element with this local name (and namespace, if given).
  const Element* child(std::string_view name, std::string_view ns = {}) const;
  Element* child(std::string_view name, std::string_view ns = {});
  // First child element of any name in this namespace.
  const Element* child_by_ns(std::string_view ns) const;
  std::vector<const Element*> children() const;  // child elements only
  bool remove_child(std::string_view name, std::string_view ns = {});
  // Concatenated direct character data.
  std::string text() const;
  // Text of the first child named `name`, or empty.
  std::string child_text(std::string_view name, std::string_view ns = {}) const;

  // Structural equality: names, namespaces, attributes (in order) and nodes.
  friend bool operator==(const Element& a, const Element& b);

 private:
  std::string name_;
  std::string ns_;
  std::vector<Attribute> attrs_;
  std::vector<Node> nodes_;
};

// Moves `el`, and the descendants that inherited its namespace `from`,
// into `to`; an element in another namespace keeps its subtree as it is.
// Transports whose framing puts stanzas in a namespace of their own
// (jabber:server, jabber:component:accept, BOSH's httpbind) hand them on
// in jabber:client, the one namespace inside Tern.
void move_to_namespace(Element& el, std::string_view from, std::string_view to);

// No attributes, no child elements and no text but whitespace: `<vCard/>`
// or an empty private-storage fragment, which clients set to delete.
bool is_blank(const Element& el);

}  // namespace tern::xml
