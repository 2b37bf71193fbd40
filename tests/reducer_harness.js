// Runs assets/js/reducer.js under Node for the Python tests (tests/reducer_node.py).
// stdin: a JSON list of steps; stdout: {state, results}, one result per step.
"use strict";

const path = require("path");
const CH = require(path.join(__dirname, "..", "assets", "js", "reducer.js"));

const steps = JSON.parse(require("fs").readFileSync(0, "utf8"));
let state = null;
const results = steps.map((step) => {
  switch (step.op) {
    case "fromSnapshot":
      state = CH.fromSnapshot(step.snapshot);
      return { seq: state.seq };
    case "applyBatch": {
      const before = state;
      const out = CH.applyBatch(state, step.batch);
      state = out.state;
      return { gap: out.gap, applied: out.applied, unchanged: out.state === before };
    }
    case "reduce": {
      const before = state;
      state = CH.reduce(state, step.event);
      return { unchanged: state === before };
    }
    case "rollDay":
      state = CH.rollDay(state, CH.parseTime(step.now));
      return { dayStart: new Date(state.dayStart).toISOString() };
    case "applyPositions": {
      const before = state;
      state = CH.applyPositions(state, step.frame);
      return { unchanged: state === before };
    }
    case "workerCounts":
      return CH.workerCounts(state);
    case "kpis":
      return CH.kpis(state, CH.parseTime(step.now));
    case "latest":
      return CH.latest(state, step.limit).map((c) => c.id);
    case "parseTimes":
      return step.times.map((t) => [CH.parseTime(t), CH.slowParseTime(t)]);
    case "screenFields":
      return CH.SCREEN_FIELDS;
    default:
      throw new Error("unknown step " + step.op);
  }
});
process.stdout.write(JSON.stringify({ state, results }));
