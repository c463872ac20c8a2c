// axsa_ctrl -- the array controller of the RTL twin (docs/rtl.md): the registers hw::array_core
// keeps for a job of the output-stationary dataflow, with the control site's fault masks
// (docs/faults.md, `control`). It sequences the folds of a job: each fold computes for
// compute_len cycles (the K counter counts them), then drains for drain_len cycles (the drain
// counter), then the next fold begins; after the last fold's drain the job ends with a done pulse.
// The operand memories and their address generators stay outside (the lockstep driver asks the
// dataflow descriptor what the feeders present for the registers' fold, stage and counter).
//
// Registers (rising edge of clk; rst, synchronous, clears them all):
//   busy       : a job runs
//   stage      : 0 compute, 1 drain
//   k_count    : cycle of the compute stage (the K counter)
//   d_count    : cycle of the drain stage
//   fold       : the fold being run
//   done_q     : high for the one cycle after the job's last edge (also after an error)
//
// Faults as masks (v' = ((v & ~clear) | set) ^ flip) on the registers as the controller reads them
// in a cycle; what it computes from the corrupted value is what it stores, so a one-cycle flip is
// an upset the counters count on from and a stuck-at holds while it is active:
//   stage_* : the stage register; applied first, because it selects the counter read next
//   cnt_*   : the counter of the stage the (corrupted) stage register selects
//   fold_*  : the fold register; a fold at or past `folds` is the address generator's range
//             error: the job ends at once (error, busy falls) and the driver resets the array
//   done_*  : the done signal, on its way to the accelerator
module axsa_ctrl (
  input             clk,
  input             rst,
  input             start,        // one cycle: begin a job at fold 0, compute, counters zero
  input      [31:0] folds,        // the job's length, held while it runs
  input      [31:0] compute_len,
  input      [31:0] drain_len,
  input             stage_clear,
  input             stage_set,
  input             stage_flip,
  input      [31:0] cnt_clear,
  input      [31:0] cnt_set,
  input      [31:0] cnt_flip,
  input      [31:0] fold_clear,
  input      [31:0] fold_set,
  input      [31:0] fold_flip,
  input             done_clear,
  input             done_set,
  input             done_flip,
  output reg        busy,
  output reg        stage,
  output reg [31:0] k_count,
  output reg [31:0] d_count,
  output reg [31:0] fold,
  output reg        done_q,
  // This cycle's values through the masks, and what follows from them.
  output            stage_now,
  output     [31:0] cnt_now,
  output     [31:0] fold_now,
  output            drain,        // to every PE: the accumulators shift south
  output            error,        // the fold is outside the job
  output            done          // to the accelerator
);

  assign stage_now = ((stage & ~stage_clear) | stage_set) ^ stage_flip;
  wire [31:0] cnt_read = stage_now ? d_count : k_count;
  assign cnt_now  = ((cnt_read & ~cnt_clear) | cnt_set) ^ cnt_flip;
  assign fold_now = ((fold & ~fold_clear) | fold_set) ^ fold_flip;
  assign error    = busy & (fold_now >= folds);
  assign drain    = busy & stage_now;
  assign done     = ((done_q & ~done_clear) | done_set) ^ done_flip;

  wire [31:0] cnt_next = cnt_now + 32'd1;
  // fold_now < folds whenever this is used (no error), so fold_now + 1 does not wrap.
  wire        last_fold = fold_now + 32'd1 >= folds;

  always @(posedge clk) begin
    done_q <= 1'b0;
    if (rst) begin
      busy    <= 1'b0;
      stage   <= 1'b0;
      k_count <= 32'd0;
      d_count <= 32'd0;
      fold    <= 32'd0;
    end else if (start) begin
      busy    <= 1'b1;
      stage   <= 1'b0;
      k_count <= 32'd0;
      d_count <= 32'd0;
      fold    <= 32'd0;
    end else if (error) begin
      busy   <= 1'b0;
      done_q <= 1'b1;
    end else if (busy) begin
      fold  <= fold_now;
      stage <= stage_now;
      if (!stage_now) begin
        k_count <= cnt_next;
        if (cnt_next == compute_len) stage <= 1'b1;
      end else if (cnt_next < drain_len) begin
        d_count <= cnt_next;
      end else if (!last_fold) begin
        fold    <= fold_now + 32'd1;
        stage   <= 1'b0;
        k_count <= 32'd0;
        d_count <= 32'd0;
      end else begin
        d_count <= cnt_next;
        busy    <= 1'b0;
        done_q  <= 1'b1;
      end
    end
  end

endmodule
