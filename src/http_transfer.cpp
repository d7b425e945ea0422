#include "http_transfer.h"

#include <curl/curl.h>

#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "errors.h"
#include "http_redact.h"
#include "http_wait.h"
#include "interrupt.h"
#include "values.h"

namespace ec5 {

namespace {

// --- libcurl resources -------------------------------------------------------

void ensure_global_init() {
  // libcurl wants this once before any handle; R runs us on one thread.
  static bool done = false;
  if (done) return;
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    throw Error("transport", "libcurl could not be initialised.");
  }
  done = true;
}

struct EasyDeleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct MultiDeleter {
  void operator()(CURLM* h) const { curl_multi_cleanup(h); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using EasyPtr = std::unique_ptr<CURL, EasyDeleter>;
using MultiPtr = std::unique_ptr<CURLM, MultiDeleter>;
using SlistPtr = std::unique_ptr<curl_slist, SlistDeleter>;

// One easy + multi handle pair is kept between requests so that connections
// (and TLS sessions) are reused. A request leases the pair; a nested request
// (from an R callback) finds the slot empty and uses a pair of its own. A pair
// that saw an interrupt or a failure is discarded, not returned.
struct Handles {
  EasyPtr easy;
  MultiPtr multi;
};

Handles& handle_cache() {
  static Handles cached;
  return cached;
}

class Lease {
 public:
  Lease() {
    Handles& cached = handle_cache();
    if (cached.easy && cached.multi) {
      handles_ = std::move(cached);
    } else {
      handles_.easy.reset(curl_easy_init());
      handles_.multi.reset(curl_multi_init());
    }
    if (!handles_.easy || !handles_.multi) {
      throw Error("transport", "libcurl could not create a handle.");
    }
  }
  ~Lease() {
    Handles& cached = handle_cache();
    if (reusable_ && !cached.easy) cached = std::move(handles_);
  }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;

  CURL* easy() const { return handles_.easy.get(); }
  CURLM* multi() const { return handles_.multi.get(); }
  void set_reusable(bool reusable) { reusable_ = reusable; }

 private:
  Handles handles_;
  bool reusable_ = false;
};

// Removes the easy handle from the multi handle on every exit path: libcurl
// must not own a transfer when an exception leaves the loop.
class MultiMembership {
 public:
  MultiMembership(CURLM* multi, CURL* easy) : multi_(multi), easy_(easy) {
    if (curl_multi_add_handle(multi_, easy_) != CURLM_OK) {
      throw Error("transport", "libcurl could not start the transfer.");
    }
  }
  ~MultiMembership() { curl_multi_remove_handle(multi_, easy_); }
  MultiMembership(const MultiMembership&) = delete;
  MultiMembership& operator=(const MultiMembership&) = delete;

 private:
  CURLM* multi_;
  CURL* easy_;
};

// --- the destination file ----------------------------------------------------

// The file a body streams into. It is created at the first byte of a 2xx body
// and removed again unless the transfer is committed.
class DestFile {
 public:
  explicit DestFile(std::string path) : path_(std::move(path)) {}
  ~DestFile() {
    if (file_) std::fclose(file_);
    if (created_ && !kept_) std::remove(path_.c_str());
  }
  DestFile(const DestFile&) = delete;
  DestFile& operator=(const DestFile&) = delete;

  bool write(const char* data, size_t len) {
    if (!file_ && !open()) return false;
    return std::fwrite(data, 1, len, file_) == len;
  }

  // Keeps the file (an empty body still creates it). False on a write error.
  bool commit() {
    if (!file_ && !open()) return false;
    const bool ok = std::fclose(file_) == 0;
    file_ = nullptr;
    kept_ = ok;
    return ok;
  }

  const std::string& path() const { return path_; }

 private:
  bool open() {
    file_ = std::fopen(path_.c_str(), "wb");
    created_ = file_ != nullptr;
    return created_;
  }

  std::string path_;
  std::FILE* file_ = nullptr;
  bool created_ = false;
  bool kept_ = false;
};

// --- one attempt -------------------------------------------------------------

struct Transfer {
  Transfer(CURL* handle, const std::string& dest_path)
      : easy(handle), dest(dest_path.empty() ? nullptr : new DestFile(dest_path)) {}

  CURL* easy;
  std::unique_ptr<DestFile> dest;
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<char> body;
  std::string io_error;
  char error_buffer[CURL_ERROR_SIZE] = {0};
};

long response_status(CURL* easy) {
  long status = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  return status;
}

// libcurl callbacks must never throw: failures are noted and reported by
// returning a short count, which aborts the transfer.
size_t on_body(char* data, size_t size, size_t n, void* userp) {
  auto* t = static_cast<Transfer*>(userp);
  const size_t len = size * n;
  try {
    const long status = response_status(t->easy);
    if (t->dest && status >= 200 && status < 300) {
      if (!t->dest->write(data, len)) {
        t->io_error = "Cannot write to '" + t->dest->path() + "'.";
        return 0;
      }
    } else {
      t->body.insert(t->body.end(), data, data + len);
    }
    return len;
  } catch (...) {
    t->io_error = "Out of memory while receiving the response.";
    return 0;
  }
}

size_t on_header(char* data, size_t size, size_t n, void* userp) {
  auto* t = static_cast<Transfer*>(userp);
  const size_t len = size * n;
  try {
    const std::string line(data, len);
    if (line.compare(0, 5, "HTTP/") == 0) {
      t->headers.clear();  // a new response (after a redirect or 100)
      return len;
    }
    // A line an R string cannot hold (a NUL, bytes that are not UTF-8) is
    // dropped: the headers we read (R/http.R, R/media.R) are ASCII.
    const size_t colon = line.find(':');
    if (colon != std::string::npos && valid_text(line.data(), line.size())) {
      t->headers.emplace_back(lower(trim(line.substr(0, colon))), trim(line.substr(colon + 1)));
    }
    return len;
  } catch (...) {
    t->io_error = "Out of memory while receiving the response.";
    return 0;
  }
}

// libcurl's default read callback reads stdin, which can freeze R.
size_t on_read(char*, size_t, size_t, void*) { return 0; }

// Prints the conversation when verbose, with credentials blanked.
int on_debug(CURL*, curl_infotype type, char* data, size_t size, void*) {
  const char* prefix = type == CURLINFO_HEADER_OUT  ? "> "
                       : type == CURLINFO_HEADER_IN ? "< "
                       : type == CURLINFO_TEXT      ? "* "
                                                    : nullptr;
  if (!prefix) return 0;
  try {
    const std::string text(data, size);
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      std::string line = trim(text.substr(start, end - start));
      if (lower(line).compare(0, 14, "authorization:") == 0) {
        line = "Authorization: <redacted>";
      }
      if (!line.empty()) REprintf("%s%s\n", prefix, line.c_str());
      start = end + 1;
    }
  } catch (...) {
  }
  return 0;
}

void set(CURL* easy, CURLoption option, long value) {
  if (curl_easy_setopt(easy, option, value) != CURLE_OK) {
    throw Error("transport", "libcurl rejected an option.");
  }
}
template <typename T>
void set(CURL* easy, CURLoption option, T* value) {
  if (curl_easy_setopt(easy, option, value) != CURLE_OK) {
    throw Error("transport", "libcurl rejected an option.");
  }
}

// Seconds or milliseconds for libcurl. Inf (no limit, as an option may say)
// and other values beyond `max` become `max`: converting them to an integer
// would be undefined behaviour.
long clamp_long(double x, long max) {
  if (!(x > 0)) return 0;
  return x < static_cast<double>(max) ? static_cast<long>(x) : max;
}

// libcurl multiplies seconds by 1000 in a long.
const long kMaxSeconds = LONG_MAX / 1000;

SlistPtr header_list(const HttpRequest& req) {
  curl_slist* list = curl_slist_append(nullptr, "Expect:");
  SlistPtr out(list);
  for (const std::string& h : req.headers) {
    curl_slist* next = curl_slist_append(out.get(), h.c_str());
    if (!next) throw std::bad_alloc();
    out.release();
    out.reset(next);
  }
  return out;
}

void configure(CURL* easy, const HttpRequest& req, Transfer& t, curl_slist* headers) {
  curl_easy_reset(easy);
  const HttpOptions& opt = req.options;
  set(easy, CURLOPT_URL, req.url.c_str());
  set(easy, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
  set(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  set(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
  set(easy, CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
  set(easy, CURLOPT_REDIR_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  // Certificates are always checked; only the bundle can be chosen.
  set(easy, CURLOPT_SSL_VERIFYPEER, 1L);
  set(easy, CURLOPT_SSL_VERIFYHOST, 2L);
  const char* bundle = std::getenv("CURL_CA_BUNDLE");
  if (bundle && *bundle) set(easy, CURLOPT_CAINFO, bundle);
#ifdef _WIN32
  // Corporate proxies often break revocation checks on Windows.
  set(easy, CURLOPT_SSL_OPTIONS, static_cast<long>(CURLSSLOPT_NO_REVOKE));
#endif
  set(easy, CURLOPT_ACCEPT_ENCODING, "");
  // Redirects are followed; libcurl sends our Authorization header only to
  // the original host (CURLOPT_UNRESTRICTED_AUTH stays off).
  set(easy, CURLOPT_FOLLOWLOCATION, 1L);
  set(easy, CURLOPT_MAXREDIRS, 5L);
  set(easy, CURLOPT_CONNECTTIMEOUT_MS, clamp_long(opt.connect_timeout * 1000, LONG_MAX));
  set(easy, CURLOPT_LOW_SPEED_TIME, clamp_long(std::ceil(opt.low_speed_time), kMaxSeconds));
  set(easy, CURLOPT_LOW_SPEED_LIMIT, clamp_long(opt.low_speed_limit, LONG_MAX));
  set(easy, CURLOPT_TIMEOUT_MS, clamp_long(opt.timeout * 1000, LONG_MAX));
  if (!opt.user_agent.empty()) set(easy, CURLOPT_USERAGENT, opt.user_agent.c_str());
  set(easy, CURLOPT_HTTPHEADER, headers);
  set(easy, CURLOPT_READFUNCTION, on_read);
  set(easy, CURLOPT_WRITEFUNCTION, on_body);
  set(easy, CURLOPT_WRITEDATA, &t);
  set(easy, CURLOPT_HEADERFUNCTION, on_header);
  set(easy, CURLOPT_HEADERDATA, &t);
  set(easy, CURLOPT_ERRORBUFFER, t.error_buffer);
  if (opt.verbose) {
    set(easy, CURLOPT_DEBUGFUNCTION, on_debug);
    set(easy, CURLOPT_VERBOSE, 1L);
  }
  if (req.method == "POST") {
    set(easy, CURLOPT_POST, 1L);
    set(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    static const char empty[] = "";
    set(easy, CURLOPT_POSTFIELDS, req.body.empty() ? empty : req.body.data());
  } else {
    set(easy, CURLOPT_HTTPGET, 1L);
  }
}

// Runs the transfer in the multi handle so that interrupts are seen at least
// every 100 ms. Returns libcurl's result code.
CURLcode run(const Lease& lease, const HttpRequest& req, Transfer& t) {
  SlistPtr headers = header_list(req);
  configure(lease.easy(), req, t, headers.get());
  MultiMembership membership(lease.multi(), lease.easy());
  int running = 1;
  double last_check = monotonic_seconds();
  for (;;) {
    const CURLMcode mc = curl_multi_perform(lease.multi(), &running);
    if (mc != CURLM_OK) throw Error("transport", curl_multi_strerror(mc));
    if (!running) break;
    const double now = monotonic_seconds();
    if (now - last_check >= 0.1) {
      check_interrupt();
      last_check = now;
    }
    int ready = 0;
    if (curl_multi_wait(lease.multi(), nullptr, 0, 100, &ready) != CURLM_OK) {
      throw Error("transport", "libcurl failed while waiting for the network.");
    }
  }
  int queued = 0;
  while (CURLMsg* msg = curl_multi_info_read(lease.multi(), &queued)) {
    if (msg->msg == CURLMSG_DONE) return msg->data.result;
  }
  return CURLE_FAILED_INIT;
}

// --- outcome -----------------------------------------------------------------

// Errors libcurl reports for a network or server hiccup, worth another try.
bool transient(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

// The key of what to do about a failure; the texts are in R/conditions.R.
const char* failure_hint(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return "address";
    case CURLE_OPERATION_TIMEDOUT:
      return "timeout";
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CONNECT_ERROR:
      return "certificate";
    case CURLE_TOO_MANY_REDIRECTS:
      return "redirects";
    default:
      return "network";
  }
}

TransferFailure failure_of(CURLcode code, const Transfer& t) {
  TransferFailure f;
  f.kind = code == CURLE_OPERATION_TIMEDOUT ? "timeout" : "transport";
  f.detail = t.error_buffer[0] ? t.error_buffer : curl_easy_strerror(code);
  f.hint = failure_hint(code);
  f.transient = transient(code);
  return f;
}

// The wait the limiter asks for. One longer than retry_after_cap (a spent
// token budget, say) fails at once rather than blocking R for an hour.
double pacing_delay(const HttpRequest& req) {
  const double delay = limiter_delay(req.limiter);
  if (delay > req.options.retry_after_cap) {
    // Printed as a double: a Retry-After of 1e400 makes the delay infinite.
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.6g", std::ceil(delay));
    throw Error("rate_limited",
                "The server's rate limit for " + req.limiter.cls + " requests is used up for " +
                    seconds + " more seconds.",
                {{"hint", "rate_limit_spent"}});
  }
  return delay;
}

void record_hit(const HttpRequest& req, CURL* easy, const Transfer& t, long status) {
  if (!req.has_limiter) return;
  long sent = 0;
  curl_easy_getinfo(easy, CURLINFO_REQUEST_SIZE, &sent);
  if (status == 0 && sent == 0) return;  // never reached the server
  limiter_record(req.limiter, header_number(t.headers, "x-ratelimit-remaining"),
                 header_number(t.headers, "x-ratelimit-limit"),
                 status == 429 ? retry_after(t.headers, status) : NAN);
}

}  // namespace

HttpResponse http_transfer(const HttpRequest& req) {
  ensure_global_init();
  HttpResponse resp;
  if (req.has_limiter) {
    resp.waited = wait_reported(pacing_delay(req),
                                "the server's rate limit for " + req.limiter.cls + " requests",
                                req.options.on_wait);
  }
  Lease lease;
  Transfer t(lease.easy(), req.dest);
  const CURLcode code = run(lease, req, t);
  const long status = code == CURLE_OK ? response_status(lease.easy()) : 0;
  record_hit(req, lease.easy(), t, status);
  if (!t.io_error.empty()) throw Error("io", t.io_error);
  resp.url = req.url;
  if (code != CURLE_OK) {
    resp.failed = true;
    resp.failure = failure_of(code, t);
    return resp;
  }
  lease.set_reusable(true);
  resp.status = status;
  if (t.dest && status >= 200 && status < 300) {
    if (!t.dest->commit()) throw Error("io", "Cannot write to '" + req.dest + "'.");
    resp.body_in_file = true;
  }
  resp.retry_after = retry_after(t.headers, status);
  resp.headers = std::move(t.headers);
  resp.body = std::move(t.body);
  char* effective = nullptr;
  curl_easy_getinfo(lease.easy(), CURLINFO_EFFECTIVE_URL, &effective);
  if (effective) resp.url = effective;
  return resp;
}

}  // namespace ec5
