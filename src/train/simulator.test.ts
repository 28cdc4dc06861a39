import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseCall } from "../envs/apibank/call.ts";
import { canonical } from "../envs/apibank/executor.ts";
import { foundApiName } from "../envs/apibank/toolsearcher.ts";
import { type Instruction, loadInstructions } from "./index.ts";
import { ReplaySimulator } from "./simulator.ts";
import { fixture } from "./testing/fixture.ts";

const DATA = "/work/shared/data";
const hasData = existsSync(`${DATA}/api-bank/training-data/lv3-train.json`);
const needData = () => {
  if (!hasData) throw new Error(`API-Bank data missing: ${DATA}/api-bank (these tests need it)`);
};

const call = (text: string) => {
  const p = parseCall(text);
  if (!p.ok) throw new Error(`test call does not parse: ${text}`);
  return p.call;
};

describe("replay simulator", () => {
  const all = fixture();
  const weather = all[0] as Instruction;
  const sim = new ReplaySimulator(all);

  it("replays the gold chain, argument spelling aside, and ToolSearcher by the API it finds", async () => {
    const s = sim.start(weather, 0);
    const found = await s.execute(call("[ToolSearcher(keywords='weather')]"));
    expect(found.exception).toBeNull();
    expect(foundApiName(found.output)).toBe("Weather");
    // Other keywords that find the same API get the same recorded result.
    expect(await s.execute(call("[ToolSearcher(keywords='current city weather')]"))).toEqual(found);
    expect(await s.execute(call("[Weather(city=' paris ')]"))).toEqual({
      output: { t: 20 },
      exception: null,
    });
  });

  it("anything else is an error result in API-Bank's wording", async () => {
    const s = sim.start(weather, 0);
    expect(await s.execute(call("[Weather(city='Rome')]"))).toEqual({
      output: null,
      exception: "no recorded result for Weather with these arguments",
    });
    expect(await s.execute(call("[Forecast(city='Paris')]"))).toEqual({
      output: null,
      exception: "no API named Forecast",
    });
    expect((await s.execute(call("[Weather(town='Paris')]"))).exception).toBe(
      "invalid parameter name. parameter: town",
    );
    expect((await s.execute(call("[Weather(unit='C')]"))).exception).toBe(
      "call() missing 1 required positional argument: 'city'",
    );
    // Another instruction's gold call is not this instruction's.
    expect((await s.execute(call("[StockPrice(symbol='ACME')]"))).exception).toBe(
      "no recorded result for StockPrice with these arguments",
    );
    // A search that finds another API returns that API's recorded description, not this instruction's.
    const other = await s.execute(call("[ToolSearcher(keywords='stock symbol price')]"));
    expect(foundApiName(other.output)).toBe("StockPrice");
    expect((await s.execute(call("[ToolSearcher(keywords='zzz qqq')]"))).exception).not.toBeNull();
  });

  it("is deterministic: a fresh simulator and session answer alike", async () => {
    const again = new ReplaySimulator(all).start(weather, 0);
    const s = sim.start(weather, 0);
    for (const text of [
      "[ToolSearcher(keywords='forecast')]",
      "[Weather(city='Rome')]",
      "[Weather(city='Paris')]",
    ])
      expect(await again.execute(call(text))).toEqual(await s.execute(call(text)));
  });

  it("on the real data every gold chain replays to its recorded results under its own sample index", async () => {
    needData();
    const set = loadInstructions(DATA);
    const real = new ReplaySimulator(set.instructions);
    let calls = 0;
    for (const ins of set.instructions) {
      for (const [k, chain] of ins.golds.entries()) {
        const session = real.start(ins, k);
        for (const c of chain.calls) {
          const got = await session.execute(call(c.request));
          expect(got.exception, `${ins.id} chain ${k}: ${c.request}`).toBeNull();
          expect(canonical(got.output), `${ins.id} chain ${k}: ${c.request}`).toBe(canonical(c.output));
          calls++;
        }
      }
    }
    expect(calls).toBe(900);
  });
});
