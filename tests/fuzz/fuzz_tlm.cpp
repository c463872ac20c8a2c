// libFuzzer target: the accelerator's TLM-2.0 target (tlm/accelerator.h) driven by random transaction
// sequences: command, address (near a window or anywhere), length, streaming width, byte enables, data,
// register writes in any order (jobs start, fail, run while the bus keeps talking), time advancing,
// debug transport and DMI requests. Every b_transport answer is checked against an independent reading
// of the response table in docs/tlm-register-map.md (checks in the base protocol's order: address,
// command, burst, byte enables); a wrong status, a crash, or a job that never ends (libFuzzer's
// -timeout) is a finding. One accelerator serves all inputs (SystemC elaborates once per process): each
// input starts after the last job has drained and the writable registers are back at zero.
// AXSA_FUZZ_TALLY=1 prints, at exit, how often each kind of answer was given (docs/fuzzing.md).
#include <fuzzer/FuzzedDataProvider.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include "tests/fuzz/fuzz_support.h"
#include "tlm/accelerator.h"

namespace {

namespace acc = axsa::tlm_model;
using axsa::fuzz::finding;

struct host : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<host> socket{"socket"};
  explicit host(const sc_core::sc_module_name& n) : sc_core::sc_module(n) {}
};

struct bench {
  axsa::hw::array_config cfg;
  acc::buffer_sizes sizes;
  std::unique_ptr<acc::accelerator> target;
  std::unique_ptr<host> h;
  std::unique_ptr<sc_core::sc_signal<bool>> irq;
};

bench* the_bench = nullptr;

// Tally of answers, by what the oracle expected (for docs/fuzzing.md and the corpus test).
std::map<std::string, std::uint64_t> tally;

void print_tally() {
  for (const auto& [what, n] : tally) std::fprintf(stderr, "tally %s %llu\n", what.c_str(), static_cast<unsigned long long>(n));
}

bool writable(std::uint64_t offset) {
  switch (offset) {
    case acc::reg::ctrl:
    case acc::reg::irq_enable:
    case acc::reg::m:
    case acc::reg::k:
    case acc::reg::n:
    case acc::reg::act_offset:
    case acc::reg::wgt_offset:
    case acc::reg::out_offset: return true;
    default: return false;
  }
}

struct expectation {
  tlm::tlm_response_status status;
  std::string why;
};

// The response table, read independently of the implementation.
expectation expected(const bench& b, tlm::tlm_command cmd, std::uint64_t address, std::uint64_t length,
                     std::uint64_t streaming, bool byte_enables, bool busy) {
  struct window {
    std::uint64_t base, bytes, element;
    const char* name;
  };
  const window windows[] = {{acc::reg_base, acc::reg_window_bytes, 4, "reg"},
                            {acc::act_base, b.sizes.act_bytes, 2, "act"},
                            {acc::weight_base, b.sizes.weight_bytes, 2, "weight"},
                            {acc::out_base, b.sizes.out_bytes, 8, "out"}};
  for (const window& w : windows) {
    if (address < w.base || address - w.base >= w.bytes) continue;
    const std::uint64_t offset = address - w.base;
    const std::string at = w.name;
    if (w.base == acc::reg_base) {
      if (offset % 4 != 0) return {tlm::TLM_ADDRESS_ERROR_RESPONSE, "reg misaligned"};
      if (offset > acc::reg::last) return {tlm::TLM_ADDRESS_ERROR_RESPONSE, "reg hole"};
      if (cmd == tlm::TLM_IGNORE_COMMAND) return {tlm::TLM_OK_RESPONSE, "reg ignore"};
      if (cmd == tlm::TLM_WRITE_COMMAND && !writable(offset)) return {tlm::TLM_COMMAND_ERROR_RESPONSE, "reg write read-only"};
      if (length != 4 || streaming != 4) return {tlm::TLM_BURST_ERROR_RESPONSE, "reg bad length or width"};
      if (byte_enables) return {tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE, "reg byte enables"};
      return {tlm::TLM_OK_RESPONSE, cmd == tlm::TLM_READ_COMMAND ? "reg read" : "reg write"};
    }
    if (length > w.bytes - offset) return {tlm::TLM_ADDRESS_ERROR_RESPONSE, at + " past the end"};
    if (offset % w.element != 0) return {tlm::TLM_ADDRESS_ERROR_RESPONSE, at + " misaligned"};
    if (cmd == tlm::TLM_IGNORE_COMMAND) return {tlm::TLM_OK_RESPONSE, at + " ignore"};
    if (cmd == tlm::TLM_WRITE_COMMAND && w.base == acc::out_base) return {tlm::TLM_COMMAND_ERROR_RESPONSE, "out write"};
    if (cmd == tlm::TLM_WRITE_COMMAND && busy) return {tlm::TLM_COMMAND_ERROR_RESPONSE, at + " write while busy"};
    if (length == 0 || streaming != length) return {tlm::TLM_BURST_ERROR_RESPONSE, at + " bad length or width"};
    if (byte_enables) return {tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE, at + " byte enables"};
    return {tlm::TLM_OK_RESPONSE, at + (cmd == tlm::TLM_READ_COMMAND ? " read" : " write")};
  }
  return {tlm::TLM_ADDRESS_ERROR_RESPONSE, "unmapped"};
}

constexpr std::size_t max_data = 20000;  // past every buffer of the bench

tlm::tlm_command pick_command(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange<int>(0, 2)) {
    case 0: return tlm::TLM_READ_COMMAND;
    case 1: return tlm::TLM_WRITE_COMMAND;
    default: return tlm::TLM_IGNORE_COMMAND;
  }
}

std::uint64_t pick_address(FuzzedDataProvider& in, const bench& b) {
  const std::uint64_t bases[] = {acc::reg_base, acc::act_base, acc::weight_base, acc::out_base};
  switch (in.ConsumeIntegralInRange<int>(0, 4)) {
    case 0: return in.ConsumeIntegral<std::uint64_t>();
    case 4: return bases[in.ConsumeIntegralInRange<int>(0, 3)] + in.ConsumeIntegralInRange<std::uint64_t>(0, 0x40);
    case 1: return bases[in.ConsumeIntegralInRange<int>(0, 3)] + 8 * in.ConsumeIntegralInRange<std::uint64_t>(0, 8);
    case 2: {  // near a buffer's end
      const std::uint64_t base = bases[in.ConsumeIntegralInRange<int>(1, 3)];
      const std::uint64_t bytes = base == acc::act_base ? b.sizes.act_bytes
                                  : base == acc::weight_base ? b.sizes.weight_bytes : b.sizes.out_bytes;
      return base + bytes - in.ConsumeIntegralInRange<std::uint64_t>(0, 64);
    }
    default: return bases[in.ConsumeIntegralInRange<int>(0, 3)] + in.ConsumeIntegral<std::uint32_t>();
  }
}

void do_transport(FuzzedDataProvider& in, bench& b, bool register_write) {
  tlm::tlm_command cmd;
  std::uint64_t address, length, streaming;
  std::vector<unsigned char> data(max_data, 0);
  std::vector<unsigned char> enables;
  bool use_enables = false;
  if (register_write) {  // a well-formed register write: the way jobs get programmed and started
    cmd = tlm::TLM_WRITE_COMMAND;
    address = acc::reg_base + 4 * in.ConsumeIntegralInRange<std::uint64_t>(0, acc::reg::last / 4);
    length = streaming = 4;
    const std::uint32_t value = in.ConsumeBool() ? in.ConsumeIntegralInRange<std::uint32_t>(0, 40)
                                                 : in.ConsumeIntegral<std::uint32_t>();
    for (unsigned i = 0; i < 4; ++i) data[i] = static_cast<unsigned char>(value >> (8 * i));
  } else {
    cmd = pick_command(in);
    address = pick_address(in, b);
    length = in.ConsumeBool() ? in.ConsumeIntegralInRange<std::uint64_t>(0, 16) * 2
                              : in.ConsumeIntegralInRange<std::uint64_t>(0, max_data);
    streaming = in.ConsumeBool() ? length : in.ConsumeIntegralInRange<std::uint64_t>(0, max_data);
    use_enables = in.ConsumeBool() && in.ConsumeBool();
    if (use_enables) {
      enables = in.ConsumeBytes<unsigned char>(in.ConsumeIntegralInRange<std::size_t>(1, 16));
      if (enables.empty()) enables.push_back(0xff);
    }
    const auto bytes = in.ConsumeBytes<unsigned char>(in.ConsumeIntegralInRange<std::size_t>(0, 64));
    for (std::size_t i = 0; i < bytes.size(); ++i) data[i] = bytes[i];
  }

  tlm::tlm_generic_payload trans;
  trans.set_command(cmd);
  trans.set_address(address);
  trans.set_data_ptr(data.data());
  trans.set_data_length(static_cast<unsigned>(length));
  trans.set_streaming_width(static_cast<unsigned>(streaming));
  if (use_enables) {
    trans.set_byte_enable_ptr(enables.data());
    trans.set_byte_enable_length(static_cast<unsigned>(enables.size()));
  }
  trans.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  const expectation want = expected(b, cmd, address, length, streaming, use_enables, b.target->busy());
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
  b.h->socket->b_transport(trans, delay);
  ++tally[want.why];
  if (trans.get_response_status() != want.status) {
    tlm::tlm_generic_payload told;
    told.set_response_status(want.status);
    finding("b_transport at address " + std::to_string(address) + " length " + std::to_string(length) + " (" +
            want.why + "): got " + trans.get_response_string() + ", the register map says " +
            told.get_response_string());
  }
  const bool moved = want.status == tlm::TLM_OK_RESPONSE && cmd != tlm::TLM_IGNORE_COMMAND;
  if (moved != (delay > sc_core::SC_ZERO_TIME)) finding("latency charged to an access that moved no data, or not charged (" + want.why + ")");
  if (moved && cmd == tlm::TLM_READ_COMMAND && address == acc::reg_base + acc::reg::id) {
    const std::uint32_t id = data[0] | (data[1] << 8) | (data[2] << 16) | (std::uint32_t{data[3]} << 24);
    if (id != acc::reg::id_value) finding("ID register reads " + std::to_string(id));
  }
}

void do_debug(FuzzedDataProvider& in, bench& b) {
  std::vector<unsigned char> data(max_data, 0);
  tlm::tlm_generic_payload trans;
  trans.set_command(pick_command(in));
  trans.set_address(pick_address(in, b));
  trans.set_data_ptr(data.data());
  const auto length = in.ConsumeIntegralInRange<unsigned>(0, max_data);
  trans.set_data_length(length);
  trans.set_streaming_width(length);
  const unsigned done = b.h->socket->transport_dbg(trans);
  if (done > length) finding("debug transport moved more bytes than asked");
  ++tally["debug"];
}

void do_dmi(FuzzedDataProvider& in, bench& b) {
  tlm::tlm_generic_payload trans;
  trans.set_command(tlm::TLM_READ_COMMAND);
  trans.set_address(pick_address(in, b));
  tlm::tlm_dmi dmi;
  if (b.h->socket->get_direct_mem_ptr(trans, dmi)) {
    if (dmi.get_dmi_ptr() == nullptr || dmi.get_start_address() > trans.get_address() ||
        dmi.get_end_address() < trans.get_address()) {
      finding("DMI grant that does not cover the address asked for");
    }
    if (b.target->busy()) finding("DMI granted while busy");
    ++tally["dmi granted"];
  } else {
    ++tally["dmi refused"];
  }
}

void write_register(bench& b, std::uint64_t offset, std::uint32_t value) {
  std::array<unsigned char, 4> bytes{};
  for (unsigned i = 0; i < 4; ++i) bytes[i] = static_cast<unsigned char>(value >> (8 * i));
  tlm::tlm_generic_payload trans;
  trans.set_command(tlm::TLM_WRITE_COMMAND);
  trans.set_address(acc::reg_base + offset);
  trans.set_data_ptr(bytes.data());
  trans.set_data_length(4);
  trans.set_streaming_width(4);
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
  b.h->socket->b_transport(trans, delay);
  if (!trans.is_response_ok()) finding("a well-formed write to register " + std::to_string(offset) + " was refused");
}

// A small job that fits the buffers, started, and then one random transaction while it runs: the
// way to the "while busy" answers that random register writes alone reach only rarely.
void start_job_then_transport(FuzzedDataProvider& in, bench& b) {
  // A START is valid only on an idle accelerator whose array has finished too: after an ABORT, or a
  // DONE raised early, the array may still be winding its job down in simulated time, and a START
  // then ends at once with ERROR 5 (docs/tlm-register-map.md).
  if (b.target->busy() || b.target->array.busy()) return;
  write_register(b, acc::reg::m, in.ConsumeIntegralInRange<std::uint32_t>(1, 8));
  write_register(b, acc::reg::k, in.ConsumeIntegralInRange<std::uint32_t>(1, 8));
  write_register(b, acc::reg::n, in.ConsumeIntegralInRange<std::uint32_t>(1, 8));
  for (const std::uint64_t r : {acc::reg::act_offset, acc::reg::wgt_offset, acc::reg::out_offset}) write_register(b, r, 0);
  write_register(b, acc::reg::ctrl, acc::reg::ctrl_start);
  if (!b.target->busy()) finding("a valid START did not make the accelerator busy");
  do_transport(in, b, false);
}

void reset_registers(bench& b) {
  for (std::uint64_t offset = 0; offset <= acc::reg::last; offset += 4) {
    if (writable(offset)) write_register(b, offset, offset == acc::reg::ctrl ? acc::reg::ctrl_clear : 0);
  }
  sc_core::sc_start(sc_core::sc_time(10, sc_core::SC_NS));
}

}  // namespace

// libsystemc calls sc_main from its own main(), which libFuzzer's main replaces; the link still needs it.
int sc_main(int, char**) { return 0; }

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  auto* b = new bench;
  b->cfg.rows = 4;
  b->cfg.cols = 4;
  b->cfg.data_bits = 8;
  b->cfg.acc_bits = 24;
  b->sizes.act_bytes = 4096;
  b->sizes.weight_bytes = 2048;
  b->sizes.out_bytes = 8192;
  b->target = std::make_unique<acc::accelerator>("acc", b->cfg, b->sizes);
  b->h = std::make_unique<host>("host");
  b->irq = std::make_unique<sc_core::sc_signal<bool>>("irq");
  b->h->socket.bind(b->target->socket);
  b->target->irq(*b->irq);
  sc_core::sc_start(sc_core::SC_ZERO_TIME);
  the_bench = b;
  if (const char* t = std::getenv("AXSA_FUZZ_TALLY"); t && *t == '1') std::atexit(print_tally);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  bench& b = *the_bench;
  FuzzedDataProvider in(data, size);
  for (int step = 0; step < 64 && in.remaining_bytes() > 0; ++step) {
    switch (in.ConsumeIntegralInRange<int>(0, 6)) {
      case 0:
      case 1: do_transport(in, b, false); break;
      case 2: do_transport(in, b, true); break;
      case 6: start_job_then_transport(in, b); break;
      case 3: sc_core::sc_start(sc_core::sc_time(in.ConsumeIntegralInRange<int>(0, 3000), sc_core::SC_NS)); break;
      case 4: do_debug(in, b); break;
      case 5: do_dmi(in, b); break;
    }
  }
  // Drain: a job still running must finish (a job that never does is the libFuzzer timeout).
  sc_core::sc_start();
  if (b.target->busy()) finding("still busy after the simulation ran out of events");
  reset_registers(b);
  return 0;
}
