// The only source that sees Vaxsa_ctrl.h (rtl/array/rtl_controller.h). Built into axsa_rtl_models
// with the other verilated code; each instance gets a name of its own, in the thread's default
// context, as the array models do.
#include <atomic>
#include <string>

#include "Vaxsa_ctrl.h"
#include "rtl/array/rtl_controller.h"

namespace axsa::rtl {
namespace {

class controller final : public rtl_controller {
 public:
  controller() : m_name(instance_name()), m_top(m_name.c_str()) {
    m_top.start = 0;
    set_job(0, 0, 0);
    set_stage_masks(false, false, false);
    set_counter_masks(0, 0, 0);
    set_fold_masks(0, 0, 0);
    set_done_masks(false, false, false);
    reset();
  }

  void set_job(std::uint32_t folds, std::uint32_t compute_len, std::uint32_t drain_len) override {
    m_top.folds = folds;
    m_top.compute_len = compute_len;
    m_top.drain_len = drain_len;
  }
  void set_start(bool on) override { m_top.start = on; }
  void set_stage_masks(bool clear, bool set, bool flip) override {
    m_top.stage_clear = clear;
    m_top.stage_set = set;
    m_top.stage_flip = flip;
  }
  void set_counter_masks(std::uint32_t clear, std::uint32_t set, std::uint32_t flip) override {
    m_top.cnt_clear = clear;
    m_top.cnt_set = set;
    m_top.cnt_flip = flip;
  }
  void set_fold_masks(std::uint32_t clear, std::uint32_t set, std::uint32_t flip) override {
    m_top.fold_clear = clear;
    m_top.fold_set = set;
    m_top.fold_flip = flip;
  }
  void set_done_masks(bool clear, bool set, bool flip) override {
    m_top.done_clear = clear;
    m_top.done_set = set;
    m_top.done_flip = flip;
  }

  void reset() override {
    m_top.rst = 1;
    m_top.clk = 0;
    m_top.eval();
    m_top.clk = 1;
    m_top.eval();
    m_top.rst = 0;
    settle();
  }
  void settle() override {
    m_top.clk = 0;
    m_top.eval();
  }
  void clock() override {
    if (m_top.clk) settle();
    m_top.clk = 1;
    m_top.eval();
  }

  state read() const override {
    state s;
    s.busy = m_top.busy != 0;
    s.stage = m_top.stage != 0;
    s.done_q = m_top.done_q != 0;
    s.k_count = m_top.k_count;
    s.d_count = m_top.d_count;
    s.fold = m_top.fold;
    s.stage_now = m_top.stage_now != 0;
    s.counter_now = m_top.cnt_now;
    s.fold_now = m_top.fold_now;
    s.drain = m_top.drain != 0;
    s.error = m_top.error != 0;
    s.done = m_top.done != 0;
    return s;
  }

 private:
  static std::string instance_name() {
    static std::atomic<unsigned> count{0};
    return "axsa_rtl_ctrl_" + std::to_string(count++);
  }

  std::string m_name;
  Vaxsa_ctrl m_top;
};

}  // namespace

std::unique_ptr<rtl_controller> make_controller() { return std::make_unique<controller>(); }

}  // namespace axsa::rtl
