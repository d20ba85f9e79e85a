#include "xml/serializer.h"

#include "xmpp/namespaces.h"

namespace tern::xml {

namespace {

bool is_stanza_ns(std::string_view ns) { return ns == ns::kClient || ns == ns::kServer; }

// What the reader of our output will see as the default namespace (`wire`)
// and which namespace of the tree that default stands for (`logical`). They
// differ only inside a stanza written into a stream of the other stanza
// namespace (a jabber:client message forwarded on a jabber:server stream).
struct Scope {
  std::string_view wire;
  std::string_view logical;
};

// Appends the escaped text, copying unescaped runs in one piece.
template <bool kAttr>
void append_escaped(std::string& out, std::string_view s) {
  std::size_t run = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char* rep = nullptr;
    switch (s[i]) {
      case '&':
        rep = "&amp;";
        break;
      case '<':
        rep = "&lt;";
        break;
      case '>':
        rep = "&gt;";
        break;
      case '\'':
        if (kAttr) rep = "&apos;";
        break;
      case '"':
        if (kAttr) rep = "&quot;";
        break;
      // Attribute values are normalised by the reader: a literal tab or line
      // break would come back as a space.
      case '\t':
        if (kAttr) rep = "&#9;";
        break;
      case '\n':
        if (kAttr) rep = "&#10;";
        break;
      // A literal CR is folded into LF by every reader, in text too.
      case '\r':
        rep = "&#13;";
        break;
      default:
        break;
    }
    if (rep) {
      out.append(s.substr(run, i - run));
      out.append(rep);
      run = i + 1;
    }
  }
  out.append(s.substr(run));
}

void append_attr(std::string& out, std::string_view name, std::string_view value) {
  out += ' ';
  out += name;
  out += "='";
  append_escaped<true>(out, value);
  out += '\'';
}

// Attributes in a namespace other than xml: are stored as "{uri}local"; they
// get a prefix declared on the element itself (a0, a1, …), which is enough to
// read them back: element names never use those prefixes.
void append_attributes(std::string& out, const Element& el) {
  int generated = 0;
  for (const Attribute& a : el.attributes()) {
    std::string_view name = a.name;
    // Namespaces come from ns(); a stray xmlns attribute would contradict it.
    if (name == "xmlns" || name.starts_with("xmlns:")) continue;
    if (!name.starts_with('{')) {
      append_attr(out, name, a.value);
      continue;
    }
    std::size_t close = name.rfind('}');
    if (close == std::string_view::npos) {
      append_attr(out, name, a.value);  // not our notation; write what we got
      continue;
    }
    std::string_view uri = name.substr(1, close - 1);
    std::string_view local = name.substr(close + 1);
    if (uri.empty()) {
      append_attr(out, local, a.value);  // "{}x" is just an unqualified x
      continue;
    }
    if (uri == ns::kXml) {
      out += " xml:";
      out += local;
      out += "='";
      append_escaped<true>(out, a.value);
      out += '\'';
      continue;
    }
    std::string prefix = "a" + std::to_string(generated++);
    append_attr(out, "xmlns:" + prefix, uri);
    append_attr(out, prefix + ":" + std::string(local), a.value);
  }
}

// Namespaces whose prefix is bound on every stream we write: elements in
// them are written prefixed, with no xmlns, and leave the scope unchanged.
std::string_view fixed_prefix(std::string_view ns) {
  if (ns == ns::kStreams) return "stream:";  // declared on our stream header
  if (ns == ns::kXml) return "xml:";         // bound by XML itself; xmlns= may not name it
  return {};
}

void serialize_element(std::string& out, const Element& el, Scope parent, bool top) {
  Scope scope = parent;
  bool write_xmlns = false;
  const std::string_view prefix = fixed_prefix(el.ns());
  if (!prefix.empty()) {
    // stream:features, stream:error: transparent for their children.
  } else if (top && (el.ns().empty() || (is_stanza_ns(el.ns()) && is_stanza_ns(parent.wire)))) {
    // A stanza takes the stream's namespace; builders may leave ns empty.
    scope.logical = el.ns();
  } else if (el.ns() == parent.logical || el.ns() == parent.wire) {
    scope.logical = el.ns();
  } else {
    write_xmlns = true;
    scope = Scope{el.ns(), el.ns()};
  }

  out += '<';
  out += prefix;
  out += el.name();
  if (write_xmlns) append_attr(out, "xmlns", el.ns());
  append_attributes(out, el);
  if (el.nodes().empty()) {
    out += "/>";
    return;
  }
  out += '>';
  for (const Node& n : el.nodes()) {
    if (n.is_text()) {
      append_escaped<false>(out, n.text);
    } else {
      serialize_element(out, *n.element, scope, false);
    }
  }
  out += "</";
  out += prefix;
  out += el.name();
  out += '>';
}

}  // namespace

void append_escaped_text(std::string& out, std::string_view text) {
  append_escaped<false>(out, text);
}

void append_escaped_attr(std::string& out, std::string_view value) {
  append_escaped<true>(out, value);
}

void serialize(std::string& out, const Element& el, std::string_view default_ns) {
  serialize_element(out, el, Scope{default_ns, default_ns}, true);
}

std::string to_string(const Element& el, std::string_view default_ns) {
  std::string out;
  serialize(out, el, default_ns);
  return out;
}

}  // namespace tern::xml
