#include "column.h"

#include <cstdint>
#include <cstring>

#include "values.h"

namespace ec5 {

void Column::problem_json(const std::string& expected, const rapidjson::Value& v) {
  problem(expected, describe_json(v));
}

void Column::problem_text(const std::string& expected, const char* p, size_t n) {
  problem(expected, describe_text(p, n));
}

bool Column::append_json_scalar(const rapidjson::Value& v) {
  if (v.IsNull()) {
    append_na();
  } else if (v.IsString()) {
    append_text(v.GetString(), v.GetStringLength());
  } else {
    return false;
  }
  return true;
}

void Column::append_json_as_text(const rapidjson::Value& v) {
  if (append_json_scalar(v)) return;
  if (v.IsNumber()) {
    std::string text = number_text(v);
    append_text(text.data(), text.size());
  } else {
    problem_json(expected(), v);
    append_na();
  }
}

SEXP CharsxpCache::lookup(const char* p, size_t n) {
  // Fewer than one hit in eight: not worth the hash.
  if (++tried_ == kTrial) off_ = hits_ < kTrial / 8;
  // The slot: a hash of the length and the first and last 8 bytes (a
  // collision costs only a miss).
  uint64_t head = 0, tail = 0;
  std::memcpy(&head, p, n < 8 ? n : 8);
  if (n > 8) std::memcpy(&tail, p + n - 8, 8);
  uint64_t h = (head * 0x9E3779B97F4A7C15ULL) ^ (tail * 0xC2B2AE3D27D4EB4FULL) ^ n;
  h ^= h >> 31;
  Slot& slot = slots_[(h * 0x9E3779B97F4A7C15ULL) >> (64 - kBits)];
  if (slot.charsxp && slot.n == n && std::memcmp(slot.p, p, n) == 0) {
    ++hits_;
    return slot.charsxp;
  }
  slot.charsxp = r_string({p, n});
  slot.p = CHAR(slot.charsxp);
  slot.n = n;
  return slot.charsxp;
}

void set_class(Rcpp::RObject& x, std::initializer_list<const char*> classes) {
  Rcpp::CharacterVector cls(classes.size());
  size_t i = 0;
  for (const char* c : classes) cls[i++] = c;
  x.attr("class") = cls;
}

}  // namespace ec5
