// XMPP addresses (RFC 7622 form; normalised with stringprep profiles of
// RFC 6122 via libidn: nodeprep, nameprep, resourceprep).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace tern::xmpp {

class Jid {
 public:
  Jid() = default;
  // Parses and normalises; nullopt when the address is invalid (empty or
  // too-long part (> 1023 bytes), forbidden characters, bad IP literal …).
  static std::optional<Jid> parse(std::string_view text);
  // From parts that are already normalised (no checks): for the server's own
  // addresses and for tests.
  static Jid from_parts(std::string node, std::string domain, std::string resource = {});

  const std::string& node() const { return node_; }
  const std::string& domain() const { return domain_; }
  const std::string& resource() const { return resource_; }
  bool has_node() const { return !node_.empty(); }
  bool has_resource() const { return !resource_.empty(); }
  bool is_bare() const { return resource_.empty(); }
  bool is_full() const { return !resource_.empty(); }
  bool empty() const { return domain_.empty(); }

  Jid bare() const { return from_parts(node_, domain_); }
  Jid with_resource(std::string resource) const {
    return from_parts(node_, domain_, std::move(resource));
  }
  std::string to_string() const;    // node@domain/resource
  std::string bare_string() const;  // node@domain

  friend bool operator==(const Jid&, const Jid&) = default;
  friend auto operator<=>(const Jid&, const Jid&) = default;

 private:
  std::string node_, domain_, resource_;
};

// Normalises one part; nullopt when invalid (empty, > 1023 bytes once
// prepared, invalid UTF-8, prohibited characters). nameprep() also strips
// one trailing '.', checks the host-name shape (labels of letters, digits,
// '-', '_' and non-ASCII) and accepts IP literals: "[v6]" (returned in
// canonical form) and dotted-quad IPv4.
std::optional<std::string> nodeprep(std::string_view node);
std::optional<std::string> nameprep(std::string_view domain);
std::optional<std::string> resourceprep(std::string_view resource);

}  // namespace tern::xmpp

template <>
struct std::hash<tern::xmpp::Jid> {
  std::size_t operator()(const tern::xmpp::Jid& j) const noexcept;
};
