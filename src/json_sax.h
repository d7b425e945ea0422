// A fast in-place JSON reader for the entries pages: it sends a SAX handler
// the events RapidJSON's Reader sends with the package's parse flags
// (json.h), so the handler cannot tell the two apart, but reads strings its
// own way. The survey's pages send most of their text as `\uXXXX` escapes
// (a third of their bytes); RapidJSON decodes those a character at a time
// and restarts its SIMD scan after each one, which made its string reading
// the largest cost of flattening a page (bench/README.md §5). Here a string
// without escapes is scanned 16 bytes at a time and never copied, and a run
// of escapes is decoded in a tight loop.
//
// It accepts only what RapidJSON accepts and returns false on anything it
// does not read itself (a parse error, `NaN`, a number RapidJSON would not
// convert exactly by its fast path ...), so that the caller reads the page
// again with RapidJSON: it is an accelerator, never a second opinion.
// Numbers outside the fast path are handed to RapidJSON's Reader itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "json.h"
#include "values.h"

namespace ec5 {

namespace json_sax {

// The value of each byte as a hex digit, or -1.
struct HexDigits {
  int8_t value[256];
  constexpr HexDigits() : value() {
    for (int c = 0; c < 256; ++c) {
      value[c] = c >= '0' && c <= '9'   ? static_cast<int8_t>(c - '0')
                 : c >= 'a' && c <= 'f' ? static_cast<int8_t>(c - 'a' + 10)
                 : c >= 'A' && c <= 'F' ? static_cast<int8_t>(c - 'A' + 10)
                                        : static_cast<int8_t>(-1);
    }
  }
};
inline constexpr HexDigits kHex{};

// 10^0 .. 10^22, each exact in a double (RapidJSON's fast path uses the same).
inline constexpr double kPow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                      1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

// What may follow a value.
inline bool ends_value(char c) { return is_blank(c) || c == ',' || c == '}' || c == ']' || c == '\0'; }

// Whether a byte ends a run of plain string bytes: the closing quote, a
// backslash or a control character (NUL among them).
inline bool ends_plain(char c) { return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20; }

#if defined(__SSE2__)
// A bit per byte of the 16 at `p` that ends_plain().
inline int plain_ends16(const char* p) {
  const __m128i s = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i control = _mm_set1_epi8(0x1F);
  const __m128i hit = _mm_or_si128(
      _mm_or_si128(_mm_cmpeq_epi8(s, _mm_set1_epi8('"')), _mm_cmpeq_epi8(s, _mm_set1_epi8('\\'))),
      _mm_cmpeq_epi8(_mm_max_epu8(s, control), control));
  return _mm_movemask_epi8(hit);
}
#endif

// The first byte at or after `p` that ends_plain(). The buffer ends with a
// NUL and 16 bytes of padding (insitu_buffer()), so a 16-byte load that
// starts before the NUL stays inside it.
inline char* scan_plain(char* p) {
#if defined(__SSE2__)
  for (;; p += 16) {
    const int mask = plain_ends16(p);
    if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
  }
#else
  while (!ends_plain(*p)) ++p;
  return p;
#endif
}

// As scan_plain(), moving the bytes it passes down to `*dst` (dst <= p).
// A whole block is stored at once: it overwrites only bytes already read.
inline char* scan_copy(char* p, char** dst) {
  char* q = *dst;
#if defined(__SSE2__)
  for (;; p += 16, q += 16) {
    const int mask = plain_ends16(p);
    if (mask != 0) {
      const int n = __builtin_ctz(static_cast<unsigned>(mask));
      std::memmove(q, p, static_cast<size_t>(n));
      *dst = q + n;
      return p + n;
    }
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q), _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
#else
  for (; !ends_plain(*p); ++p, ++q) *q = *p;
  *dst = q;
  return p;
#endif
}

// Four hex digits at `p` as a code unit, or -1.
inline int hex4(const char* p) {
  const int8_t* hex = kHex.value;
  const int a = hex[static_cast<unsigned char>(p[0])], b = hex[static_cast<unsigned char>(p[1])],
            c = hex[static_cast<unsigned char>(p[2])], d = hex[static_cast<unsigned char>(p[3])];
  if ((a | b | c | d) < 0) return -1;
  return (a << 12) | (b << 8) | (c << 4) | d;
}


// One escape at `p` (after its backslash) decoded to `*dst`; the position
// after it, or nullptr where RapidJSON reports an error.
inline char* unescape(char* p, char** dst) {
  char* q = *dst;
  switch (*p) {
    case '"': case '\\': case '/': *q++ = *p; break;
    case 'b': *q++ = '\b'; break;
    case 'f': *q++ = '\f'; break;
    case 'n': *q++ = '\n'; break;
    case 'r': *q++ = '\r'; break;
    case 't': *q++ = '\t'; break;
    case 'u': {
      int cp = hex4(p + 1);
      if (cp < 0) return nullptr;
      p += 4;
      if (cp >= 0xD800 && cp <= 0xDFFF) {
        // A high surrogate must be followed by a low one.
        if (cp > 0xDBFF || p[1] != '\\' || p[2] != 'u') return nullptr;
        const int low = hex4(p + 3);
        if (low < 0xDC00 || low > 0xDFFF) return nullptr;
        cp = (((cp - 0xD800) << 10) | (low - 0xDC00)) + 0x10000;
        p += 6;
      }
      q = put_utf8(q, static_cast<unsigned>(cp));
      break;
    }
    default:
      return nullptr;
  }
  *dst = q;
  return p + 1;
}

// A string at `p` (after its opening quote), decoded in place and ended with
// a NUL as RapidJSON does; `*end` is the position after the closing quote.
// Returns its length, or -1 for a malformed string.
inline int64_t read_string(char* p, char** end) {
  char* const start = p;
  p = scan_plain(p);
  if (*p == '"') {
    *p = '\0';
    *end = p + 1;
    return p - start;
  }
  char* q = p;
  for (;;) {
    if (*p == '\\') {
      // Escapes come in runs (a word of a non-Latin script): `\uXXXX` of
      // the Basic Multilingual Plane is decoded here, anything else by
      // unescape().
      const int cp = p[1] == 'u' ? hex4(p + 2) : -1;
      if (cp >= 0 && (cp < 0xD800 || cp > 0xDFFF)) {
        q = put_utf8(q, static_cast<unsigned>(cp));
        p += 6;
      } else {
        p = unescape(p + 1, &q);
        if (!p) return -1;
      }
      if (*p == '\\') continue;
    } else if (*p == '"') {
      *q = '\0';
      *end = p + 1;
      return q - start;
    } else {
      return -1;  // a control character or the end of the buffer
    }
    p = scan_copy(p, &q);
  }
}

// A number that the fast path does not take, read by RapidJSON's Reader
// (its own rules and conversions) and sent on as the same event; false when
// RapidJSON would not read it as one number.
class SlowNumber : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, SlowNumber> {
 public:
  bool Default() { return false; }  // anything but a number
  bool Int(int i) { return keep(kInt, i, 0, 0); }
  bool Uint(unsigned u) { return keep(kUint, 0, u, 0); }
  bool Int64(int64_t i) { return keep(kInt64, i, 0, 0); }
  bool Uint64(uint64_t u) { return keep(kUint64, 0, u, 0); }
  bool Double(double d) { return keep(kDouble, 0, 0, d); }

  template <typename Handler>
  static bool read(const char* p, const char* end, Handler* handler) {
    const std::string text(p, end);
    SlowNumber number;
    rapidjson::Reader reader;
    rapidjson::StringStream stream(text.c_str());
    if (reader.Parse<kParseFlags>(stream, number).IsError()) return false;
    switch (number.kind_) {
      case kInt: return handler->Int(static_cast<int>(number.i_));
      case kUint: return handler->Uint(static_cast<unsigned>(number.u_));
      case kInt64: return handler->Int64(number.i_);
      case kUint64: return handler->Uint64(number.u_);
      case kDouble: return handler->Double(number.d_);
      default: return false;
    }
  }

 private:
  enum Kind { kNone, kInt, kUint, kInt64, kUint64, kDouble };
  bool keep(Kind kind, int64_t i, uint64_t u, double d) {
    kind_ = kind;
    i_ = i;
    u_ = u;
    d_ = d;
    return true;
  }
  Kind kind_ = kNone;
  int64_t i_ = 0;
  uint64_t u_ = 0;
  double d_ = 0;
};

template <typename Handler>
class Reader {
 public:
  explicit Reader(Handler* handler) : h_(handler) {}

  // Reads the NUL-terminated text at `p`, written in place. False when the
  // text is not read here (malformed, or a value left to RapidJSON) or the
  // handler refused an event.
  bool parse(char* p) {
    stack_.clear();
    p = skip(p);
  value:
    switch (*p) {
      case '{':
      case '[': {
        const bool object = *p == '{';
        if (!(object ? h_->StartObject() : h_->StartArray())) return false;
        p = skip(p + 1);
        if (*p == (object ? '}' : ']')) {
          if (!(object ? h_->EndObject(0) : h_->EndArray(0))) return false;
          ++p;
          goto after_value;
        }
        stack_.push_back(Frame{object, 0});
        if (object) goto key;
        goto value;
      }
      case '"': {
        char* end;
        const int64_t n = read_string(p + 1, &end);
        if (n < 0 || !h_->String(p + 1, static_cast<rapidjson::SizeType>(n), false)) return false;
        p = end;
        goto after_value;
      }
      case 't':
        if (std::memcmp(p, "true", 4) != 0 || !h_->Bool(true)) return false;
        p += 4;
        goto after_value;
      case 'f':
        if (std::memcmp(p, "false", 5) != 0 || !h_->Bool(false)) return false;
        p += 5;
        goto after_value;
      case 'n':
        if (std::memcmp(p, "null", 4) != 0 || !h_->Null()) return false;
        p += 4;
        goto after_value;
      default:
        p = number(p);
        if (!p) return false;
        goto after_value;
    }
  key:
    if (*p != '"') return false;
    {
      char* end;
      const int64_t n = read_string(p + 1, &end);
      if (n < 0 || !h_->Key(p + 1, static_cast<rapidjson::SizeType>(n), false)) return false;
      p = skip(end);
    }
    if (*p != ':') return false;
    p = skip(p + 1);
    goto value;
  after_value:
    if (stack_.empty()) return *skip(p) == '\0';
    p = skip(p);
    {
      Frame& top = stack_.back();
      ++top.count;
      if (*p == ',') {
        p = skip(p + 1);
        if (top.object) goto key;
        goto value;
      }
      if (*p != (top.object ? '}' : ']')) return false;
      const rapidjson::SizeType count = top.count;
      const bool object = top.object;
      stack_.pop_back();
      if (!(object ? h_->EndObject(count) : h_->EndArray(count))) return false;
      ++p;
    }
    goto after_value;
  }

 private:
  struct Frame {
    bool object;
    rapidjson::SizeType count;
  };

  static char* skip(char* p) {
    while (is_blank(*p)) ++p;
    return p;
  }

  // A number at `p`: the position after it, nullptr on failure. Integers and
  // decimals of at most 19 digits whose value RapidJSON's fast path makes
  // exactly (significand below 2^53, power of ten within 10^±22) are read
  // here, with the same events; anything else goes to slow_number().
  char* number(char* p) {
    char* q = p;
    const bool minus = *q == '-';
    if (minus) ++q;
    if (!is_digit(*q) || (*q == '0' && is_digit(q[1]))) return slow(p);
    uint64_t m = 0;
    int digits = 0, exp10 = 0;
    for (; is_digit(*q); ++q, ++digits) m = m * 10 + static_cast<unsigned>(*q - '0');
    bool decimal = false;
    if (*q == '.') {
      decimal = true;
      ++q;
      if (!is_digit(*q)) return slow(p);
      for (; is_digit(*q); ++q, ++digits, --exp10) m = m * 10 + static_cast<unsigned>(*q - '0');
    }
    if (*q == 'e' || *q == 'E') {
      decimal = true;
      ++q;
      const bool negative = *q == '-';
      if (*q == '-' || *q == '+') ++q;
      int e = 0, e_digits = 0;
      for (; is_digit(*q); ++q, ++e_digits) {
        if (e_digits < 4) e = e * 10 + (*q - '0');
      }
      if (e_digits == 0 || e_digits > 4) return slow(p);
      exp10 += negative ? -e : e;
    }
    // Anything else after a number is RapidJSON's to judge.
    if (digits > 19 || !ends_value(*q)) return slow(p);
    bool ok;
    if (decimal) {
      if (m > 9007199254740991ULL || exp10 < -22 || exp10 > 22) return slow(p);
      double d = static_cast<double>(m);
      d = exp10 < 0 ? d / kPow10[-exp10] : d * kPow10[exp10];
      ok = h_->Double(minus ? -d : d);
    } else if (minus) {
      if (m <= 2147483648ULL) {
        ok = h_->Int(static_cast<int32_t>(~static_cast<unsigned>(m) + 1));
      } else if (m <= 9223372036854775808ULL) {
        ok = h_->Int64(static_cast<int64_t>(~m + 1));
      } else {
        return slow(p);
      }
    } else {
      ok = m <= 4294967295ULL ? h_->Uint(static_cast<unsigned>(m)) : h_->Uint64(m);
    }
    return ok ? q : nullptr;
  }

  // The text up to the next delimiter: RapidJSON reads it as one number,
  // or the page is malformed there.
  char* slow(char* p) {
    char* end = p;
    while (!ends_value(*end)) ++end;
    return SlowNumber::read(p, end, h_) ? end : nullptr;
  }

  Handler* h_;
  std::vector<Frame> stack_;
};

}  // namespace json_sax

}  // namespace ec5
