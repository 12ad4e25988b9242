#include "exporter/probe_config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include <algorithm>
#include <cerrno>
#include <memory>

#include <fmt/format.h>

#include "core/duration.h"
#include "core/file.h"
#include "core/unique_fd.h"

namespace synscope::exporter {
namespace {

// The loaded YAML document, freed with it.
struct document {
  yaml_document_t doc{};
  bool loaded = false;
  ~document() {
    if (loaded) yaml_document_delete(&doc);
  }
};

class reader {
 public:
  reader(yaml_document_t* doc, std::string shown) : doc_(doc), shown_(std::move(shown)) {}

  core::error fail(const yaml_node_t* at, std::string_view key, std::string_view why) const {
    return core::error{core::exit_code::usage,
                       fmt::format("{}:{}: {}: {}", shown_, at == nullptr ? 1 : at->start_mark.line + 1, key, why)};
  }
  // An error whose message already names the key: only the place is added.
  core::error located(const yaml_node_t* at, const std::string& message) const {
    return core::error{core::exit_code::usage, fmt::format("{}:{}: {}", shown_, at->start_mark.line + 1, message)};
  }
  yaml_node_t* node(int id) const { return yaml_document_get_node(doc_, id); }
  static std::string_view scalar(const yaml_node_t* n) {
    return {reinterpret_cast<const char*>(n->data.scalar.value), n->data.scalar.length};  // NOLINT: libyaml's bytes
  }

  // Calls f(key, value node) for each pair of a mapping; a key that is not a scalar is an error.
  template <class F>
  core::result<void> each_pair(const yaml_node_t* map, std::string_view where, F&& f) const {
    if (map->type != YAML_MAPPING_NODE) return fail(map, where, "expected a mapping of keys to values");
    for (auto* p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; ++p) {
      yaml_node_t* k = node(p->key);
      yaml_node_t* v = node(p->value);
      if (k == nullptr || v == nullptr || k->type != YAML_SCALAR_NODE) return fail(map, where, "a key that is not text");
      if (auto r = f(scalar(k), k, v); !r) return r;
    }
    return {};
  }

  core::result<std::string> text(const yaml_node_t* v, std::string_view key) const {
    if (v->type != YAML_SCALAR_NODE) return fail(v, key, "expected a single value");
    return std::string(scalar(v));
  }

  core::result<bool> boolean(const yaml_node_t* v, std::string_view key) const {
    auto t = text(v, key);
    if (!t) return t.error();
    if (*t == "true") return true;
    if (*t == "false") return false;
    return fail(v, key, fmt::format("'{}' is not true or false", core::printable(*t)));
  }

 private:
  yaml_document_t* doc_;
  std::string shown_;
};

// "10.0.0.0/8", "10.0.0.0/8:5432", "10.0.0.0/8:8000-8099", "::1/128", "[fd00::]/8:443".
core::result<allowed_target> parse_allowed(std::string_view text, std::string_view key) {
  std::string_view prefix = text;
  std::string_view ports;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    size_t colon = close == std::string_view::npos ? close : text.find(':', close);
    if (colon != std::string_view::npos) {
      prefix = text.substr(0, colon);
      ports = text.substr(colon + 1);
      if (ports.empty()) return core::error{core::exit_code::usage, fmt::format("{}: '{}': no port after ':'", key, core::printable(text))};
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    size_t colon = text.find(':');
    prefix = text.substr(0, colon);
    ports = text.substr(colon + 1);
  }
  allowed_target t;
  auto p = kernel::parse_prefix(prefix, key);
  if (!p) return p.error();
  t.prefix = *p;
  if (!ports.empty()) {
    size_t dash = ports.find('-');
    auto low = core::parse_port(ports.substr(0, dash), key, false);
    if (!low) return low.error();
    t.low = t.high = *low;
    if (dash != std::string_view::npos) {
      auto high = core::parse_port(ports.substr(dash + 1), key, false);
      if (!high) return high.error();
      if (*high < *low) {
        return core::error{core::exit_code::usage, fmt::format("{}: '{}': the port range runs backwards", key, core::printable(text))};
      }
      t.high = *high;
    }
  }
  return t;
}

core::result<void> parse_tcp(const reader& r, const yaml_node_t* tcp, const std::string& where, probe_module& m) {
  return r.each_pair(tcp, where, [&](std::string_view key, const yaml_node_t* k, const yaml_node_t* v) -> core::result<void> {
    std::string name = fmt::format("{}.{}", where, core::printable(key));
    if (key == "preferred_ip_protocol") {
      auto t = r.text(v, name);
      if (!t) return t.error();
      if (*t == "ip4" || *t == "ipv4") {
        m.preferred = core::address_family::ipv4;
      } else if (*t == "ip6" || *t == "ipv6") {
        m.preferred = core::address_family::ipv6;
      } else {
        return r.fail(v, name, fmt::format("'{}' is not ip4 or ip6", core::printable(*t)));
      }
      return {};
    }
    if (key == "ip_protocol_fallback" || key == "all_addresses" || key == "fast_open") {
      auto b = r.boolean(v, name);
      if (!b) return b.error();
      (key == "ip_protocol_fallback" ? m.fallback : key == "all_addresses" ? m.all_addresses : m.fastopen) = *b;
      return {};
    }
    if (key == "source_ip_address") {
      auto t = r.text(v, name);
      if (!t) return t.error();
      auto a = core::parse_local_address(*t, name);
      if (!a) return r.located(v, a.error().message);
      m.source = *a;
      m.source->set_port(0);
      return {};
    }
    if (key == "payload") {
      auto t = r.text(v, name);
      if (!t) return t.error();
      m.payload = *t;
      return {};
    }
    return r.fail(k, name,
                  "unknown key (known: preferred_ip_protocol, ip_protocol_fallback, source_ip_address, all_addresses, "
                  "fast_open, payload)");
  });
}

core::result<probe_module> parse_module(const reader& r, std::string_view name, const yaml_node_t* body) {
  probe_module m;
  m.name = std::string(name);
  std::string where = fmt::format("modules.{}", core::printable(name));
  auto ok = r.each_pair(body, where, [&](std::string_view key, const yaml_node_t* k, const yaml_node_t* v) -> core::result<void> {
    std::string field = fmt::format("{}.{}", where, core::printable(key));
    if (key == "prober") {
      auto t = r.text(v, field);
      if (!t) return t.error();
      if (*t != "tcp") return r.fail(v, field, fmt::format("'{}': synscope probes tcp only", core::printable(*t)));
      return {};
    }
    if (key == "timeout") {
      auto t = r.text(v, field);
      if (!t) return t.error();
      auto d = core::parse_duration(*t, field);
      if (!d) return r.located(v, d.error().message);
      if (*d <= 0) return r.fail(v, field, "must be more than 0");
      m.timeout_ns = *d;
      return {};
    }
    if (key == "tcp") {
      return parse_tcp(r, v, field, m);
    }
    return r.fail(k, field, "unknown key (known: prober, timeout, tcp)");
  });
  if (!ok) return ok.error();
  if (m.fastopen && m.payload.empty()) {
    return r.fail(body, where + ".tcp.fast_open", "needs a payload to carry on the SYN");
  }
  return m;
}

}  // namespace

const probe_module* probe_config::module(std::string_view name) const {
  for (const auto& m : modules) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

bool probe_config::allows(const core::ip_endpoint& e) const {
  return std::any_of(allowed.begin(), allowed.end(), [&](const allowed_target& a) {
    return e.port >= a.low && e.port <= a.high && a.prefix.matches(e);
  });
}

core::result<probe_config> parse_probe_config(std::string_view text, const std::string& shown) {
  yaml_parser_t parser;
  if (yaml_parser_initialize(&parser) == 0) return core::error{core::exit_code::environment, shown + ": cannot start the YAML parser"};
  std::unique_ptr<yaml_parser_t, void (*)(yaml_parser_t*)> guard(&parser, yaml_parser_delete);
  yaml_parser_set_input_string(&parser, reinterpret_cast<const unsigned char*>(text.data()), text.size());  // NOLINT
  document d;
  if (yaml_parser_load(&parser, &d.doc) == 0) {
    return core::error{core::exit_code::usage,
                       fmt::format("{}:{}: not YAML: {}", shown, parser.problem_mark.line + 1,
                                   parser.problem != nullptr ? parser.problem : "unreadable")};
  }
  d.loaded = true;
  reader r(&d.doc, shown);
  yaml_node_t* root = yaml_document_get_root_node(&d.doc);
  if (root == nullptr) return r.fail(nullptr, "allowed_targets", "missing (the file is empty)");
  probe_config config;
  bool has_allowed = false;
  auto ok = r.each_pair(root, "the file", [&](std::string_view key, const yaml_node_t* k, const yaml_node_t* v) -> core::result<void> {
    if (key == "allowed_targets") {
      has_allowed = true;
      if (v->type != YAML_SEQUENCE_NODE) return r.fail(v, key, "expected a list of address prefixes");
      for (auto* item = v->data.sequence.items.start; item < v->data.sequence.items.top; ++item) {
        const yaml_node_t* n = r.node(*item);
        auto t = r.text(n, key);
        if (!t) return t.error();
        auto a = parse_allowed(*t, key);
        if (!a) return r.located(n, a.error().message);
        config.allowed.push_back(*a);
      }
      return {};
    }
    if (key == "modules") {
      return r.each_pair(v, key, [&](std::string_view name, const yaml_node_t*, const yaml_node_t* body) -> core::result<void> {
        if (config.module(name) != nullptr) return r.fail(body, fmt::format("modules.{}", core::printable(name)), "defined twice");
        auto m = parse_module(r, name, body);
        if (!m) return m.error();
        config.modules.push_back(std::move(*m));
        return {};
      });
    }
    return r.fail(k, core::printable(key), "unknown key (known: allowed_targets, modules)");
  });
  if (!ok) return ok.error();
  if (!has_allowed || config.allowed.empty()) {
    return r.fail(root, "allowed_targets",
                  "missing or empty: list the prefixes /probe may reach (0.0.0.0/0 and ::/0 for any, knowingly)");
  }
  if (config.modules.empty()) return r.fail(root, "modules", "missing or empty: define at least one module");
  return config;
}

core::result<probe_config> load_probe_config(const std::string& path) {
  core::unique_fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return core::system_error(path, "open", errno);
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) return core::system_error(path, "fstat", errno);
  if (!S_ISREG(st.st_mode)) return core::error{core::exit_code::usage, path + ": not a regular file"};
  if (auto owned = core::check_owned_safely(st, path); !owned) return owned.error();
  if (st.st_size > 1 << 20) return core::error{core::exit_code::usage, path + ": over 1 MiB: not a probe configuration"};
  auto text = core::read_fd(fd.get(), path);  // the file checked, not one put in its place since
  if (!text) return text.error();
  return parse_probe_config(*text, path);
}

}  // namespace synscope::exporter
