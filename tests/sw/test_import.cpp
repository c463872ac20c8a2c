// Model and data-set import without a kernel: the IDX reader and its error cases, the ONNX reader
// (libonnx, its checker and shape inference, external data) on hand-encoded protobuf, the float network built from the fixtures (against numpy
// references from tests/fixtures/make_onnx_fixtures.py) and LeNet-5 on the whole MNIST test set.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "hw/array_config.h"
#include "sw/idx.h"
#include "sw/network.h"
#include "sw/onnx_reader.h"

namespace axsa::sw {
namespace {

const std::string source_dir = AXSA_SOURCE_DIR;
const std::string fixtures = source_dir + "/tests/fixtures/";
const std::string lenet_path = source_dir + "/models/lenet5.onnx";
const std::string mnist_dir = source_dir + "/data/mnist";

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string temp_path(const std::string& name) { return testing::TempDir() + "axsa_import_" + name; }

// The message of the config_error `f` throws, or a note that it threw none.
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const config_error& e) {
    return e.what();
  }
  return "<no config_error thrown>";
}

// ---------------------------------------------------------------- IDX

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

std::string idx_images_bytes(std::uint32_t count, std::uint32_t rows, std::uint32_t cols, std::size_t payload,
                             std::uint32_t magic = 2051) {
  std::string b = be32(magic) + be32(count) + be32(rows) + be32(cols);
  for (std::size_t i = 0; i < payload; ++i) b += static_cast<char>(i * 7);
  return b;
}

std::string idx_labels_bytes(const std::vector<std::uint8_t>& labels, std::uint32_t count, std::uint32_t magic = 2049) {
  std::string b = be32(magic) + be32(count);
  for (const auto l : labels) b += static_cast<char>(l);
  return b;
}

TEST(idx, reads_images_and_labels_exactly) {
  const std::string images = temp_path("ok-images"), labels = temp_path("ok-labels");
  write_file(images, idx_images_bytes(3, 2, 5, 30));
  write_file(labels, idx_labels_bytes({0, 9, 4}, 3));
  const idx_images im = read_idx_images(images);
  EXPECT_EQ(im.count, 3u);
  EXPECT_EQ(im.rows, 2u);
  EXPECT_EQ(im.cols, 5u);
  ASSERT_EQ(im.pixels.size(), 30u);
  EXPECT_EQ(im.pixels[29], static_cast<std::uint8_t>(29 * 7));
  EXPECT_EQ(im.image(2)[0], static_cast<std::uint8_t>(20 * 7));
  EXPECT_EQ(read_idx_labels(labels).labels, (std::vector<std::uint8_t>{0, 9, 4}));
}

TEST(idx, missing_file_names_the_file) {
  const std::string path = temp_path("does-not-exist");
  const std::string e = error_of([&] { read_idx_images(path); });
  EXPECT_NE(e.find(path), std::string::npos) << e;
  EXPECT_NE(e.find("no such file"), std::string::npos) << e;
  EXPECT_NE(error_of([&] { read_idx_labels(path); }).find("no such file"), std::string::npos);
}

TEST(idx, wrong_magic_is_rejected) {
  const std::string path = temp_path("magic");
  write_file(path, idx_images_bytes(1, 2, 2, 4, 2049));  // a label magic on an image file
  std::string e = error_of([&] { read_idx_images(path); });
  EXPECT_NE(e.find(path + ": not an IDX image file: magic number 0x00000801"), std::string::npos) << e;
  EXPECT_NE(e.find("expected 0x00000803 (2051)"), std::string::npos) << e;
  write_file(path, idx_labels_bytes({1}, 1, 2051));
  e = error_of([&] { read_idx_labels(path); });
  EXPECT_NE(e.find("not an IDX label file"), std::string::npos) << e;
  write_file(path, std::string("\x00\x00", 2));
  e = error_of([&] { read_idx_labels(path); });
  EXPECT_NE(e.find("too short for the 4-byte magic"), std::string::npos) << e;
}

TEST(idx, truncated_files_are_rejected) {
  const std::string path = temp_path("truncated");
  write_file(path, idx_images_bytes(3, 4, 4, 47));  // one pixel short
  std::string e = error_of([&] { read_idx_images(path); });
  EXPECT_NE(e.find(path + ": truncated"), std::string::npos) << e;
  EXPECT_NE(e.find("3 images of 4x4"), std::string::npos) << e;
  EXPECT_NE(e.find("file has 63 bytes"), std::string::npos) << e;
  write_file(path, idx_images_bytes(3, 4, 4, 0).substr(0, 10));  // header cut short
  e = error_of([&] { read_idx_images(path); });
  EXPECT_NE(e.find("the header alone needs 16"), std::string::npos) << e;
  write_file(path, idx_labels_bytes({1, 2}, 3));
  e = error_of([&] { read_idx_labels(path); });
  EXPECT_NE(e.find("truncated: the header says 3 labels"), std::string::npos) << e;
  // A header promising far more than any file holds must not overflow or allocate.
  write_file(path, idx_images_bytes(0xffffffffu, 0xffffffffu, 0xffffffffu, 5));
  e = error_of([&] { read_idx_images(path); });
  EXPECT_NE(e.find("truncated"), std::string::npos) << e;
}

TEST(idx, trailing_bytes_are_rejected) {
  const std::string path = temp_path("trailing");
  write_file(path, idx_images_bytes(2, 3, 3, 19));
  std::string e = error_of([&] { read_idx_images(path); });
  EXPECT_NE(e.find(path + ": 1 trailing bytes after the 2 images of 3x3"), std::string::npos) << e;
  write_file(path, idx_labels_bytes({1, 2, 3, 4}, 2));
  e = error_of([&] { read_idx_labels(path); });
  EXPECT_NE(e.find("2 trailing bytes after the 2 labels"), std::string::npos) << e;
}

TEST(idx, zero_dimensions_are_rejected) {
  const std::string path = temp_path("zero");
  for (const auto& dims : std::vector<std::array<std::uint32_t, 3>>{{0, 2, 2}, {2, 0, 2}, {2, 2, 0}}) {
    write_file(path, idx_images_bytes(dims[0], dims[1], dims[2], 0));
    const std::string e = error_of([&] { read_idx_images(path); });
    EXPECT_NE(e.find("expected every dimension > 0"), std::string::npos) << e;
  }
  write_file(path, idx_labels_bytes({}, 0));
  EXPECT_NE(error_of([&] { read_idx_labels(path); }).find("0 labels"), std::string::npos);
}

TEST(idx, label_above_nine_is_rejected) {
  const std::string path = temp_path("label");
  write_file(path, idx_labels_bytes({3, 9, 10, 1}, 4));
  const std::string e = error_of([&] { read_idx_labels(path); });
  EXPECT_NE(e.find(path + ": label 10 at index 2 is out of range (expected 0..9)"), std::string::npos) << e;
}

TEST(idx, load_mnist_checks_split_and_counts) {
  const std::string dir = temp_path("mnist-dir");
  std::remove((dir + "/t10k-images-idx3-ubyte").c_str());
  EXPECT_NE(error_of([&] { load_mnist(dir, "test"); }).find("unknown MNIST split 'test'"), std::string::npos);
  EXPECT_NE(error_of([&] { load_mnist(dir, "t10k"); }).find("run scripts/fetch_mnist.sh"), std::string::npos);
  std::filesystem::create_directories(dir);
  write_file(dir + "/t10k-images-idx3-ubyte", idx_images_bytes(3, 2, 2, 12));
  write_file(dir + "/t10k-labels-idx1-ubyte", idx_labels_bytes({1, 2}, 2));
  const std::string e = error_of([&] { load_mnist(dir, "t10k"); });
  EXPECT_NE(e.find("has 2 labels but"), std::string::npos) << e;
  EXPECT_NE(e.find("has 3 images"), std::string::npos) << e;
  write_file(dir + "/t10k-labels-idx1-ubyte", idx_labels_bytes({1, 2, 3}, 3));
  const dataset d = load_mnist(dir, "t10k");
  EXPECT_EQ(d.images.count, 3u);
  EXPECT_EQ(d.labels.labels.size(), 3u);
}

// MNIST must be present: a missing data set fails (never skips) and says how to get it.
dataset load_mnist_or_fail(const std::string& split) {
  try {
    return load_mnist(mnist_dir, split);
  } catch (const config_error& e) {
    ADD_FAILURE() << "MNIST is missing or broken in " << mnist_dir << ": " << e.what()
                  << "\nRun scripts/fetch_mnist.sh to download it.";
    return {};
  }
}

TEST(idx, mnist_test_set_loads) {
  const dataset d = load_mnist_or_fail("t10k");
  ASSERT_EQ(d.images.count, 10000u) << "run scripts/fetch_mnist.sh";
  EXPECT_EQ(d.images.rows, 28u);
  EXPECT_EQ(d.images.cols, 28u);
  std::array<int, 10> per_class{};
  for (const auto l : d.labels.labels) ++per_class[l];
  EXPECT_EQ(per_class[0], 980);  // the published MNIST test-set class counts
  EXPECT_EQ(per_class[1], 1135);
  EXPECT_EQ(per_class[9], 1009);
}

// ---------------------------------------------------------------- hand-encoded protobuf

std::string varint(std::uint64_t v) {
  std::string s;
  do {
    const auto byte = static_cast<std::uint8_t>((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
    s += static_cast<char>(byte);
    v >>= 7;
  } while (v != 0);
  return s;
}
std::string tag(unsigned field, unsigned type) { return varint(std::uint64_t{field} << 3 | type); }
std::string vint(unsigned field, std::int64_t v) { return tag(field, 0) + varint(static_cast<std::uint64_t>(v)); }
std::string bytes(unsigned field, const std::string& payload) { return tag(field, 2) + varint(payload.size()) + payload; }
std::string f32_bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  return {static_cast<char>(u), static_cast<char>(u >> 8), static_cast<char>(u >> 16), static_cast<char>(u >> 24)};
}
std::string f32(unsigned field, float f) { return tag(field, 5) + f32_bits(f); }

std::string packed_floats(unsigned field, const std::vector<float>& v) {
  std::string p;
  for (const float f : v) p += f32_bits(f);
  return bytes(field, p);
}
std::string packed_ints(unsigned field, const std::vector<std::int64_t>& v) {
  std::string p;
  for (const auto i : v) p += varint(static_cast<std::uint64_t>(i));
  return bytes(field, p);
}

// FLOAT tensor with values as unpacked float_data when `unpacked`, else packed float_data.
std::string float_tensor(const std::string& name, const std::vector<std::int64_t>& dims, const std::vector<float>& v,
                         bool unpacked = false) {
  std::string t;
  for (const auto d : dims) t += vint(1, d);
  t += vint(2, 1) + bytes(8, name);
  if (unpacked) {
    for (const float f : v) t += f32(4, f);
  } else {
    t += packed_floats(4, v);
  }
  return t;
}
std::string int64_tensor(const std::string& name, const std::vector<std::int64_t>& v) {
  return vint(1, static_cast<std::int64_t>(v.size())) + vint(2, 7) + bytes(8, name) + packed_ints(7, v);
}

std::string attr_int(const std::string& name, std::int64_t v) { return bytes(5, bytes(1, name) + vint(20, 2) + vint(3, v)); }
std::string attr_float(const std::string& name, float v) { return bytes(5, bytes(1, name) + vint(20, 1) + f32(2, v)); }
std::string attr_string(const std::string& name, const std::string& v) {
  return bytes(5, bytes(1, name) + vint(20, 3) + bytes(4, v));
}
std::string attr_ints(const std::string& name, const std::vector<std::int64_t>& v, bool packed = true) {
  std::string a = bytes(1, name) + vint(20, 7);
  if (packed) {
    a += packed_ints(8, v);
  } else {
    for (const auto i : v) a += vint(8, i);
  }
  return bytes(5, a);
}

std::string node(const std::string& op, const std::vector<std::string>& in, const std::string& out,
                 const std::string& name, const std::string& attrs = "", const std::string& domain = "") {
  std::string n;
  for (const auto& i : in) n += bytes(1, i);
  n += bytes(2, out) + bytes(3, name) + bytes(4, op) + attrs;
  if (!domain.empty()) n += bytes(7, domain);
  return bytes(1, n);
}

// ValueInfoProto of a FLOAT tensor; dim -1 is written as the symbolic "batch".
std::string value(const std::string& name, const std::vector<std::int64_t>& dims) {
  std::string shape;
  for (const auto d : dims) shape += bytes(1, d < 0 ? bytes(2, "batch") : vint(1, d));
  return bytes(1, name) + bytes(2, bytes(1, vint(1, 1) + bytes(2, shape)));
}

// An output of known rank and unknown extents. (A ValueInfoProto with an empty shape declares a
// scalar, which ONNX shape inference rightly refuses for a tensor output.)
std::string unknown(const std::string& name, std::size_t rank) { return value(name, std::vector<std::int64_t>(rank, -1)); }

// Model bytes with one more opset import (a custom domain's), appended as protobuf allows.
std::string with_opset(const std::string& model, const std::string& domain, std::int64_t version = 1) {
  return model + bytes(8, bytes(1, domain) + vint(2, version));
}

// ModelProto: graph with nodes, initializers (TensorProto payloads), one input and one output.
std::string model_bytes(const std::string& nodes, const std::vector<std::string>& inits, const std::string& input,
                        const std::vector<std::string>& outputs, std::int64_t opset = 13) {
  std::string g = nodes + bytes(2, "g");
  for (const auto& t : inits) g += bytes(5, t);
  g += bytes(11, input);
  for (const auto& o : outputs) g += bytes(12, o);
  return vint(1, 8) + bytes(7, g) + bytes(8, bytes(1, "") + vint(2, opset));
}

std::string model_bytes(const std::string& nodes, const std::vector<std::string>& inits, const std::string& input,
                        const std::string& output, std::int64_t opset = 13) {
  return model_bytes(nodes, inits, input, std::vector<std::string>{output}, opset);
}

onnx::model parse(const std::string& b) {
  return onnx::parse_model(reinterpret_cast<const std::uint8_t*>(b.data()), b.size(), "mem.onnx");
}

network load_bytes(const std::string& name, const std::string& b) {
  const std::string path = temp_path(name + ".onnx");
  write_file(path, b);
  return load_onnx(path);
}

std::string load_error(const std::string& name, const std::string& b) {
  return error_of([&] { load_bytes(name, b); });
}

// ---------------------------------------------------------------- ONNX reader

TEST(onnx_reader, lenet_fields) {
  const onnx::model m = onnx::read_model(lenet_path);
  EXPECT_EQ(m.opset, 13);
  EXPECT_GE(m.ir_version, 7);
  ASSERT_EQ(m.nodes.size(), 12u);
  const std::vector<std::string> ops = {"Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool",
                                        "Flatten", "Gemm", "Relu", "Gemm", "Relu", "Gemm"};
  for (std::size_t i = 0; i < ops.size(); ++i) EXPECT_EQ(m.nodes[i].op_type, ops[i]) << i;
  EXPECT_EQ(m.nodes[0].name, "/conv1/Conv");
  const onnx::attribute* pads = m.nodes[0].find("pads");
  ASSERT_NE(pads, nullptr);
  EXPECT_EQ(pads->type, onnx::attr_ints);
  EXPECT_EQ(pads->ints, (std::vector<std::int64_t>{2, 2, 2, 2}));
  EXPECT_EQ(m.nodes[0].find("no_such_attribute"), nullptr);
  ASSERT_EQ(m.inputs.size(), 1u);
  EXPECT_EQ(m.inputs[0].name, "input");
  EXPECT_EQ(m.inputs[0].elem_type, onnx::float32);
  EXPECT_EQ(m.inputs[0].dims, (std::vector<std::int64_t>{-1, 1, 28, 28}));
  ASSERT_EQ(m.outputs.size(), 1u);
  EXPECT_EQ(m.outputs[0].name, "logits");
  EXPECT_EQ(m.outputs[0].dims, (std::vector<std::int64_t>{-1, 10}));
  ASSERT_EQ(m.initializers.size(), 10u);
  const onnx::tensor& w = m.initializers.at("conv2.weight");
  EXPECT_EQ(w.dims, (std::vector<std::int64_t>{16, 6, 5, 5}));
  EXPECT_EQ(w.floats.size(), 2400u);
  EXPECT_EQ(m.initializers.at("fc1.weight").dims, (std::vector<std::int64_t>{120, 400}));
}

TEST(onnx_reader, packed_and_unpacked_repeated_fields) {
  const std::string attrs = attr_ints("packed", {1, -2, 300}) + attr_ints("unpacked", {4, -5}, false) +
                            bytes(5, bytes(1, "fl") + vint(20, 6) + packed_floats(7, {0.5f, -2.0f}) + f32(7, 3.0f)) +
                            attr_float("alpha", 0.25f) + attr_string("mode", "NOTSET");
  const std::string int32_tensor = vint(1, 3) + vint(2, 6) + bytes(8, "i32") + vint(5, -1) + packed_ints(5, {7, -8});
  const std::string raw_int64 = vint(1, 2) + vint(2, 7) + bytes(8, "raw64") +
                                bytes(9, std::string("\xfe\xff\xff\xff\xff\xff\xff\xff\x05\0\0\0\0\0\0\0", 16));
  const std::string raw_float = vint(1, 1) + vint(1, 2) + vint(2, 1) + bytes(8, "rawf") + bytes(9, f32_bits(1.5f) + f32_bits(-4.0f));
  // A custom-domain op: the checker leaves its attributes alone, as it does an exporter's custom ops.
  const std::string b = with_opset(model_bytes(node("Probe", {"x"}, "y", "r", attrs, "axsa.test"),
                                               {int32_tensor, raw_int64, raw_float, float_tensor("fu", {2}, {9.0f, 8.0f}, true)},
                                               value("x", {-1, 4}), value("y", {-1, 4})),
                                    "axsa.test");
  const onnx::model m = parse(b);
  const onnx::node& n = m.nodes.at(0);
  EXPECT_EQ(n.find("packed")->ints, (std::vector<std::int64_t>{1, -2, 300}));
  EXPECT_EQ(n.find("unpacked")->ints, (std::vector<std::int64_t>{4, -5}));
  EXPECT_EQ(n.find("fl")->floats, (std::vector<float>{0.5f, -2.0f, 3.0f}));
  EXPECT_EQ(n.find("alpha")->type, onnx::attr_float);
  EXPECT_EQ(n.find("alpha")->f, 0.25f);
  EXPECT_EQ(n.find("mode")->s, "NOTSET");
  EXPECT_EQ(m.initializers.at("i32").ints, (std::vector<std::int64_t>{-1, 7, -8}));
  EXPECT_EQ(m.initializers.at("raw64").ints, (std::vector<std::int64_t>{-2, 5}));
  EXPECT_EQ(m.initializers.at("rawf").floats, (std::vector<float>{1.5f, -4.0f}));
  EXPECT_EQ(m.initializers.at("rawf").dims, (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(m.initializers.at("fu").floats, (std::vector<float>{9.0f, 8.0f}));
  EXPECT_EQ(m.inputs.at(0).dims, (std::vector<std::int64_t>{-1, 4}));
}

TEST(onnx_reader, unknown_fields_are_skipped) {
  // Fields ONNX does not define (numbers 99, 100, 101) of every wire type, at model and node level.
  const std::string junk = vint(99, 12345) + tag(100, 1) + std::string(8, 'x') + bytes(101, "zz") + f32(102, 1.0f);
  const std::string b = junk + model_bytes(node("Relu", {"x"}, "y", "r", junk), {}, value("x", {-1, 4}), value("y", {-1, 4}));
  const onnx::model m = parse(b);
  ASSERT_EQ(m.nodes.size(), 1u);
  EXPECT_EQ(m.nodes[0].op_type, "Relu");
}

// Protobuf decodes the bytes now; whatever it cannot decode, or a message without a graph, is one
// line "FILE: corrupt ONNX (...)".
TEST(onnx_reader, wire_errors_are_corrupt_onnx) {
  const std::vector<std::string> cases = {
      "\x3a\xff\x01",                        // graph: 255 bytes promised, none there
      "\x08\xff\xff",                        // ir_version cut mid-varint
      std::string(11, '\xff'),               // tag that never ends
      "\x16",                                 // field 2, wire type 6
      std::string("\x00\x01", 2),             // field number 0
      "\x11\x01\x02",                        // field 2, fixed64, 2 of 8 bytes
      "\x15\x01",                             // field 2, fixed32, 1 of 4 bytes
      "\x38\x01",                             // field 7 (graph) as a varint: no graph
      "",                                      // nothing: no graph
      bytes(7, bytes(1, tag(1, 2) + varint(50) + "ab")),  // an inner length past its message's end
      model_bytes("", {vint(1, 1) + vint(2, 1) + bytes(4, "abc")}, value("x", {1}), value("x", {1})),  // 3 bytes of packed floats
  };
  for (const std::string& b : cases) {
    const std::string e = error_of([&] { parse(b); });
    EXPECT_EQ(e.rfind("mem.onnx: corrupt ONNX (", 0), 0u) << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  }
  EXPECT_NE(error_of([] { parse(""); }).find("no graph in the model"), std::string::npos);
}

TEST(onnx_reader, tensor_errors_name_the_tensor) {
  auto err = [](const std::string& tensor_payload) {
    return error_of([&] { parse(model_bytes("", {tensor_payload}, value("x", {1}), value("x", {1}))); });
  };
  std::string e = err(vint(1, 2) + vint(2, 11) + bytes(8, "dbl") + bytes(9, std::string(16, '\0')));
  EXPECT_NE(e.find("tensor 'dbl' has data type DOUBLE (11); axsa reads only FLOAT, INT32 and INT64"), std::string::npos) << e;
  e = err(float_tensor("short", {3}, {1.0f, 2.0f}));
  EXPECT_NE(e.find("corrupt ONNX (initializer tensor 'short' has 2 values in float_data but its dims hold 3)"), std::string::npos) << e;
  e = err(vint(1, 2) + vint(2, 1) + bytes(8, "raw") + bytes(9, std::string(7, '\0')));
  EXPECT_NE(e.find("7 bytes of raw_data, expected 2 x 4"), std::string::npos) << e;
  e = err(vint(1, -3) + vint(2, 1) + bytes(8, "neg") + packed_floats(4, {1.0f}));
  EXPECT_NE(e.find("negative dimension -3"), std::string::npos) << e;
  e = err(vint(1, 1) + vint(2, 1) + bytes(8, "ext") + vint(14, 1));
  EXPECT_NE(e.find("tensor 'ext' keeps its data in an external file"), std::string::npos) << e;
  e = error_of([&] {
    parse(model_bytes("", {float_tensor("w", {1}, {1}), float_tensor("w", {1}, {2})}, value("x", {1}), value("x", {1})));
  });
  EXPECT_NE(e.find("mem.onnx: the ONNX checker rejects the model: w initializer name is not unique"), std::string::npos) << e;
}

TEST(onnx_reader, initializers_listed_as_inputs_are_dropped) {
  const onnx::model m = onnx::read_model(fixtures + "legacy_initializer_inputs.onnx");
  EXPECT_EQ(m.ir_version, 3);
  EXPECT_EQ(m.opset, 9);
  ASSERT_EQ(m.inputs.size(), 1u);
  EXPECT_EQ(m.inputs[0].name, "x");
  EXPECT_EQ(m.initializers.at("w").floats.size(), 18u);  // written as float_data, not raw_data
}

// tests/fuzz/fuzz_onnx's first finding: a Conv with strides [2, 0] made ONNX 1.12's shape inference divide by
// zero (SIGFPE inside libonnx). Zero or negative strides, dilations and kernel sizes are refused first.
TEST(onnx_reader, zero_strides_are_refused_before_libonnx_divides_by_them) {
  const std::string path = source_dir + "/tests/fuzz/corpus/fuzz_onnx/regression_conv_stride_0_divides_by_zero_in_libonnx";
  const std::string e = error_of([&] { onnx::read_model(path); });
  EXPECT_NE(e.find(path + ": node 'conv2' (Conv) has strides value 0 (expected every value > 0)"), std::string::npos) << e;
}

// And its second: a Gemm on a scalar graph input made ONNX 1.12's shape inference dereference null.
TEST(onnx_reader, gemm_operands_of_the_wrong_rank_are_refused_before_libonnx_reads_them) {
  const std::string path = source_dir + "/tests/fuzz/corpus/fuzz_onnx/regression_gemm_on_scalar_input_null_deref_in_libonnx";
  const std::string e = error_of([&] { onnx::read_model(path); });
  EXPECT_NE(e.find(path + ": node 'fc' (Gemm) takes 'x' of rank 0 as its A operand (expected rank 2)"), std::string::npos) << e;
}

// And its third: a Conv weight of rank 5 under a rank-4 input made the library read past the kernel's dims.
TEST(onnx_reader, conv_weights_and_window_lists_must_be_2d_before_libonnx_reads_them) {
  const std::string path = source_dir + "/tests/fuzz/corpus/fuzz_onnx/regression_conv_weight_rank_5_segv_in_libonnx";
  const std::string e = error_of([&] { onnx::read_model(path); });
  EXPECT_NE(e.find(path + ": node 'conv2' (Conv) has weights 'c2' of rank 5 (expected 4: out x in x kH x kW)"),
            std::string::npos) << e;
}

TEST(onnx_reader, missing_truncated_and_random_files) {
  std::string e = error_of([] { onnx::read_model(fixtures + "no_such_model.onnx"); });
  EXPECT_NE(e.find("no_such_model.onnx: cannot open ONNX model (no such file)"), std::string::npos) << e;
  e = error_of([] { onnx::read_model(fixtures + "truncated.onnx"); });
  EXPECT_NE(e.find(fixtures + "truncated.onnx: corrupt ONNX ("), std::string::npos) << e;
  e = error_of([] { onnx::read_model(fixtures + "random_bytes.onnx"); });
  EXPECT_NE(e.find(fixtures + "random_bytes.onnx: corrupt ONNX ("), std::string::npos) << e;
}

// Every prefix of a real model either decodes (cut at a field boundary) or is a config_error;
// nothing else escapes and nothing reads past the end.
TEST(onnx_reader, every_prefix_decodes_or_fails_cleanly) {
  const std::string full = read_bytes(fixtures + "conv_avgpool_softmax.onnx");
  ASSERT_GT(full.size(), 1000u);
  std::size_t failures = 0;
  for (std::size_t n = 0; n < full.size(); ++n) {
    const std::vector<std::uint8_t> prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    try {
      onnx::parse_model(prefix.data(), prefix.size(), "prefix.onnx");
    } catch (const config_error& e) {
      ++failures;
      ASSERT_NE(std::string(e.what()).find("prefix.onnx: "), std::string::npos) << e.what();
    }
  }
  EXPECT_GT(failures, full.size() * 9 / 10);  // the graph is one field: almost every cut breaks it
}

// Random byte flips of a real model: load_onnx either succeeds or throws config_error.
TEST(onnx_reader, byte_flips_never_escape_as_other_errors) {
  const std::string full = read_bytes(fixtures + "conv_avgpool_softmax.onnx");
  std::mt19937 rng(5);
  const std::string path = temp_path("flipped.onnx");
  int loaded = 0, rejected = 0;
  for (int trial = 0; trial < 1500; ++trial) {
    std::string b = full;
    const int flips = 1 + trial % 3;
    for (int f = 0; f < flips; ++f) b[rng() % b.size()] = static_cast<char>(rng());
    write_file(path, b);
    try {
      const network net = load_onnx(path);
      ++loaded;
      if (net.input.size() <= 4096) forward(net, std::vector<float>(net.input.size(), 0.5f).data());
    } catch (const config_error&) {
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 0);
  EXPECT_GT(loaded, 0);  // flips inside float weights leave a valid model
}

// ---------------------------------------------------------------- external data

// A FLOAT initializer whose values live in a side file (TensorProto.external_data, data_location
// EXTERNAL), as onnx.save_model(..., save_as_external_data=True) writes it.
std::string external_tensor(const std::string& name, const std::vector<std::int64_t>& dims, const std::string& location,
                            std::int64_t offset = -1, std::int64_t length = -1) {
  std::string t;
  for (const auto d : dims) t += vint(1, d);
  t += vint(2, 1) + bytes(8, name);
  auto entry = [](const std::string& key, const std::string& v) { return bytes(13, bytes(1, key) + bytes(2, v)); };
  t += entry("location", location);
  if (offset >= 0) t += entry("offset", std::to_string(offset));
  if (length >= 0) t += entry("length", std::to_string(length));
  return t + vint(14, 1);
}

std::string float_bytes(const std::vector<float>& v) {
  std::string b;
  for (const float f : v) b += f32_bits(f);
  return b;
}

// A dense layer y = W x + b with W and b in external data, and the same model with inline data.
struct external_case {
  std::string dir;
  std::vector<float> w = {1, 2, 3, 4, 5, 6, 7, 8, -1, -2, -3, -4}, b = {0.5f, -0.5f, 2};
};

std::string gemm_model(const std::string& w_tensor, const std::string& b_tensor) {
  return model_bytes(node("Gemm", {"x", "w", "b"}, "y", "fc", attr_int("transB", 1)), {w_tensor, b_tensor}, value("x", {-1, 4}),
                     value("y", {-1, 3}));
}

TEST(onnx_reader, external_data_loads_like_inline_data) {
  external_case c;
  c.dir = temp_path("external_ok");
  std::filesystem::remove_all(c.dir);
  std::filesystem::create_directories(c.dir + "/weights");
  // Both tensors in one file, after 8 bytes of padding, as all_tensors_to_one_file with alignment writes.
  write_file(c.dir + "/weights/model.data", std::string(8, '\xee') + float_bytes(c.w) + float_bytes(c.b));
  write_file(c.dir + "/model.onnx", gemm_model(external_tensor("w", {3, 4}, "weights/model.data", 8, 48),
                                               external_tensor("b", {3}, "./weights/model.data", 56)));
  write_file(c.dir + "/inline.onnx", gemm_model(float_tensor("w", {3, 4}, c.w), float_tensor("b", {3}, c.b)));
  const onnx::model m = onnx::read_model(c.dir + "/model.onnx");
  EXPECT_EQ(m.initializers.at("w").floats, c.w);
  EXPECT_EQ(m.initializers.at("b").floats, c.b);
  const network ext = load_onnx(c.dir + "/model.onnx"), in = load_onnx(c.dir + "/inline.onnx");
  const std::vector<float> x = {1, -1, 0.5f, 2};
  EXPECT_EQ(forward(ext, x.data()), forward(in, x.data()));
  EXPECT_EQ(ext.layers.at(0).weights, in.layers.at(0).weights);
}

TEST(onnx_reader, external_data_outside_the_folder_or_past_the_file_is_refused) {
  external_case c;
  c.dir = temp_path("external_bad");
  std::filesystem::remove_all(c.dir);
  std::filesystem::create_directories(c.dir + "/model");
  write_file(c.dir + "/model/w.bin", float_bytes(c.w));
  write_file(c.dir + "/outside.bin", float_bytes(c.w) + float_bytes(c.b));
  std::filesystem::create_symlink(c.dir + "/outside.bin", c.dir + "/model/link.bin");
  struct bad {
    std::string w_location;
    std::int64_t offset, length;
    std::string expected;
  };
  const std::string label = "initializer tensor 'w' keeps its data in an external file, but ";
  const std::vector<bad> cases = {
      {"../outside.bin", -1, -1, "its location '../outside.bin' is outside the model's folder"},
      {"sub/../../outside.bin", -1, -1, "its location 'sub/../../outside.bin' is outside the model's folder"},
      {c.dir + "/outside.bin", -1, -1, "is outside the model's folder"},
      {"link.bin", -1, -1, "its location 'link.bin' leads outside the model's folder"},
      {"missing.bin", -1, -1, "does not exist or is not a regular file"},
      {"w.bin", 8, 48, "w.bin has 48 bytes, too short for bytes 8..56 (offset + length)"},
      {"w.bin", 100, -1, "w.bin has 48 bytes, too short for bytes 100..100"},
      {"w.bin", -1, 40, "corrupt ONNX (initializer tensor 'w' has 40 bytes of raw_data, expected 12 x 4)"},
  };
  for (const bad& b : cases) {
    const std::string path = c.dir + "/model/model.onnx";
    write_file(path, gemm_model(external_tensor("w", {3, 4}, b.w_location, b.offset, b.length), float_tensor("b", {3}, c.b)));
    const std::string e = error_of([&] { load_onnx(path); });
    EXPECT_EQ(e.rfind(path + ": ", 0), 0u) << e;
    if (b.expected.rfind("corrupt", 0) != 0) {
      EXPECT_NE(e.find(label), std::string::npos) << e;
    }
    EXPECT_NE(e.find(b.expected), std::string::npos) << "got      " << e << "\nexpected " << b.expected;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  }
  // Bytes in memory have no folder to resolve a location against.
  const std::string e = error_of([&] { parse(gemm_model(external_tensor("w", {3, 4}, "w.bin"), float_tensor("b", {3}, c.b))); });
  EXPECT_NE(e.find("mem.onnx: " + label + "the model was not read from a file"), std::string::npos) << e;
}

// ---------------------------------------------------------------- the ONNX checker

// What onnx::checker::check_model refuses is refused with its reason, in one line naming the file.
TEST(onnx_reader, checker_rejections_are_one_line_with_the_reason) {
  struct bad {
    const char* name;
    std::string model;
    const char* expected;
  };
  const std::string flat_in = value("x", {-1, 4}), y = value("y", {-1, 4});
  const std::vector<bad> cases = {
      {"unknown_op", model_bytes(node("NoSuchOp", {"x"}, "y", "n"), {}, flat_in, y),
       "the ONNX checker rejects the model: No Op registered for NoSuchOp with domain_version of 13 (Bad node spec for "
       "node. Name: n OpType: NoSuchOp)"},
      {"missing_input", model_bytes(node("Relu", {"nowhere"}, "y", "r"), {}, flat_in, y),
       "the ONNX checker rejects the model: Nodes in a graph must be topologically sorted, however input 'nowhere' of "
       "node: name: r OpType: Relu is not output of any previous nodes."},
      {"no_domain_import", model_bytes(node("Relu", {"x"}, "y", "r", "", "com.example"), {}, flat_in, y),
       "the ONNX checker rejects the model: No opset import for domain 'com.example'"},
      {"ir_too_new", model_bytes(node("Relu", {"x"}, "y", "r"), {}, flat_in, y) + vint(1, 9),  // the last ir_version wins
       "the ONNX checker rejects the model: Your model ir_version is higher than the checker's. (axsa reads ONNX with "
       "the ONNX 1.12 library: IR version 8 at most; export with an older exporter or opset)"},
  };
  for (const bad& c : cases) {
    const std::string e = load_error(c.name, c.model);
    EXPECT_EQ(e.rfind(temp_path(c.name) + ".onnx: ", 0), 0u) << e;
    EXPECT_NE(e.find(c.expected), std::string::npos) << c.name << ":\n  got      " << e << "\n  expected " << c.expected;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  }
}

// ---------------------------------------------------------------- network import

TEST(network, lenet_layers_and_shapes) {
  const network net = load_onnx(lenet_path);
  EXPECT_EQ(net.source, lenet_path);
  EXPECT_EQ(net.input, (tensor_shape{1, 28, 28}));
  using k = layer_kind;
  const std::vector<std::pair<k, tensor_shape>> expected = {
      {k::conv, {6, 28, 28}},    {k::relu, {6, 28, 28}},    {k::max_pool, {6, 14, 14}}, {k::conv, {16, 10, 10}},
      {k::relu, {16, 10, 10}},   {k::max_pool, {16, 5, 5}}, {k::flatten, {400, 1, 1}},  {k::dense, {120, 1, 1}},
      {k::relu, {120, 1, 1}},    {k::dense, {84, 1, 1}},    {k::relu, {84, 1, 1}},      {k::dense, {10, 1, 1}}};
  ASSERT_EQ(net.layers.size(), expected.size());
  tensor_shape prev = net.input;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const layer& l = net.layers[i];
    EXPECT_EQ(l.kind, expected[i].first) << i << " " << l.name;
    EXPECT_EQ(l.out, expected[i].second) << i << " " << l.name << " " << to_string(l.out);
    EXPECT_EQ(l.in, prev) << i;
    prev = l.out;
  }
  EXPECT_EQ(net.classes(), 10u);
  const layer& conv1 = net.layers[0];
  EXPECT_EQ(conv1.name, "/conv1/Conv");
  EXPECT_EQ(conv1.kh, 5u);
  EXPECT_EQ(conv1.kw, 5u);
  EXPECT_EQ(conv1.pad_top + conv1.pad_left + conv1.pad_bottom + conv1.pad_right, 8u);
  EXPECT_EQ(conv1.weights.size(), 6u * 1 * 5 * 5);
  EXPECT_EQ(conv1.bias.size(), 6u);
  EXPECT_EQ(net.layers[2].stride_h, 2u);
  EXPECT_EQ(net.layers[2].kh, 2u);
  EXPECT_EQ(net.layers[3].pad_top, 0u);
  // Gemm with transB = 1 keeps the [out][in] layout of the file.
  const onnx::model m = onnx::read_model(lenet_path);
  EXPECT_EQ(net.layers[7].weights, m.initializers.at("fc1.weight").floats);
  EXPECT_EQ(net.layers[7].bias, m.initializers.at("fc1.bias").floats);
  EXPECT_EQ(net.layers[7].name, "/fc1/Gemm");
}

TEST(network, lenet_float_accuracy_on_mnist_matches_pytorch) {
  const dataset d = load_mnist_or_fail("t10k");
  ASSERT_EQ(d.images.count, 10000u) << "run scripts/fetch_mnist.sh";
  const network net = load_onnx(lenet_path);
  check_input(net, d.images);
  std::ifstream json(source_dir + "/models/lenet5.json");
  std::string text((std::istreambuf_iterator<char>(json)), std::istreambuf_iterator<char>());
  const auto at = text.find("\"test_correct\":");
  ASSERT_NE(at, std::string::npos) << "models/lenet5.json has no test_correct";
  const long pytorch_correct = std::stol(text.substr(at + 15));
  std::vector<float> x(28 * 28);
  long correct = 0;
  for (std::size_t i = 0; i < d.images.count; ++i) {
    const std::uint8_t* px = d.images.image(i);
    for (std::size_t p = 0; p < x.size(); ++p) x[p] = static_cast<float>(px[p]) / 255.0f;
    const std::vector<float> logits = forward(net, x.data());
    const auto best = std::max_element(logits.begin(), logits.end()) - logits.begin();
    correct += best == d.labels.labels[i];
  }
  std::printf("[ float    ] LeNet-5 C++ float forward: %ld/10000 correct (PyTorch: %ld)\n", correct, pytorch_correct);
  RecordProperty("float_correct", static_cast<int>(correct));
  EXPECT_LE(std::labs(correct - pytorch_correct), 2L) << "C++ " << correct << " vs PyTorch " << pytorch_correct;
}

struct reference_case {
  std::string model;
  std::vector<float> input;
  std::vector<double> output;
};

std::vector<reference_case> read_references() {
  std::ifstream in(fixtures + "reference_outputs.txt");
  std::vector<reference_case> cases;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream s(line);
    std::string key;
    s >> key;
    std::size_t n = 0;
    if (key == "model") {
      cases.emplace_back();
      s >> cases.back().model;
    } else if (key == "input" && s >> n) {
      cases.back().input.resize(n);
      for (float& v : cases.back().input) s >> v;
    } else if (key == "input_pattern" && s >> n) {  // x[i] = ((i * 7919) mod 256) / 256
      for (std::size_t i = 0; i < n; ++i) cases.back().input.push_back(static_cast<float>((i * 7919) % 256) / 256.0f);
    } else if (key == "output" && s >> n) {
      cases.back().output.resize(n);
      for (double& v : cases.back().output) s >> v;
    }
    EXPECT_FALSE(s.fail()) << line.substr(0, 80);
  }
  return cases;
}

TEST(network, fixture_forward_matches_numpy_reference) {
  const std::vector<reference_case> cases = read_references();
  ASSERT_GE(cases.size(), 8u) << "tests/fixtures/reference_outputs.txt";
  std::set<std::string> models;
  for (const reference_case& c : cases) {
    const network net = load_onnx(fixtures + c.model);
    ASSERT_EQ(c.input.size(), net.input.size()) << c.model;
    // Every exit's output, shallowest first (a single-exit network has one).
    std::vector<float> out;
    for (const auto& e : forward_exits(net, c.input.data())) out.insert(out.end(), e.begin(), e.end());
    ASSERT_EQ(out.size(), c.output.size()) << c.model;
    for (std::size_t i = 0; i < out.size(); ++i) {
      EXPECT_NEAR(out[i], c.output[i], 1e-5) << c.model << " output " << i;
    }
    models.insert(c.model);
  }
  EXPECT_EQ(models.size(), 5u);
}

TEST(network, forward_all_keeps_every_layer_output) {
  const network net = load_onnx(fixtures + "conv_avgpool_softmax.onnx");
  std::vector<float> x(net.input.size());
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 7) / 7.0f;
  const auto outs = forward_all(net, x.data());
  ASSERT_EQ(outs.size(), net.layers.size());
  for (std::size_t i = 0; i < outs.size(); ++i) EXPECT_EQ(outs[i].size(), net.layers[i].out.size()) << i;
  for (const float v : outs[1]) EXPECT_GE(v, 0.0f);  // after the ReLU
  EXPECT_EQ(outs.back(), forward(net, x.data()));
  double total = 0;
  for (const float v : outs.back()) total += v;
  EXPECT_NEAR(total, 1.0, 1e-6);  // softmax
}

TEST(network, matmul_add_folds_into_dense_with_bias) {
  const network net = load_onnx(fixtures + "mlp_matmul_add.onnx");
  const onnx::model m = onnx::read_model(fixtures + "mlp_matmul_add.onnx");
  EXPECT_EQ(net.input, (tensor_shape{16, 1, 1}));
  ASSERT_EQ(net.layers.size(), 3u);
  EXPECT_EQ(net.layers[0].kind, layer_kind::dense);
  EXPECT_EQ(net.layers[0].name, "fc1");
  EXPECT_EQ(net.layers[0].bias, m.initializers.at("b1").floats);
  EXPECT_EQ(net.layers[2].bias, m.initializers.at("b2").floats);  // Add(bias, x): bias first
  // MatMul weights are [in][out] in the file, [out][in] in the layer.
  const auto& w1 = m.initializers.at("w1").floats;
  EXPECT_EQ(net.layers[0].weights[3 * 16 + 5], w1[5 * 8 + 3]);
  EXPECT_EQ(net.classes(), 4u);
}

TEST(network, conv_fixture_layers) {
  const network net = load_onnx(fixtures + "conv_avgpool_softmax.onnx");
  using k = layer_kind;
  const std::vector<k> kinds = {k::conv, k::relu, k::avg_pool, k::conv, k::max_pool, k::avg_pool, k::flatten, k::dense, k::softmax};
  ASSERT_EQ(net.layers.size(), kinds.size());
  for (std::size_t i = 0; i < kinds.size(); ++i) EXPECT_EQ(net.layers[i].kind, kinds[i]) << i;
  EXPECT_EQ(net.layers[0].bias, std::vector<float>(3, 0.0f));  // Conv without B
  const layer& conv2 = net.layers[3];
  EXPECT_EQ(conv2.out, (tensor_shape{4, 2, 4}));
  EXPECT_EQ(conv2.kh, 3u);
  EXPECT_EQ(conv2.kw, 2u);
  EXPECT_EQ(conv2.stride_h, 2u);
  EXPECT_EQ(conv2.stride_w, 1u);
  EXPECT_EQ(conv2.pad_top, 1u);
  EXPECT_EQ(conv2.pad_right, 1u);
  EXPECT_EQ(conv2.pad_left + conv2.pad_bottom, 0u);
  EXPECT_EQ(net.layers[6].name, "reshape");
  EXPECT_EQ(net.layers[6].out, (tensor_shape{32, 1, 1}));
  EXPECT_EQ(net.layers[8].out, (tensor_shape{5, 1, 1}));
}

TEST(network, unsupported_op_names_op_and_node) {
  const std::string path = fixtures + "sigmoid_act1.onnx";
  const std::string e = error_of([&] { load_onnx(path); });
  EXPECT_NE(e.find(path + ": node 'act1' uses op Sigmoid, which axsa does not support (supported: Conv, Gemm, "
                          "MatMul, Add, Relu, MaxPool, AveragePool, Flatten, Reshape, Softmax)"),
            std::string::npos)
      << e;
}

TEST(network, branches_that_merge_again_are_rejected) {
  const std::string e = error_of([] { load_onnx(fixtures + "branch_concat.onnx"); });
  EXPECT_NE(e.find("branch_concat.onnx: the graph branches and merges again: tensor 'y' (from node 'r1') feeds 2 "
                   "nodes ('r2', 'r3')"),
            std::string::npos)
      << e;
}

TEST(network, multi_exit_graph_imports_trunk_and_heads) {
  const network net = load_onnx(fixtures + "multiexit_tiny.onnx");
  EXPECT_EQ(net.output, "final");
  ASSERT_EQ(net.exit_count(), 3u);
  // Trunk: conv1 relu1 pool1 conv2 relu2 flatten fc.
  ASSERT_EQ(net.layers.size(), 7u);
  EXPECT_EQ(net.layers[3].name, "conv2");
  EXPECT_EQ(net.layers[6].name, "fc");
  EXPECT_EQ(net.exits[0].output, "exit1");
  EXPECT_EQ(net.exits[0].branch, 3u);  // after pool1
  ASSERT_EQ(net.exits[0].layers.size(), 2u);
  EXPECT_EQ(net.exits[0].layers[0].in, (tensor_shape{4, 6, 6}));
  EXPECT_EQ(net.exits[1].output, "exit2");
  EXPECT_EQ(net.exits[1].branch, 4u);  // after conv2, before its ReLU
  EXPECT_EQ(net.exits[1].layers[0].kind, layer_kind::relu);
  EXPECT_EQ(net.exit_name(0), "exit1");
  EXPECT_EQ(net.exit_name(2), "final");
  for (const exit_head& e : net.exits) EXPECT_EQ(e.layers.back().out, (tensor_shape{10, 1, 1}));
  // The final exit's forward pass is the trunk's.
  std::vector<float> x(net.input.size(), 0.25f);
  EXPECT_EQ(forward_exits(net, x.data()).back(), forward(net, x.data()));
}

// The last graph output is the final exit; exits are ordered by where they branch off, whatever
// their order among the other outputs.
TEST(network, multi_exit_trunk_ends_in_the_last_output) {
  const std::string w = float_tensor("w", {3, 4}, std::vector<float>(12, 0.1f));
  const std::string v = float_tensor("v", {3, 4}, std::vector<float>(12, 0.2f));
  const std::string u = float_tensor("u", {4, 4}, std::vector<float>(16, 0.3f));
  const std::string nodes = node("Relu", {"x"}, "r", "relu") + node("Gemm", {"r", "u"}, "h", "hidden", attr_int("transB", 1)) +
                            node("Gemm", {"h", "w"}, "deep", "fc", attr_int("transB", 1)) +
                            node("Gemm", {"h", "w"}, "middle", "middle_fc", attr_int("transB", 1)) +
                            node("Gemm", {"r", "v"}, "early", "early_fc", attr_int("transB", 1));
  const network net = load_bytes("order", model_bytes(nodes, {w, v, u}, value("x", {-1, 4}),
                                                      std::vector<std::string>{value("middle", {-1, 3}), value("early", {-1, 3}), value("deep", {-1, 3})}));
  EXPECT_EQ(net.output, "deep");
  ASSERT_EQ(net.exits.size(), 2u);
  EXPECT_EQ(net.exits[0].output, "early");
  EXPECT_EQ(net.exits[0].branch, 1u);
  EXPECT_EQ(net.exits[1].output, "middle");
  EXPECT_EQ(net.exits[1].branch, 2u);
  const std::vector<float> x = {1, -2, 3, -4};
  const auto outs = forward_exits(net, x.data());
  ASSERT_EQ(outs.size(), 3u);
  // early = v . relu(x) = 0.2 * (1 + 3) per class; middle = deep = w . (u . relu(x)) = 0.1 * 4 * 1.2.
  for (const float o : outs[0]) EXPECT_NEAR(o, 0.8f, 1e-6);
  for (const float o : outs[1]) EXPECT_NEAR(o, 0.48f, 1e-6);
  EXPECT_EQ(outs[1], outs[2]);
}

// Malformed multi-exit graphs: one line naming the node or tensor and what is wrong.
TEST(network, malformed_multi_exit_graphs_are_named) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      // A cycle is never topologically sorted: the checker refuses it before axsa's import looks.
      {"exits_cycle.onnx", "the ONNX checker rejects the model: Nodes in a graph must be topologically sorted, however input "
                           "'loop' of node: name: head_add OpType: Add is not output of any previous nodes."},
      {"exits_dangling.onnx", "tensor 'lost' (from node 'head_fc') feeds no node and is not a graph output: a dangling "
                              "exit head (it branches off the trunk at 'r')"},
      {"exits_unsupported_op.onnx", "node 'head_sigmoid' uses op Sigmoid, which axsa does not support"},
      {"exits_not_classes.onnx", "exit 'exit1' (its head ends in node 'head_fc') produces 6 values per image; an exit "
                                 "must produce a class vector like the final exit 'final' (10)"},
  };
  for (const auto& [file, expected] : cases) {
    const std::string path = fixtures + file;  // C++17 lambdas cannot capture a structured binding (clang)
    const std::string e = error_of([&] { load_onnx(path); });
    EXPECT_NE(e.find(fixtures + file + ": "), std::string::npos) << e;
    EXPECT_NE(e.find(expected), std::string::npos) << file << ":\n  got      " << e << "\n  expected " << expected;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  }
  const std::string w = float_tensor("w", {3, 4}, std::vector<float>(12, 0.1f));
  const std::string v = float_tensor("v", {4, 3}, std::vector<float>(12, 0.1f));
  const std::string flat_in = value("x", {-1, 4});
  struct bad {
    const char* name;
    std::string model;
    const char* expected;
  };
  const std::vector<bad> more = {
      {"head_branches", model_bytes(node("Relu", {"x"}, "r", "relu") + node("Gemm", {"r", "w"}, "y", "fc", attr_int("transB", 1)) +
                                        node("Relu", {"r"}, "h", "head") + node("Gemm", {"h", "w"}, "e1", "h1", attr_int("transB", 1)) +
                                        node("Gemm", {"h", "w"}, "e2", "h2", attr_int("transB", 1)),
                                    {w}, flat_in, std::vector<std::string>{value("e1", {-1, 3}), value("e2", {-1, 3}), value("y", {-1, 3})}),
       "the exit head branching off at 'r' branches again: tensor 'h' (from node 'head') feeds 2 nodes ('h1', 'h2')"},
      {"output_on_trunk", model_bytes(node("Relu", {"x"}, "r", "relu") + node("Gemm", {"r", "w"}, "y", "fc", attr_int("transB", 1)),
                                      {w}, flat_in, std::vector<std::string>{value("r", {-1, 4}), value("y", {-1, 3})}),
       "graph output 'r' (from node 'relu') lies on the trunk"},
      {"exit_feeds_more", model_bytes(node("Relu", {"x"}, "r", "relu") + node("Gemm", {"r", "w"}, "y", "fc", attr_int("transB", 1)) +
                                          node("Gemm", {"r", "w"}, "e", "head", attr_int("transB", 1)) + node("Relu", {"e"}, "z", "after"),
                                      {w}, flat_in, std::vector<std::string>{value("e", {-1, 3}), value("y", {-1, 3})}),
       "exit output 'e' (from node 'head') also feeds 'after'"},
      {"matmul_bias_branch", model_bytes(node("MatMul", {"x", "v"}, "m", "mm") + node("Add", {"m", "b"}, "y", "bias") +
                                             node("Relu", {"m"}, "e", "head"),
                                         {v, float_tensor("b", {3}, {1, 2, 3})}, flat_in, std::vector<std::string>{value("e", {-1, 3}), value("y", {-1, 3})}),
       "node 'head' (Relu) branches off between a MatMul and its bias Add ('m')"},
      {"exit_declared_wrong", model_bytes(node("Relu", {"x"}, "r", "relu") + node("Gemm", {"r", "w"}, "y", "fc", attr_int("transB", 1)) +
                                              node("Gemm", {"r", "w"}, "e", "head", attr_int("transB", 1)),
                                          {w}, flat_in, std::vector<std::string>{value("y", {-1, 3}), value("e", {-1, 7})}),
       "ONNX shape inference rejects the model: [ShapeInferenceError] (op_type:Gemm, node name: head): "
       "[ShapeInferenceError] Inferred shape and existing shape differ in dimension 1: (3) vs (7)"},
  };
  for (const bad& c : more) {
    const std::string e = load_error(c.name, c.model);
    EXPECT_NE(e.find(c.expected), std::string::npos) << c.name << ":\n  got      " << e << "\n  expected " << c.expected;
  }
}

TEST(network, corrupt_and_random_files_are_config_errors) {
  for (const char* name : {"truncated.onnx", "random_bytes.onnx"}) {
    const std::string e = error_of([&] { load_onnx(fixtures + name); });
    EXPECT_NE(e.find(fixtures + name + ": corrupt ONNX ("), std::string::npos) << e;
  }
}

TEST(network, input_shape_mismatch_is_rejected) {
  const network rgb = load_onnx(fixtures + "input_3x32x32.onnx");
  EXPECT_EQ(rgb.input, (tensor_shape{3, 32, 32}));
  idx_images mnist_like;
  mnist_like.count = 1;
  mnist_like.rows = 28;
  mnist_like.cols = 28;
  const std::string e = error_of([&] { check_input(rgb, mnist_like); });
  EXPECT_NE(e.find("input_3x32x32.onnx: the network's input is 3x32x32 (C x H x W) but the data set's images are 1x28x28"),
            std::string::npos)
      << e;
  EXPECT_NO_THROW(check_input(load_onnx(lenet_path), mnist_like));
  mnist_like.rows = 27;
  EXPECT_THROW(check_input(load_onnx(lenet_path), mnist_like), config_error);
}

// Hand-built graphs for the rules the fixtures do not reach; each must name the node and the rule.
TEST(network, unsupported_attributes_and_shapes_are_named) {
  const std::string in4 = value("x", {-1, 2, 4, 4}), flat_in = value("x", {-1, 4});
  const std::string w = float_tensor("w", {2, 2, 3, 3}, std::vector<float>(36, 0.1f));
  const std::string fc = float_tensor("fc", {3, 4}, std::vector<float>(12, 0.1f));
  const std::string shape_ok = int64_tensor("s", {0, -1}), shape_bad = int64_tensor("s", {2, -1});
  struct bad {
    const char* name;
    std::string model;
    const char* expected;
  };
  const std::vector<bad> cases = {
      {"gemm_alpha", model_bytes(node("Gemm", {"x", "fc"}, "y", "g", attr_float("alpha", 2.0f) + attr_int("transB", 1)),
                                 {fc}, flat_in, value("y", {-1, 3})),
       "node 'g' (Gemm) has alpha = 2.000000, beta = 1.000000; axsa supports only alpha = beta = 1"},
      {"conv_group", model_bytes(node("Conv", {"x", "w"}, "y", "c", attr_int("group", 2)), {w}, in4, value("y", {-1, 2, 2, 2})),
       "node 'c' (Conv) has group = 2; axsa supports only 1"},
      {"conv_dilation", model_bytes(node("Conv", {"x", "w"}, "y", "c", attr_ints("dilations", {2, 2})), {w}, in4, unknown("y", 4)),
       "node 'c' (Conv) has dilations [2, 2]"},
      {"conv_same", model_bytes(node("Conv", {"x", "w"}, "y", "c", attr_string("auto_pad", "SAME_UPPER")), {w}, in4, unknown("y", 4)),
       "node 'c' (Conv) has auto_pad = 'SAME_UPPER'; axsa supports only NOTSET"},
      {"conv_channels", model_bytes(node("Conv", {"x", "w"}, "y", "c"), {w}, value("x", {-1, 3, 4, 4}), unknown("y", 4)),
       "for 2 input channels, but its input is 3x4x4"},
      {"conv_weights_input", model_bytes(node("Conv", {"x", "nope"}, "y", "c"), {}, in4, unknown("y", 4)),
       "the ONNX checker rejects the model: Nodes in a graph must be topologically sorted, however input 'nope' of node: "
       "name: c OpType: Conv is not output of any previous nodes."},
      {"pool_ceil", model_bytes(node("MaxPool", {"x"}, "y", "p", attr_ints("kernel_shape", {2, 2}) + attr_int("ceil_mode", 1)), {}, in4, unknown("y", 4)),
       "node 'p' (MaxPool) has ceil_mode = 1; axsa supports only 0"},
      {"pool_count_pad", model_bytes(node("AveragePool", {"x"}, "y", "p", attr_ints("kernel_shape", {3, 3}) +
                                          attr_ints("pads", {1, 1, 1, 1}) + attr_int("count_include_pad", 1)), {}, in4, unknown("y", 4)),
       "node 'p' (AveragePool) has count_include_pad = 1 with padding"},
      {"pool_no_kernel", model_bytes(node("MaxPool", {"x"}, "y", "p"), {}, in4, unknown("y", 4)), 
       "the ONNX checker rejects the model: Required attribute 'kernel_shape' is missing. (Bad node spec for node. "
       "Name: p OpType: MaxPool)"},
      {"add_not_bias", model_bytes(node("Relu", {"x"}, "r", "relu") + node("Add", {"r", "b"}, "y", "plus"),
                                   {float_tensor("b", {4}, {1, 2, 3, 4})}, flat_in, value("y", {-1, 4})),
       "node 'plus' (Add) is not the bias of a MatMul"},
      {"reshape_bad", model_bytes(node("Reshape", {"x", "s"}, "y", "rs"), {shape_bad}, in4, unknown("y", 2)),
       "node 'rs' (Reshape) reshapes 2x4x4 to [2, -1]; axsa supports Reshape only as a flatten"},
      {"softmax_4d", model_bytes(node("Softmax", {"x"}, "y", "sm"), {}, in4, unknown("y", 4)),
       "node 'sm' (Softmax) needs a flat [batch, features] input but gets 2x4x4"},
      {"gemm_unflattened", model_bytes(node("Gemm", {"x", "fc"}, "y", "g"), {fc}, in4, unknown("y", 2)),
       "node 'g' (Gemm) needs a flat [batch, features] input but gets 2x4x4 (C x H x W); add a Flatten"},
      {"dense_size", model_bytes(node("Flatten", {"x"}, "f", "fl") + node("Gemm", {"f", "fc"}, "y", "g", attr_int("transB", 1)),
                                 {fc}, in4, unknown("y", 2)),
       "node 'g' (Gemm) weights 'fc' of shape [3, 4] take 4 inputs, but the flattened input has 32"},
      {"dangling", model_bytes(node("Relu", {"x"}, "y", "r") + node("Relu", {"q"}, "z", "lost"),
                               {float_tensor("q", {1, 4}, {1, 2, 3, 4})}, flat_in, unknown("y", 2)),
       "node 'lost' (Relu) is not on the chain from input 'x' to output 'y'"},
      {"dead_end", model_bytes(node("Relu", {"x"}, "q", "r"), {}, flat_in, unknown("y", 2)),
       "tensor 'q' (from node 'r') feeds no node and is not the graph output 'y'"},
      {"symbolic_channels", model_bytes(node("Relu", {"x"}, "y", "r"), {}, value("x", {-1, -1, 4, 4}), unknown("y", 4)),
       "graph input 'x' has shape [?, ?, 4, 4]; axsa needs [batch, C, H, W] with known C, H, W"},
      {"custom_domain", with_opset(model_bytes(node("Relu", {"x"}, "y", "r", "", "com.example"), {}, flat_in, unknown("y", 2)), "com.example"),
       "node 'r' uses op com.example.Relu, which axsa does not support"},
      {"unknown_attribute", model_bytes(node("Relu", {"x"}, "y", "r", attr_int("alpha", 1)), {}, flat_in, unknown("y", 2)),
       "the ONNX checker rejects the model: Unrecognized attribute: alpha for operator Relu (Bad node spec for node. "
       "Name: r OpType: Relu)"},
      {"output_mismatch", model_bytes(node("Relu", {"x"}, "y", "r"), {}, flat_in, value("y", {-1, 5})),
       "ONNX shape inference rejects the model: [ShapeInferenceError] (op_type:Relu, node name: r): [ShapeInferenceError] "
       "Inferred shape and existing shape differ in dimension 1: (4) vs (5)"},
      {"nan_weight", model_bytes(node("Gemm", {"x", "fc"}, "y", "g", attr_int("transB", 1)),
                                 {float_tensor("fc", {3, 4}, {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, std::nanf(""), 0, 0, 0, 0, 0, 0})},
                                 flat_in, value("y", {-1, 3})),
       "node 'g' (Gemm) input B 'fc' has a non-finite value (nan) at element 5"},
      {"inf_bias", model_bytes(node("Gemm", {"x", "fc", "b"}, "y", "g", attr_int("transB", 1)),
                               {fc, float_tensor("b", {3}, {0.0f, -HUGE_VALF, 1.0f})}, flat_in, value("y", {-1, 3})),
       "node 'g' (Gemm) input bias 'b' has a non-finite value (-inf) at element 1"},
      {"unnamed_node", model_bytes(bytes(1, bytes(1, "x") + bytes(2, "y") + bytes(4, "Tanh")), {}, flat_in, unknown("y", 2)),
       "node 'Tanh#0' uses op Tanh"},
  };
  for (const bad& c : cases) {
    const std::string e = load_error(c.name, c.model);
    EXPECT_NE(e.find(temp_path(c.name) + ".onnx: "), std::string::npos) << c.name << ": " << e;
    EXPECT_NE(e.find(c.expected), std::string::npos) << c.name << ":\n  got      " << e << "\n  expected " << c.expected;
  }
  // The good twin of reshape_bad, and a Reshape whose shape comes from a Constant node.
  EXPECT_EQ(load_bytes("reshape_ok", model_bytes(node("Reshape", {"x", "s"}, "y", "rs"), {shape_ok}, in4, value("y", {-1, 32})))
                .layers.at(0).out, (tensor_shape{32, 1, 1}));
  const std::string constant = node("Constant", {}, "s", "k", bytes(5, bytes(1, "value") + vint(20, 4) + bytes(5, int64_tensor("v", {1, 32}))));
  EXPECT_EQ(load_bytes("reshape_const", model_bytes(constant + node("Reshape", {"x", "s"}, "y", "rs"), {}, in4, unknown("y", 2)))
                .layers.size(), 1u);
}

TEST(network, unpacked_attributes_and_float_data_import) {
  // Conv with pads written unpacked, strides packed, weights as unpacked float_data: a 1x1 kernel
  // of weight 2 and bias 1 on a 1x3x3 input, stride 2, pad 1 on every side.
  const std::string attrs = attr_ints("pads", {1, 1, 1, 1}, false) + attr_ints("strides", {2, 2});
  const network net = load_bytes("unpacked", model_bytes(node("Conv", {"x", "w", "b"}, "y", "c", attrs),
                                                         {float_tensor("w", {1, 1, 1, 1}, {2.0f}, true), float_tensor("b", {1}, {1.0f}, true)},
                                                         value("x", {1, 1, 3, 3}), value("y", {1, 1, 3, 3})));
  ASSERT_EQ(net.layers.size(), 1u);
  EXPECT_EQ(net.layers[0].out, (tensor_shape{1, 3, 3}));
  const std::vector<float> x = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  // Output (i, j) reads input (2i-1, 2j-1): only (1,1) -> input (1,1) = 5 is inside the image.
  EXPECT_EQ(forward(net, x.data()), (std::vector<float>{1, 1, 1, 1, 11, 1, 1, 1, 1}));
}

}  // namespace
}  // namespace axsa::sw
