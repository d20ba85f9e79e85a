#include "modules/pep/avatar.h"

#include <openssl/evp.h>

#include "core/hex.h"
#include "sasl/mechanism.h"
#include "xml/parse_element.h"
#include "xmpp/namespaces.h"

namespace tern::modules::pep::avatar {
namespace {

std::string without_space(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s)
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') out += c;
  return out;
}

}  // namespace

std::optional<std::pair<std::string, std::string>> metadata_info(const xml::Element& metadata) {
  if (metadata.name() != "metadata" || metadata.ns() != kMetadataNode) return std::nullopt;
  const xml::Element* info = metadata.child("info", kMetadataNode);
  if (!info || info->attr_or("id").empty()) return std::nullopt;
  return std::make_pair(std::string(info->attr_or("id")), std::string(info->attr_or("type", "image/png")));
}

xml::Element metadata_for(const std::string& id, const std::string& type, std::size_t bytes) {
  xml::Element m("metadata", kMetadataNode);
  auto& info = m.add_child("info");
  info.set_attr("bytes", std::to_string(bytes));
  info.set_attr("id", id);
  info.set_attr("type", type);
  return m;
}

xml::Element data_for(const std::string& base64) {
  xml::Element d("data", kDataNode);
  d.add_text(base64);
  return d;
}

std::optional<Photo> photo_of(const xml::Element& vcard) {
  const xml::Element* photo = vcard.child("PHOTO", kVcardNs);
  if (!photo) return std::nullopt;
  Photo p{photo->child_text("TYPE", kVcardNs), without_space(photo->child_text("BINVAL", kVcardNs))};
  if (p.base64.empty()) return std::nullopt;
  if (p.type.empty()) p.type = "image/png";
  return p;
}

xml::Element with_photo(std::optional<xml::Element> vcard, const std::optional<Photo>& photo) {
  xml::Element v = vcard ? std::move(*vcard) : xml::Element("vCard", kVcardNs);
  while (v.remove_child("PHOTO", kVcardNs)) {
  }
  if (photo) {
    // Named in vcard-temp whatever the stored element's own namespace,
    // so photo_of() finds what was put (a fuzz find: a vCard element in
    // another namespace lost its photo here).
    auto& p = v.add_child("PHOTO", std::string(kVcardNs));
    p.add_child("TYPE").add_text(photo->type);
    p.add_child("BINVAL").add_text(photo->base64);
  }
  return v;
}

std::optional<std::string> image_id(const std::string& base64, std::size_t* bytes) {
  auto raw = sasl::base64_decode(without_space(base64));
  if (!raw || raw->empty()) return std::nullopt;
  if (bytes) *bytes = raw->size();
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(raw->data(), raw->size(), out, &len, EVP_sha1(), nullptr) != 1) return std::nullopt;
  return core::to_hex(std::string_view(reinterpret_cast<const char*>(out), len));
}

std::optional<std::string> vcard_photo_hash(const std::string& vcard_xml) {
  auto vcard = xml::parse_element(vcard_xml, ns::kClient);
  if (!vcard) return std::nullopt;
  auto photo = photo_of(*vcard);
  if (!photo) return std::nullopt;
  return image_id(photo->base64);
}

void apply_photo_hash(xml::Element& presence, const std::optional<std::string>& hash,
                      const std::optional<std::string>& stale) {
  xml::Element* x = presence.child("x", kUpdateNs);
  xml::Element* photo = x ? x->child("photo", kUpdateNs) : nullptr;
  if (photo) {
    const std::string current = photo->text();
    if (current.empty()) return;  // the client's own "no avatar"
    std::string wanted;
    if (hash) {
      wanted = *hash;
    } else if (stale && current == *stale) {
      wanted.clear();
    } else {
      return;  // a hash the server cannot judge
    }
    if (current == wanted) return;
    x->remove_child("photo", kUpdateNs);
    auto& fresh = x->add_child("photo");
    if (!wanted.empty()) fresh.add_text(wanted);
    return;
  }
  if (!x) {
    if (!hash) return;
    x = &presence.add_child(xml::Element("x", kUpdateNs));
  }
  auto& fresh = x->add_child("photo");
  if (hash) fresh.add_text(*hash);
}

}  // namespace tern::modules::pep::avatar
