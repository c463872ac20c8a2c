#include "sw/onnx_reader.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "hw/array_config.h"

namespace axsa::sw::onnx {
namespace {

enum wire_type : unsigned { wt_varint = 0, wt_fixed64 = 1, wt_bytes = 2, wt_group_start = 3, wt_group_end = 4, wt_fixed32 = 5 };

// A bounded view of protobuf wire data. Every read checks the bytes left first; any violation is a
// config_error "SOURCE: corrupt ONNX (what, at byte N)".
class wire_reader {
 public:
  struct field {
    std::uint32_t number;
    unsigned type;
  };

  wire_reader(const std::uint8_t* begin, const std::uint8_t* end, const std::uint8_t* file_begin,
              const std::string& source, const char* message)
      : m_pos(begin), m_end(end), m_file_begin(file_begin), m_source(source), m_message(message) {}

  bool done() const { return m_pos == m_end; }

  [[noreturn]] void corrupt(const std::string& what) const {
    throw config_error(m_source + ": corrupt ONNX (" + what + " in " + m_message + ", at byte " +
                       std::to_string(m_pos - m_file_begin) + ")");
  }

  std::uint64_t varint() {
    std::uint64_t value = 0;
    for (unsigned shift = 0; shift < 70; shift += 7) {
      if (m_pos == m_end) corrupt("truncated varint");
      const std::uint8_t byte = *m_pos++;
      value |= std::uint64_t{byte & 0x7fu} << shift;
      if ((byte & 0x80u) == 0) return value;
    }
    corrupt("varint longer than 10 bytes");
  }

  std::uint32_t fixed32() {
    need(4, "truncated 32-bit value");
    std::uint32_t v = 0;
    for (unsigned b = 0; b < 4; ++b) v |= std::uint32_t{m_pos[b]} << (8 * b);
    m_pos += 4;
    return v;
  }

  std::uint64_t fixed64() {
    need(8, "truncated 64-bit value");
    std::uint64_t v = 0;
    for (unsigned b = 0; b < 8; ++b) v |= std::uint64_t{m_pos[b]} << (8 * b);
    m_pos += 8;
    return v;
  }

  field next_field() {
    const std::uint64_t tag = varint();
    const std::uint64_t number = tag >> 3;
    if (number == 0 || number > (std::uint64_t{1} << 29) - 1) corrupt("invalid field number " + std::to_string(number));
    return {static_cast<std::uint32_t>(number), static_cast<unsigned>(tag & 7u)};
  }

  // The payload of a length-delimited field, as its own reader; `message` names it in errors.
  wire_reader sub(const char* message) {
    const std::size_t length = checked_length();
    wire_reader inner(m_pos, m_pos + length, m_file_begin, m_source, message);
    m_pos += length;
    return inner;
  }

  std::string string() {
    const std::size_t length = checked_length();
    std::string s(reinterpret_cast<const char*>(m_pos), length);
    m_pos += length;
    return s;
  }

  void skip(unsigned type) {
    switch (type) {
      case wt_varint: varint(); return;
      case wt_fixed64: need(8, "truncated 64-bit value"); m_pos += 8; return;
      case wt_bytes: m_pos += checked_length(); return;
      case wt_fixed32: need(4, "truncated 32-bit value"); m_pos += 4; return;
      case wt_group_start:
      case wt_group_end: corrupt("protobuf group (wire type " + std::to_string(type) + "), which ONNX never uses");
      default: corrupt("invalid wire type " + std::to_string(type));
    }
  }

  void expect(const field& f, unsigned type, const char* field_name) const {
    if (f.type != type) {
      corrupt("field " + std::string(field_name) + " (" + std::to_string(f.number) + ") has wire type " +
              std::to_string(f.type) + ", expected " + std::to_string(type));
    }
  }

  std::int64_t int64_field(const field& f, const char* field_name) {
    expect(f, wt_varint, field_name);
    return static_cast<std::int64_t>(varint());
  }

  // Protobuf int32: a varint (negatives sign-extended to 10 bytes) truncated to 32 bits.
  std::int32_t int32_field(const field& f, const char* field_name) {
    expect(f, wt_varint, field_name);
    return static_cast<std::int32_t>(static_cast<std::uint32_t>(varint() & 0xffffffffu));
  }

  float float_field(const field& f, const char* field_name) {
    expect(f, wt_fixed32, field_name);
    return bits_to_float(fixed32());
  }

  // Repeated varint field, packed (one length-delimited run) or unpacked (one value per tag).
  template <typename T>
  void repeated_varint(const field& f, std::vector<T>& out, const char* field_name) {
    if (f.type == wt_varint) {
      out.push_back(narrow<T>(varint()));
      return;
    }
    expect(f, wt_bytes, field_name);
    wire_reader packed = sub(field_name);
    while (!packed.done()) out.push_back(narrow<T>(packed.varint()));
  }

  // Repeated float field, packed or unpacked.
  void repeated_float(const field& f, std::vector<float>& out, const char* field_name) {
    if (f.type == wt_fixed32) {
      out.push_back(bits_to_float(fixed32()));
      return;
    }
    expect(f, wt_bytes, field_name);
    wire_reader packed = sub(field_name);
    const std::size_t bytes = static_cast<std::size_t>(packed.m_end - packed.m_pos);
    if (bytes % 4 != 0) packed.corrupt("packed float run of " + std::to_string(bytes) + " bytes, not a multiple of 4");
    out.reserve(out.size() + bytes / 4);
    while (!packed.done()) out.push_back(bits_to_float(packed.fixed32()));
  }

  static float bits_to_float(std::uint32_t bits) {
    float v;
    std::memcpy(&v, &bits, sizeof v);
    return v;
  }

 private:
  template <typename T>
  static T narrow(std::uint64_t raw) {
    if constexpr (sizeof(T) == 4) {
      return static_cast<T>(static_cast<std::int32_t>(static_cast<std::uint32_t>(raw & 0xffffffffu)));
    } else {
      return static_cast<T>(raw);
    }
  }

  void need(std::size_t n, const char* what) const {
    if (static_cast<std::size_t>(m_end - m_pos) < n) corrupt(what);
  }

  std::size_t checked_length() {
    const std::uint64_t length = varint();
    if (length > static_cast<std::uint64_t>(m_end - m_pos)) {
      corrupt("length " + std::to_string(length) + " runs past the end (" + std::to_string(m_end - m_pos) +
              " bytes left)");
    }
    return static_cast<std::size_t>(length);
  }

  const std::uint8_t* m_pos;
  const std::uint8_t* m_end;
  const std::uint8_t* m_file_begin;
  const std::string& m_source;
  const char* m_message;
};

std::string data_type_name(int type) {
  static const char* const names[] = {"UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16",
                                      "INT32", "INT64", "STRING", "BOOL", "FLOAT16", "DOUBLE",
                                      "UINT32", "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16"};
  if (type >= 0 && type < static_cast<int>(sizeof names / sizeof names[0])) return names[type];
  return "unknown";
}

// Everything a TensorProto may carry; validated and turned into `tensor` by finish_tensor.
struct raw_tensor {
  tensor t;
  std::string raw_data;
  bool has_raw_data = false;
  std::vector<std::int32_t> int32_data;
  bool external = false;
  bool segmented = false;
};

raw_tensor parse_tensor(wire_reader r) {
  raw_tensor out;
  while (!r.done()) {
    const auto f = r.next_field();
    switch (f.number) {
      case 1: r.repeated_varint(f, out.t.dims, "TensorProto.dims"); break;
      case 2: out.t.data_type = r.int32_field(f, "TensorProto.data_type"); break;
      case 3: out.segmented = true; r.skip(f.type); break;
      case 4: r.repeated_float(f, out.t.floats, "TensorProto.float_data"); break;
      case 5: r.repeated_varint(f, out.int32_data, "TensorProto.int32_data"); break;
      case 7: r.repeated_varint(f, out.t.ints, "TensorProto.int64_data"); break;
      case 8: r.expect(f, wt_bytes, "TensorProto.name"); out.t.name = r.string(); break;
      case 9:
        r.expect(f, wt_bytes, "TensorProto.raw_data");
        out.raw_data = r.string();
        out.has_raw_data = true;
        break;
      case 13: out.external = true; r.skip(f.type); break;
      case 14: out.external = out.external || r.int32_field(f, "TensorProto.data_location") == 1; break;
      default: r.skip(f.type);
    }
  }
  return out;
}

tensor finish_tensor(raw_tensor raw, const std::string& source, const std::string& where) {
  tensor& t = raw.t;
  const std::string label = where + " tensor '" + t.name + "'";
  if (raw.external) throw config_error(source + ": " + label + " keeps its data in an external file, which axsa does not read");
  if (raw.segmented) throw config_error(source + ": " + label + " is segmented, which axsa does not read");
  std::size_t count = 1;
  for (const std::int64_t d : t.dims) {
    if (d < 0) throw config_error(source + ": corrupt ONNX (" + label + " has negative dimension " + std::to_string(d) + ")");
    if (d != 0 && count > (std::size_t{1} << 40) / static_cast<std::uint64_t>(d)) {
      throw config_error(source + ": corrupt ONNX (" + label + " has an impossibly large shape)");
    }
    count *= static_cast<std::size_t>(d);
  }
  auto check_count = [&](std::size_t have, const char* field) {
    if (have != count) {
      throw config_error(source + ": corrupt ONNX (" + label + " has " + std::to_string(have) + " values in " +
                         field + " but its dims hold " + std::to_string(count) + ")");
    }
  };
  auto check_raw_size = [&](std::size_t element_bytes) {
    if (raw.raw_data.size() != count * element_bytes) {
      throw config_error(source + ": corrupt ONNX (" + label + " has " + std::to_string(raw.raw_data.size()) +
                         " bytes of raw_data, expected " + std::to_string(count) + " x " +
                         std::to_string(element_bytes) + ")");
    }
  };
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(raw.raw_data.data());
  switch (t.data_type) {
    case float32:
      if (raw.has_raw_data) {
        check_raw_size(4);
        t.floats.resize(count);
        for (std::size_t i = 0; i < count; ++i) {
          std::uint32_t bits = 0;
          for (unsigned b = 0; b < 4; ++b) bits |= std::uint32_t{bytes[4 * i + b]} << (8 * b);
          t.floats[i] = wire_reader::bits_to_float(bits);
        }
      } else {
        check_count(t.floats.size(), "float_data");
      }
      t.ints.clear();
      break;
    case int64:
      if (raw.has_raw_data) {
        check_raw_size(8);
        t.ints.resize(count);
        for (std::size_t i = 0; i < count; ++i) {
          std::uint64_t bits = 0;
          for (unsigned b = 0; b < 8; ++b) bits |= std::uint64_t{bytes[8 * i + b]} << (8 * b);
          t.ints[i] = static_cast<std::int64_t>(bits);
        }
      } else {
        check_count(t.ints.size(), "int64_data");
      }
      t.floats.clear();
      break;
    case int32:
      if (raw.has_raw_data) {
        check_raw_size(4);
        t.ints.resize(count);
        for (std::size_t i = 0; i < count; ++i) {
          std::uint32_t bits = 0;
          for (unsigned b = 0; b < 4; ++b) bits |= std::uint32_t{bytes[4 * i + b]} << (8 * b);
          t.ints[i] = static_cast<std::int32_t>(bits);
        }
      } else {
        check_count(raw.int32_data.size(), "int32_data");
        t.ints.assign(raw.int32_data.begin(), raw.int32_data.end());
      }
      t.floats.clear();
      break;
    default:
      throw config_error(source + ": " + label + " has data type " + data_type_name(t.data_type) + " (" +
                         std::to_string(t.data_type) + "); axsa reads only FLOAT, INT32 and INT64 tensors");
  }
  return std::move(raw.t);
}

attribute parse_attribute(wire_reader r, const std::string& source) {
  attribute a;
  bool has_f = false, has_i = false, has_s = false, has_t = false, has_g = false, has_strings = false;
  raw_tensor t;
  while (!r.done()) {
    const auto f = r.next_field();
    switch (f.number) {
      case 1: r.expect(f, wt_bytes, "AttributeProto.name"); a.name = r.string(); break;
      case 2: a.f = r.float_field(f, "AttributeProto.f"); has_f = true; break;
      case 3: a.i = r.int64_field(f, "AttributeProto.i"); has_i = true; break;
      case 4: r.expect(f, wt_bytes, "AttributeProto.s"); a.s = r.string(); has_s = true; break;
      case 5: r.expect(f, wt_bytes, "AttributeProto.t"); t = parse_tensor(r.sub("AttributeProto.t")); has_t = true; break;
      case 6: has_g = true; r.skip(f.type); break;
      case 7: r.repeated_float(f, a.floats, "AttributeProto.floats"); break;
      case 8: r.repeated_varint(f, a.ints, "AttributeProto.ints"); break;
      case 9: has_strings = true; r.skip(f.type); break;
      case 20: a.type = r.int32_field(f, "AttributeProto.type"); break;
      default: r.skip(f.type);
    }
  }
  if (a.type == attr_undefined) {  // IR version 1 files may leave the discriminator out
    a.type = has_f ? attr_float : has_i ? attr_int : has_s ? attr_string : has_t ? attr_tensor
           : has_g ? attr_graph : !a.floats.empty() ? attr_floats : !a.ints.empty() ? attr_ints
           : has_strings ? attr_strings : attr_undefined;
  }
  if (has_t) a.t = finish_tensor(std::move(t), source, "attribute '" + a.name + "'");
  return a;
}

node parse_node(wire_reader r, const std::string& source) {
  node n;
  while (!r.done()) {
    const auto f = r.next_field();
    switch (f.number) {
      case 1: r.expect(f, wt_bytes, "NodeProto.input"); n.inputs.push_back(r.string()); break;
      case 2: r.expect(f, wt_bytes, "NodeProto.output"); n.outputs.push_back(r.string()); break;
      case 3: r.expect(f, wt_bytes, "NodeProto.name"); n.name = r.string(); break;
      case 4: r.expect(f, wt_bytes, "NodeProto.op_type"); n.op_type = r.string(); break;
      case 5: r.expect(f, wt_bytes, "NodeProto.attribute"); n.attributes.push_back(parse_attribute(r.sub("AttributeProto"), source)); break;
      case 7: r.expect(f, wt_bytes, "NodeProto.domain"); n.domain = r.string(); break;
      default: r.skip(f.type);
    }
  }
  return n;
}

void parse_shape(wire_reader r, std::vector<std::int64_t>& dims) {
  while (!r.done()) {
    const auto f = r.next_field();
    if (f.number != 1) {
      r.skip(f.type);
      continue;
    }
    r.expect(f, wt_bytes, "TensorShapeProto.dim");
    wire_reader dim = r.sub("TensorShapeProto.Dimension");
    std::int64_t value = -1;  // dim_param or nothing: unknown
    while (!dim.done()) {
      const auto g = dim.next_field();
      if (g.number == 1) {
        value = dim.int64_field(g, "Dimension.dim_value");
      } else if (g.number == 2) {
        dim.skip(g.type);
        value = -1;
      } else {
        dim.skip(g.type);
      }
    }
    dims.push_back(value < 0 ? -1 : value);
  }
}

value_info parse_value_info(wire_reader r) {
  value_info v;
  while (!r.done()) {
    const auto f = r.next_field();
    if (f.number == 1) {
      r.expect(f, wt_bytes, "ValueInfoProto.name");
      v.name = r.string();
    } else if (f.number == 2) {
      r.expect(f, wt_bytes, "ValueInfoProto.type");
      wire_reader type = r.sub("TypeProto");
      while (!type.done()) {
        const auto g = type.next_field();
        if (g.number != 1) {  // sequence, map, optional, sparse: not tensors, left empty
          type.skip(g.type);
          continue;
        }
        type.expect(g, wt_bytes, "TypeProto.tensor_type");
        wire_reader tensor_type = type.sub("TypeProto.Tensor");
        while (!tensor_type.done()) {
          const auto h = tensor_type.next_field();
          if (h.number == 1) {
            v.elem_type = tensor_type.int32_field(h, "TypeProto.Tensor.elem_type");
          } else if (h.number == 2) {
            tensor_type.expect(h, wt_bytes, "TypeProto.Tensor.shape");
            v.dims.clear();
            parse_shape(tensor_type.sub("TensorShapeProto"), v.dims);
          } else {
            tensor_type.skip(h.type);
          }
        }
      }
    } else {
      r.skip(f.type);
    }
  }
  return v;
}

void parse_graph(wire_reader r, model& m, const std::string& source) {
  while (!r.done()) {
    const auto f = r.next_field();
    switch (f.number) {
      case 1: r.expect(f, wt_bytes, "GraphProto.node"); m.nodes.push_back(parse_node(r.sub("NodeProto"), source)); break;
      case 2: r.expect(f, wt_bytes, "GraphProto.name"); m.graph_name = r.string(); break;
      case 5: {
        r.expect(f, wt_bytes, "GraphProto.initializer");
        tensor t = finish_tensor(parse_tensor(r.sub("TensorProto")), source, "initializer");
        const std::string name = t.name;
        if (!m.initializers.emplace(name, std::move(t)).second) {
          throw config_error(source + ": two initializers are named '" + name + "' (expected unique names)");
        }
        break;
      }
      case 11: r.expect(f, wt_bytes, "GraphProto.input"); m.inputs.push_back(parse_value_info(r.sub("ValueInfoProto"))); break;
      case 12: r.expect(f, wt_bytes, "GraphProto.output"); m.outputs.push_back(parse_value_info(r.sub("ValueInfoProto"))); break;
      case 13: r.expect(f, wt_bytes, "GraphProto.value_info"); m.value_infos.push_back(parse_value_info(r.sub("ValueInfoProto"))); break;
      default: r.skip(f.type);
    }
  }
}

}  // namespace

std::size_t tensor::element_count() const {
  std::size_t n = 1;
  for (const std::int64_t d : dims) n *= static_cast<std::size_t>(d);
  return n;
}

const attribute* node::find(const std::string& attribute_name) const {
  for (const attribute& a : attributes) {
    if (a.name == attribute_name) return &a;
  }
  return nullptr;
}

model parse_model(const std::uint8_t* data, std::size_t size, const std::string& source) {
  model m;
  bool has_graph = false;
  wire_reader r(data, data + size, data, source, "ModelProto");
  while (!r.done()) {
    const auto f = r.next_field();
    switch (f.number) {
      case 1: m.ir_version = r.int64_field(f, "ModelProto.ir_version"); break;
      case 7:
        r.expect(f, wt_bytes, "ModelProto.graph");
        parse_graph(r.sub("GraphProto"), m, source);  // repeated occurrences merge, as in protobuf
        has_graph = true;
        break;
      case 8: {
        r.expect(f, wt_bytes, "ModelProto.opset_import");
        wire_reader opset = r.sub("OperatorSetIdProto");
        std::string domain;
        std::int64_t version = 0;
        while (!opset.done()) {
          const auto g = opset.next_field();
          if (g.number == 1) {
            opset.expect(g, wt_bytes, "OperatorSetIdProto.domain");
            domain = opset.string();
          } else if (g.number == 2) {
            version = opset.int64_field(g, "OperatorSetIdProto.version");
          } else {
            opset.skip(g.type);
          }
        }
        if (domain.empty() || domain == "ai.onnx") m.opset = version;
        break;
      }
      default: r.skip(f.type);
    }
  }
  if (!has_graph) throw config_error(source + ": corrupt ONNX (no graph in the model; is this an ONNX file?)");
  // Exporters before IR version 4 list every initializer as a graph input too.
  std::vector<value_info> real_inputs;
  for (value_info& v : m.inputs) {
    if (m.initializers.count(v.name) == 0) real_inputs.push_back(std::move(v));
  }
  m.inputs = std::move(real_inputs);
  return m;
}

model read_model(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw config_error(path + ": cannot open ONNX model (" +
                       std::string(std::filesystem::exists(path, ec) ? "not a regular file" : "no such file") + ")");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw config_error(path + ": cannot open ONNX model (" + std::string(std::strerror(errno)) + ")");
  const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw config_error(path + ": read error");
  return parse_model(bytes.data(), bytes.size(), path);
}

}  // namespace axsa::sw::onnx
