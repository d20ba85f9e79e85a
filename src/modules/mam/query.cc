#include "modules/mam/query.h"

#include <algorithm>
#include <charconv>

namespace tern::modules::mam {
namespace {

using xmpp::StanzaCondition;
using xmpp::StanzaError;

StanzaError bad(std::string why) { return StanzaError(StanzaCondition::kBadRequest, std::move(why)); }

// Fixed-width decimal number at text[at, at+n).
std::optional<int> digits(std::string_view text, std::size_t at, std::size_t n) {
  if (at + n > text.size()) return std::nullopt;
  int v = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    v = v * 10 + (text[i] - '0');
  }
  return v;
}

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

// Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's method).
std::int64_t days_from_civil(int y, int m, int d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - static_cast<int>(era * 400);
  const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

std::vector<std::string> values_of(const xml::Element& field) {
  std::vector<std::string> out;
  for (const auto* v : field.children())
    if (v->name() == "value") out.push_back(v->text());
  return out;
}

// One value at most; an empty field is as good as no field.
std::variant<std::optional<std::string>, StanzaError> single_value(const xml::Element& field) {
  auto values = values_of(field);
  if (values.size() > 1) return bad("field '" + std::string(field.attr_or("var")) + "' takes one value");
  if (values.empty() || values.front().empty()) return std::optional<std::string>{};
  return std::optional<std::string>{std::move(values.front())};
}

std::optional<StanzaError> read_form(const xml::Element& form, ArchiveRequest& req) {
  const auto type = form.attr_or("type", "submit");
  if (type != "submit" && type != "form") return bad("the form must be submitted");
  for (const auto* field : form.children()) {
    if (field->name() != "field") continue;
    const std::string var(field->attr_or("var"));
    if (var == "ids") {
      for (const auto& v : values_of(*field)) {
        auto id = decode_id(v);
        if (!id) return StanzaError(StanzaCondition::kItemNotFound, "no message with id '" + v + "'");
        req.ids.push_back(*id);
      }
      continue;
    }
    auto one = single_value(*field);
    if (auto* err = std::get_if<StanzaError>(&one)) return *err;
    const auto& value = std::get<std::optional<std::string>>(one);
    if (var == "FORM_TYPE") {
      if (value && *value != kNs) return bad("FORM_TYPE must be urn:xmpp:mam:2");
    } else if (var == "with") {
      if (!value) continue;
      auto jid = xmpp::Jid::parse(*value);
      if (!jid) return bad("'with' is not a JID");
      req.with = std::move(*jid);
    } else if (var == "start" || var == "end") {
      if (!value) continue;
      auto t = parse_datetime(*value);
      if (!t) return bad("'" + var + "' is not a XEP-0082 DateTime");
      (var == "start" ? req.start : req.end) = *t;
    } else if (var == "after-id" || var == "before-id") {
      if (!value) continue;
      auto id = decode_id(*value);
      if (!id) return StanzaError(StanzaCondition::kItemNotFound, "no message with id '" + *value + "'");
      (var == "after-id" ? req.after_id : req.before_id) = *id;
    } else if (var.empty()) {
      return bad("a form field without 'var'");
    } else {
      // §4.1.4: a field we do not know.
      return StanzaError(StanzaCondition::kFeatureNotImplemented, "unknown field '" + var + "'");
    }
  }
  return std::nullopt;
}

std::optional<StanzaError> read_rsm(const xml::Element& set, ArchiveRequest& req) {
  if (const auto* max = set.child("max", kRsmNs)) {
    const std::string text = max->text();
    std::size_t n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size())
      return bad("RSM <max> must be a non-negative integer");
    req.max = n;
  }
  // An id that cannot be ours is not in the archive (§4.3).
  auto id_of = [](const xml::Element& e) -> std::variant<std::int64_t, StanzaError> {
    const std::string text = e.text();
    auto id = decode_id(text);
    if (!id) return StanzaError(StanzaCondition::kItemNotFound, "no message with id '" + text + "'");
    return *id;
  };
  if (const auto* after = set.child("after", kRsmNs)) {
    auto id = id_of(*after);
    if (auto* err = std::get_if<StanzaError>(&id)) return *err;
    req.rsm_after = std::get<std::int64_t>(id);
  }
  if (const auto* before = set.child("before", kRsmNs)) {
    req.from_end = true;
    if (!before->text().empty()) {
      auto id = id_of(*before);
      if (auto* err = std::get_if<StanzaError>(&id)) return *err;
      req.rsm_before = std::get<std::int64_t>(id);
    }
  }
  if (set.child("index", kRsmNs))
    return StanzaError(StanzaCondition::kFeatureNotImplemented, "RSM <index> is not supported");
  return std::nullopt;
}

}  // namespace

std::vector<std::int64_t> ArchiveRequest::named_ids() const {
  std::vector<std::int64_t> out = ids;
  for (const auto& id : {after_id, before_id, rsm_after, rsm_before})
    if (id) out.push_back(*id);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::optional<TimePoint> parse_datetime(std::string_view s) {
  // CCYY-MM-DDThh:mm:ss[.sss]TZD
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
    return std::nullopt;
  auto year = digits(s, 0, 4), month = digits(s, 5, 2), day = digits(s, 8, 2);
  auto hour = digits(s, 11, 2), minute = digits(s, 14, 2), second = digits(s, 17, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  if (*month < 1 || *month > 12 || *day < 1 || *day > days_in_month(*year, *month)) return std::nullopt;
  if (*hour > 23 || *minute > 59 || *second > 60) return std::nullopt;  // 60: a leap second
  std::size_t at = 19;
  std::int64_t micros = 0;
  if (at < s.size() && s[at] == '.') {
    ++at;
    const std::size_t first = at;
    std::int64_t scale = 100000;
    while (at < s.size() && s[at] >= '0' && s[at] <= '9') {
      micros += (s[at] - '0') * scale;
      scale /= 10;
      ++at;
    }
    if (at == first) return std::nullopt;
  }
  std::int64_t offset_minutes = 0;
  if (at < s.size() && s[at] == 'Z') {
    ++at;
  } else if (at < s.size() && (s[at] == '+' || s[at] == '-')) {
    auto oh = digits(s, at + 1, 2), om = digits(s, at + 4, 2);
    if (!oh || !om || at + 3 >= s.size() || s[at + 3] != ':' || *oh > 23 || *om > 59) return std::nullopt;
    offset_minutes = (s[at] == '-' ? -1 : 1) * (*oh * 60 + *om);
    at += 6;
  } else {
    return std::nullopt;  // XEP-0082: the zone is required
  }
  if (at != s.size()) return std::nullopt;
  std::int64_t seconds = days_from_civil(*year, *month, *day) * 86400 + *hour * 3600 +
                         *minute * 60 + *second - offset_minutes * 60;
  // The clock counts nanoseconds in an int64 (about 1678..2262): dates
  // beyond are as good as "before everything" or "after everything".
  constexpr std::int64_t kClockLimitSeconds = 9'000'000'000;
  seconds = std::clamp(seconds, -kClockLimitSeconds, kClockLimitSeconds);
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(
      std::chrono::seconds(seconds) + std::chrono::microseconds(micros)));
}

std::variant<ArchiveRequest, StanzaError> parse_query(const xml::Element& query) {
  ArchiveRequest req;
  req.queryid = std::string(query.attr_or("queryid"));
  bool seen_form = false, seen_set = false;
  for (const auto* child : query.children()) {
    if (child->name() == "x" && child->ns() == kDataFormsNs) {
      if (std::exchange(seen_form, true)) return bad("one data form at most");
      if (auto err = read_form(*child, req)) return *err;
    } else if (child->name() == "set" && child->ns() == kRsmNs) {
      if (std::exchange(seen_set, true)) return bad("one RSM <set/> at most");
      if (auto err = read_rsm(*child, req)) return *err;
    } else if (child->name() == "flip-page" && child->ns() == kNs) {
      req.flip_page = true;
    } else {
      return bad("unexpected <" + child->name() + "/> in the query");
    }
  }
  return req;
}

storage::ArchiveQuery to_storage_query(const ArchiveRequest& req, std::size_t page) {
  storage::ArchiveQuery q;
  if (req.with) {
    q.with = req.with->bare_string();
    q.with_resource = req.with->resource();
  }
  auto raise = [&q](std::int64_t after) { q.after = std::max(q.after, after); };
  auto lower = [&q](std::int64_t before) { q.before = std::min(q.before, before); };
  if (req.start) raise(first_id_at(*req.start) - 1);
  if (req.end) lower(first_id_at(*req.end + std::chrono::microseconds(1)));
  if (req.after_id) raise(*req.after_id);
  if (req.before_id) lower(*req.before_id);
  if (req.rsm_after) raise(*req.rsm_after);
  if (req.rsm_before) lower(*req.rsm_before);
  q.ids = req.ids;
  q.limit = page;
  q.from_end = req.from_end;
  return q;
}

xml::Element query_form() {
  xml::Element query("query", std::string(kNs));
  auto& form = query.add_child("x", std::string(kDataFormsNs));
  form.set_attr("type", "form");
  auto add_field = [&form](const char* var, const char* type) -> xml::Element& {
    auto& f = form.add_child("field");
    f.set_attr("type", type);
    f.set_attr("var", var);
    return f;
  };
  add_field("FORM_TYPE", "hidden").add_child("value").add_text(kNs);
  add_field("with", "jid-single");
  add_field("start", "text-single");
  add_field("end", "text-single");
  add_field("before-id", "text-single");
  add_field("after-id", "text-single");
  // XEP-0122: the list is open (the server never lists every id).
  auto& validate = add_field("ids", "list-multi").add_child("validate", "http://jabber.org/protocol/xdata-validate");
  validate.set_attr("datatype", "xs:string");
  validate.add_child("open");
  return query;
}

}  // namespace tern::modules::mam
