#include "sw/onnx_reader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include "hw/array_config.h"

namespace axsa::sw::onnx {
namespace {

namespace fs = std::filesystem;

// ONNX's checker and shape inference write several lines ("...\n\n==> Context: ..."); a config
// error is one line, so the context goes in parentheses and runs of white space become one space.
std::string one_line(const std::string& text) {
  std::string out;
  bool space = false;
  for (const char c : text) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  const std::string marker = " ==> Context: ";
  if (const auto at = out.find(marker); at != std::string::npos) {
    out = out.substr(0, at) + " (" + out.substr(at + marker.size()) + ")";
  }
  return out;
}

std::string data_type_name(int type) {
  const std::string& name = ::onnx::TensorProto_DataType_Name(static_cast<::onnx::TensorProto_DataType>(type));
  return name.empty() ? "unknown" : name;
}

// Reads bytes [offset, offset + length) of an external-data file into the tensor's raw_data, as
// onnx.load_model does in Python. The location must stay inside the model's folder (ONNX's own
// rule): an absolute path, a '..' that climbs out, or a symbolic link that leads out is refused.
void load_external_data(::onnx::TensorProto& t, const std::string& source, const std::string& model_dir,
                        const std::string& label) {
  auto fail = [&](const std::string& what) { throw config_error(source + ": " + label + " keeps its data in an external file, but " + what); };
  if (model_dir.empty()) fail("the model was not read from a file");
  std::string location;
  std::uint64_t offset = 0, length = 0;
  bool has_length = false;
  for (const auto& entry : t.external_data()) {
    auto number = [&](const char* key) {
      const std::string& v = entry.value();
      if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos || v.size() > 18) {
        fail("its " + std::string(key) + " '" + v + "' is not a byte count");
      }
      return std::stoull(v);
    };
    if (entry.key() == "location") location = entry.value();
    else if (entry.key() == "offset") offset = number("offset");
    else if (entry.key() == "length") length = number("length"), has_length = true;
  }
  if (location.empty()) fail("names no location");
  const fs::path relative = fs::path(location).lexically_normal();
  if (relative.is_absolute() || relative.empty() || *relative.begin() == "..") {
    fail("its location '" + location + "' is outside the model's folder " + model_dir);
  }
  std::error_code ec;
  const fs::path dir = fs::weakly_canonical(fs::path(model_dir), ec);
  const fs::path file = fs::weakly_canonical(fs::path(model_dir) / relative, ec);
  const auto [dir_end, file_it] = std::mismatch(dir.begin(), dir.end(), file.begin(), file.end());
  if (ec || dir_end != dir.end()) fail("its location '" + location + "' leads outside the model's folder " + model_dir);
  if (!fs::is_regular_file(file, ec)) fail("its file " + file.string() + " does not exist or is not a regular file");
  const std::uint64_t size = fs::file_size(file, ec);
  if (!has_length) length = offset <= size ? size - offset : 0;
  if (ec || offset > size || length > size - offset) {
    fail("its file " + file.string() + " has " + std::to_string(size) + " bytes, too short for bytes " +
         std::to_string(offset) + ".." + std::to_string(offset + length) + " (offset + length)");
  }
  std::ifstream in(file, std::ios::binary);
  std::string bytes(length, '\0');
  in.seekg(static_cast<std::streamoff>(offset));
  in.read(bytes.data(), static_cast<std::streamsize>(length));
  if (!in) fail("reading its file " + file.string() + " failed (" + std::strerror(errno) + ")");
  t.set_raw_data(std::move(bytes));
  t.clear_external_data();
  t.set_data_location(::onnx::TensorProto::DEFAULT);
}

bool is_external(const ::onnx::TensorProto& t) { return t.data_location() == ::onnx::TensorProto::EXTERNAL; }

// Integers of a raw_data run, little-endian as ONNX stores them.
template <typename Int>
std::vector<std::int64_t> raw_ints(const std::string& raw, std::size_t count) {
  std::vector<std::int64_t> out(count);
  for (std::size_t i = 0; i < count; ++i) {
    std::uint64_t bits = 0;
    for (unsigned b = 0; b < sizeof(Int); ++b) bits |= std::uint64_t{static_cast<std::uint8_t>(raw[sizeof(Int) * i + b])} << (8 * b);
    out[i] = static_cast<Int>(bits);
  }
  return out;
}

// The checker accepts tensors whose values disagree with their dims; axsa does not.
tensor convert_tensor(const ::onnx::TensorProto& p, const std::string& source, const std::string& where) {
  tensor t;
  t.name = p.name();
  t.data_type = p.data_type();
  t.dims.assign(p.dims().begin(), p.dims().end());
  const std::string label = where + " tensor '" + t.name + "'";
  if (p.has_segment()) throw config_error(source + ": " + label + " is segmented, which axsa does not read");
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
      throw config_error(source + ": corrupt ONNX (" + label + " has " + std::to_string(have) + " values in " + field +
                         " but its dims hold " + std::to_string(count) + ")");
    }
  };
  const bool has_raw = p.has_raw_data();
  auto check_raw_size = [&](std::size_t element_bytes) {
    if (p.raw_data().size() != count * element_bytes) {
      throw config_error(source + ": corrupt ONNX (" + label + " has " + std::to_string(p.raw_data().size()) +
                         " bytes of raw_data, expected " + std::to_string(count) + " x " + std::to_string(element_bytes) + ")");
    }
  };
  switch (t.data_type) {
    case float32:
      if (has_raw) {
        check_raw_size(4);
        t.floats.resize(count);
        const std::vector<std::int64_t> bits = raw_ints<std::uint32_t>(p.raw_data(), count);
        for (std::size_t i = 0; i < count; ++i) {
          const auto b = static_cast<std::uint32_t>(bits[i]);
          std::memcpy(&t.floats[i], &b, 4);
        }
      } else {
        check_count(static_cast<std::size_t>(p.float_data_size()), "float_data");
        t.floats.assign(p.float_data().begin(), p.float_data().end());
      }
      break;
    case int64:
      if (has_raw) {
        check_raw_size(8);
        t.ints = raw_ints<std::int64_t>(p.raw_data(), count);
      } else {
        check_count(static_cast<std::size_t>(p.int64_data_size()), "int64_data");
        t.ints.assign(p.int64_data().begin(), p.int64_data().end());
      }
      break;
    case int32:
      if (has_raw) {
        check_raw_size(4);
        t.ints = raw_ints<std::int32_t>(p.raw_data(), count);
      } else {
        check_count(static_cast<std::size_t>(p.int32_data_size()), "int32_data");
        t.ints.assign(p.int32_data().begin(), p.int32_data().end());
      }
      break;
    default:
      throw config_error(source + ": " + label + " has data type " + data_type_name(t.data_type) + " (" +
                         std::to_string(t.data_type) + "); axsa reads only FLOAT, INT32 and INT64 tensors");
  }
  return t;
}

attribute convert_attribute(const ::onnx::AttributeProto& p, const std::string& source) {
  attribute a;
  a.name = p.name();
  a.type = p.type();  // the checker requires it (IR version 2 on)
  a.f = p.f();
  a.i = p.i();
  a.s = p.s();
  a.floats.assign(p.floats().begin(), p.floats().end());
  a.ints.assign(p.ints().begin(), p.ints().end());
  if (p.has_t()) a.t = convert_tensor(p.t(), source, "attribute '" + a.name + "'");
  return a;
}

value_info convert_value_info(const ::onnx::ValueInfoProto& p) {
  value_info v;
  v.name = p.name();
  if (!p.type().has_tensor_type()) return v;  // sequence, map, optional, sparse: left empty
  const auto& tt = p.type().tensor_type();
  v.elem_type = tt.elem_type();
  for (const auto& d : tt.shape().dim()) v.dims.push_back(d.has_dim_value() && d.dim_value() >= 0 ? d.dim_value() : -1);
  return v;
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

namespace {

// ONNX 1.12's shape inference divides by strides, dilations, kernel sizes and Conv's group without checking
// them (a stride of 0 is a floating-point exception in the library): refuse such attributes first, in this
// graph and in every graph nested in an attribute. Found by tests/fuzz/fuzz_onnx.
void check_window_attributes(const ::onnx::GraphProto& graph, const std::string& source) {
  std::map<std::string, int> initializer_rank;
  for (const auto& t : graph.initializer()) initializer_rank[t.name()] = t.dims_size();
  for (const auto& n : graph.node()) {
    // axsa's windows are 2-D (images): the library reads kernel, stride, dilation and pad lists and the
    // weights' dims without checking that they agree, so lists of other lengths and weights of another rank
    // are refused here (found by tests/fuzz/fuzz_onnx: a rank-5 Conv weight under a rank-4 input).
    const std::string& op = n.op_type();
    if (op == "Conv" || op == "MaxPool" || op == "AveragePool") {
      for (const auto& a : n.attribute()) {
        const int want = a.name() == "pads" ? 4 : 2;
        const bool listed = a.name() == "pads" || a.name() == "strides" || a.name() == "dilations" || a.name() == "kernel_shape";
        if (listed && a.ints_size() != want) {
          throw config_error(source + ": node '" + n.name() + "' (" + op + ") has " + std::to_string(a.ints_size()) +
                             " " + a.name() + " values (expected " + std::to_string(want) + ": axsa's windows are 2-D)");
        }
      }
      if (op == "Conv" && n.input_size() > 1) {
        const auto it = initializer_rank.find(n.input(1));
        if (it != initializer_rank.end() && it->second != 4) {
          throw config_error(source + ": node '" + n.name() + "' (Conv) has weights '" + n.input(1) + "' of rank " +
                             std::to_string(it->second) + " (expected 4: out x in x kH x kW)");
        }
      }
    }
    for (const auto& a : n.attribute()) {
      const std::string& name = a.name();
      const bool window = name == "strides" || name == "dilations" || name == "kernel_shape";
      const bool group = name == "group";
      for (const auto v : a.ints()) {
        if (window && v <= 0) {
          throw config_error(source + ": node '" + n.name() + "' (" + n.op_type() + ") has " + name + " value " +
                             std::to_string(v) + " (expected every value > 0)");
        }
      }
      if (group && a.has_i() && a.i() <= 0) {
        throw config_error(source + ": node '" + n.name() + "' (" + n.op_type() + ") has group " + std::to_string(a.i()) +
                           " (expected > 0)");
      }
      if (a.has_g()) check_window_attributes(a.g(), source);
      for (const auto& g : a.graphs()) check_window_attributes(g, source);
    }
  }
}

// ONNX 1.12's Gemm shape inference reads two dimensions of A and B without checking their rank (a scalar
// graph input is a null dereference in the library, found by tests/fuzz/fuzz_onnx): where the rank of a
// Gemm operand is known here, from a graph input or an initializer, it must be at least 2.
void check_gemm_ranks(const ::onnx::GraphProto& graph, const std::string& source) {
  std::map<std::string, int> rank;
  for (const auto& v : graph.input()) {
    if (v.type().has_tensor_type() && v.type().tensor_type().has_shape()) rank[v.name()] = v.type().tensor_type().shape().dim_size();
  }
  for (const auto& t : graph.initializer()) rank[t.name()] = t.dims_size();
  for (const auto& n : graph.node()) {
    if (n.op_type() != "Gemm") continue;
    for (int i = 0; i < std::min(n.input_size(), 2); ++i) {
      const auto it = rank.find(n.input(i));
      if (it != rank.end() && it->second < 2) {  // higher ranks reach the import, which says to add a Flatten
        throw config_error(source + ": node '" + n.name() + "' (Gemm) takes '" + n.input(i) + "' of rank " +
                           std::to_string(it->second) + " as its " + (i == 0 ? "A" : "B") + " operand (expected rank 2)");
      }
    }
  }
}

}  // namespace

model parse_model(const std::uint8_t* data, std::size_t size, const std::string& source, const std::string& model_dir) {
  // Names and strings from the file may hold line breaks; an error is one line (found by tests/fuzz/fuzz_onnx).
  try {
    ::onnx::ModelProto proto;
    if (size > static_cast<std::size_t>(std::numeric_limits<int>::max()) || !proto.ParseFromArray(data, static_cast<int>(size))) {
      throw config_error(source + ": corrupt ONNX (protobuf cannot decode the file as an ONNX ModelProto)");
    }
    if (!proto.has_graph()) throw config_error(source + ": corrupt ONNX (no graph in the model; is this an ONNX file?)");
    ::onnx::GraphProto& graph = *proto.mutable_graph();
    // External data first: the checker then sees every tensor whole, as after onnx.load in Python.
    for (auto& t : *graph.mutable_initializer()) {
      if (is_external(t)) load_external_data(t, source, model_dir, "initializer tensor '" + t.name() + "'");
    }
    for (auto& n : *graph.mutable_node()) {
      for (auto& a : *n.mutable_attribute()) {
        if (a.has_t() && is_external(a.t())) load_external_data(*a.mutable_t(), source, model_dir, "attribute '" + a.name() + "' tensor");
      }
    }
    try {
      ::onnx::checker::check_model(proto);
    } catch (const std::exception& e) {
      // PyTorch's newer exporters write IR 9 and 10, which this library predates: say so.
      const std::string hint = proto.ir_version() > ::onnx::IR_VERSION
                                   ? " (axsa reads ONNX with the ONNX " ONNX_LIBRARY_VERSION " library: IR version " +
                                         std::to_string(::onnx::IR_VERSION) + " at most; export with an older exporter or opset)"
                                   : "";
      throw config_error(source + ": the ONNX checker rejects the model: " + one_line(e.what()) + hint);
    }
    check_window_attributes(graph, source);
    check_gemm_ranks(graph, source);
    try {
      // As onnx.shape_inference.infer_shapes: node-level gaps are tolerated, contradictions are not.
      ::onnx::shape_inference::InferShapes(proto);
    } catch (const std::exception& e) {
      throw config_error(source + ": ONNX shape inference rejects the model: " + one_line(e.what()));
    }

    model m;
    m.ir_version = proto.ir_version();
    for (const auto& opset : proto.opset_import()) {
      if (opset.domain().empty() || opset.domain() == "ai.onnx") m.opset = opset.version();
    }
    m.graph_name = graph.name();
    for (const auto& t : graph.initializer()) {
      tensor converted = convert_tensor(t, source, "initializer");
      const std::string name = converted.name;
      if (!m.initializers.emplace(name, std::move(converted)).second) {
        throw config_error(source + ": two initializers are named '" + name + "' (expected unique names)");
      }
    }
    for (const auto& p : graph.node()) {
      node n;
      n.name = p.name();
      n.op_type = p.op_type();
      n.domain = p.domain();
      n.inputs.assign(p.input().begin(), p.input().end());
      n.outputs.assign(p.output().begin(), p.output().end());
      for (const auto& a : p.attribute()) n.attributes.push_back(convert_attribute(a, source));
      m.nodes.push_back(std::move(n));
    }
    // Exporters before IR version 4 list every initializer as a graph input too.
    for (const auto& v : graph.input()) {
      if (m.initializers.count(v.name()) == 0) m.inputs.push_back(convert_value_info(v));
    }
    for (const auto& v : graph.output()) m.outputs.push_back(convert_value_info(v));
    for (const auto& v : graph.value_info()) m.value_infos.push_back(convert_value_info(v));
    return m;
  } catch (const config_error& e) {
    throw config_error(one_line(e.what()));
  }
}

model read_model(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    throw config_error(path + ": cannot open ONNX model (" +
                       std::string(fs::exists(path, ec) ? "not a regular file" : "no such file") + ")");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw config_error(path + ": cannot open ONNX model (" + std::string(std::strerror(errno)) + ")");
  const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw config_error(path + ": read error");
  const fs::path dir = fs::path(path).parent_path();
  return parse_model(bytes.data(), bytes.size(), path, dir.empty() ? "." : dir.string());
}

}  // namespace axsa::sw::onnx
