#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "column.h"
#include "lazy_text.h"
#include "values.h"

namespace ec5 {

namespace {

// Text as sent. With a datetime_format (time, partial dates) the value must
// match it; a value that does not is NA and a problem, so a column never mixes
// formats.
class TextColumn final : public Column {
 public:
  TextColumn(std::string name, Problems* problems, std::string format, std::string placeholder)
      : Column(std::move(name), problems),
        format_(std::move(format)),
        placeholder_(std::move(placeholder)) {}

  void append_json(const rapidjson::Value& v) override {
    // Strings first, with a direct call: most values are.
    if (v.IsString()) return append_text(v.GetString(), v.GetStringLength());
    append_json_as_text(v);
  }
  void append_text(const char* p, size_t n) override {
    if (n == 0 || (!placeholder_.empty() && placeholder_ == std::string_view(p, n))) {
      append_na();
    } else if (!valid_text(p, n)) {
      problem_text("UTF-8 text", p, n);
      append_na();
    } else if (!format_.empty() && !matches_format(format_, std::string_view(p, n))) {
      problem_text(expected(), p, n);
      append_na();
    } else {
      own().push(p, n);
    }
  }
  void append_na() override { own().push_na(); }
  void reserve(size_t n) override { own().reserve(n); }
  size_t size() const override { return values_->size(); }
  void truncate(size_t n) override { own().truncate(n); }
  bool text_at(size_t i, std::string_view* out) const override {
    if (values_->is_na(i)) return false;
    *out = values_->at(i);
    return true;
  }
  // A lazy vector (lazy_text.h): all rows share this column's values,
  // which Table::finish() drops right after; the rows of `keep` are copied.
  void finish(const std::vector<size_t>* keep, std::vector<std::string>* names,
              std::vector<Rcpp::RObject>* out) const override {
    std::shared_ptr<const StringStore> values =
        keep ? std::make_shared<const StringStore>(values_->select(*keep)) : values_;
    out->push_back(Rcpp::RObject(lazy_text(std::move(values))));
    names->push_back(name());
  }

 private:
  std::string expected() const override {
    return format_.empty() ? "text" : "format " + format_;
  }

  // The values, copied first if a finished vector shares them.
  StringStore& own() {
    if (values_.use_count() > 1) values_ = std::make_shared<StringStore>(*values_);
    return *values_;
  }

  std::string format_;
  std::string placeholder_;
  std::shared_ptr<StringStore> values_ = std::make_shared<StringStore>();
};

}  // namespace

std::unique_ptr<Column> text_column(std::string name, Problems* problems, std::string format,
                                    std::string placeholder) {
  return std::make_unique<TextColumn>(std::move(name), problems, std::move(format),
                                      std::move(placeholder));
}

}  // namespace ec5
